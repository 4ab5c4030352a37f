"""logic.js (run under node) must agree with the Python engine on every expression.

Cases are written to one JSON file per batch and evaluated by a single node process
(tests/registry/logic_node_runner.js); calculate() strings, is_true() booleans, raw evaluate()
values (bit for bit) and syntax-error positions/messages are compared.
"""

from __future__ import annotations

import datetime
import json
import math
import random
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from registry.logic import LogicSyntaxError, calculate, evaluate, is_true
from tests.tools import require_node

from .test_logic import CASES, MISSING, NOW, SYNTAX_ERRORS, TODAY, VALUES

NODE = shutil.which("node") or "/usr/bin/node"
RUNNER = Path(__file__).with_name("logic_node_runner.js")


@pytest.fixture(autouse=True)
def _node():
    require_node()


def python_result(case: dict[str, Any]) -> dict[str, Any]:
    """What logic_node_runner.js reports, computed with the Python engine."""
    kw = {
        "missing_codes": case["missing_codes"],
        "today": TODAY,
        "now": NOW,
    }
    try:
        blank = case["expr"].strip() == ""
        return {
            "ok": True,
            "calc": calculate(case["expr"], case["values"], **kw),
            "truth": is_true(case["expr"], case["values"], **kw),
            "value": None if blank else evaluate(case["expr"], case["values"], **kw),
        }
    except LogicSyntaxError as error:
        return {"ok": False, "message": error.message, "position": error.position}


def typed(result: dict[str, Any]) -> dict[str, Any]:
    """Make raw values comparable across JSON: numbers exactly, booleans not equal to 1/0."""
    value = result.get("value")
    if isinstance(value, bool):
        return {**result, "value": ("bool", value)}
    if isinstance(value, int | float):
        return {**result, "value": ("number", float(value))}
    return result


def run_node(cases: list[dict[str, Any]], tmp_dir: Path) -> list[dict[str, Any]]:
    path = tmp_dir / "logic_cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    completed = subprocess.run(
        [NODE, str(RUNNER), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def make_case(expr: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "expr": expr,
        "values": values,
        "missing_codes": list(MISSING),
        "today": TODAY.isoformat(),
        "now": NOW.strftime("%Y-%m-%d %H:%M:%S"),
    }


def assert_agreement(cases: list[dict[str, Any]], tmp_dir: Path) -> None:
    js_results = run_node(cases, tmp_dir)
    assert len(js_results) == len(cases)
    mismatches = [
        (case["expr"], case["values"], py, js)
        for case, js in zip(cases, js_results, strict=True)
        if typed(py := python_result(case)) != typed(js)
    ]
    assert not mismatches, "\n".join(map(repr, mismatches[:10]))


def test_case_table_agrees(tmp_path: Path) -> None:
    cases = [make_case(expr, VALUES) for expr, _, _ in CASES]
    cases += [make_case(expr, VALUES) for expr, _, _ in SYNTAX_ERRORS]
    cases.append(make_case("1" + " + 1" * 300, {}))
    assert_agreement(cases, tmp_path)


def test_case_table_expectations_hold_in_js(tmp_path: Path) -> None:
    results = run_node([make_case(expr, VALUES) for expr, _, _ in CASES], tmp_path)
    got = [(r["calc"], r["truth"]) for r in results]
    assert got == [(calc, truth) for _, calc, truth in CASES]


def test_numeric_edge_cases_agree(tmp_path: Path) -> None:
    expressions = [
        "round([x], 2)",
        "roundup([x], 3)",
        "rounddown([x], -1)",
        "[x] / 7",
        "[x] * 1000000",
        "[x] ^ 3",
        "sqrt(abs([x]))",
        "[x] > 0.5",
        "[x] = 1",
    ]
    numbers = ["0", "1", "-1", "2.675", "1.005", "0.5", "-0.5", "1e5", "123456789.987654321"]
    numbers += ["0.000000000049", "99999999999999999999", "1" * 400, ".5", "5.", "+3", "-0"]
    cases = [make_case(e, {"x": n}) for e in expressions for n in numbers]
    assert_agreement(cases, tmp_path)


def test_powers_agree_to_the_last_digit(tmp_path: Path) -> None:
    bases = ["0.5", "1.5", "2", "10", "70", "175", "1000000", "123456.789", "0.0001", "-2"]
    exponents = ["0.425", "0.725", "-1.3", "3.7", "12.5", "100", "-0.5", "2.675", "-71", "300.1"]
    expressions = ["[x] ^ [y]", "[x] ^ [y] * 1000000000000", "0.007184 * [x]^0.425 * [y]^0.725"]
    cases = [make_case(e, {"x": x, "y": y}) for e in expressions for x in bases for y in exponents]
    assert_agreement(cases, tmp_path)


def test_many_random_powers_agree_bit_for_bit(tmp_path: Path) -> None:
    rng = random.Random(7)

    def plain(number: float) -> str:
        return format(Decimal(repr(number)), "f")

    cases = []
    for _ in range(5000):
        base = rng.choice([rng.uniform(0, 10), rng.uniform(0, 1e6), math.exp(rng.uniform(-80, 80))])
        exponent = rng.choice([rng.uniform(-10, 10), rng.uniform(-100, 100)])
        cases.append(make_case("[x] ^ [y]", {"x": plain(base), "y": plain(exponent)}))
    assert_agreement(cases, tmp_path)


# ----------------------------------------------------------------- random expressions

NUMERIC_VALUES = ["", "0", "1", "2", "-3.5", "10", "2.675", "0.1", "UNK", "NA", "-99", "abc"]
DATE_VALUES = ["", "2020-01-01", "2024-02-29", "2023-12-31 23:59", "2021-06-15 08:30:15"]
DATE_VALUES += ["UNK", "2021-02-30", "1999-07-04", "2024-03-15"]
TEXT_VALUES = ["", "hello", "Hello World", "5", "UNK", "2020-01-01"]
CHECKBOX_CODES = ["1", "2", "3", "-9", "UNK"]
UNITS = ["'y'", "'M'", "'d'", "'h'", "'m'", "'s'", '"d"']


def spelled(word: str) -> st.SearchStrategy[str]:
    """A keyword or function name in random letter case."""
    return st.sampled_from([word, word.upper(), word.capitalize()])


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(0, 100).map(str),
        st.floats(0, 1000, allow_nan=False).map(lambda f: f"{f:.3f}"),
        st.sampled_from(["0.5", "2.675", "1.005", ".25", "0", "3"]),
    )


def leaves(calc_only: bool) -> st.SearchStrategy[str]:
    numeric = st.sampled_from(["[a]", "[b]", "[c]"])
    checkbox = st.sampled_from([*CHECKBOX_CODES, "4"]).map(lambda c: f"[chk({c})]")
    if calc_only:
        return st.one_of(numeric, numeric, numbers(), checkbox)
    fields = st.sampled_from(["[a]", "[b]", "[c]", "[d1]", "[d2]", "[t]", "[nope]", "[chk]"])
    strings = st.sampled_from(["''", "'abc'", "'5'", '"2020-01-01"', "'UNK'", "'hello'", '"1"'])
    keywords = st.one_of(spelled("today"), spelled("now"), spelled("true"), spelled("false"))
    return st.one_of(fields, fields, numbers(), numbers(), checkbox, strings, keywords)


def datediffs(atoms: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    literal = st.sampled_from(["'2022-05-01'", "'today'", "today", "now", "'2020-02-29 12:00'"])
    fields = st.sampled_from(["[d1]", "[d2]"])
    date = st.one_of(fields, fields, fields, literal, atoms)
    unit = st.sampled_from(UNITS)
    args = st.one_of(
        st.tuples(date, date, unit),
        st.tuples(date, date, unit, st.sampled_from(["true", "'ymd'", "'true'"])),
        st.tuples(date, date, unit, st.just("'ymd'"), st.sampled_from(["true", "false"])),
    )
    return st.tuples(spelled("datediff"), args).map(lambda t: f"{t[0]}({', '.join(t[1])})")


def composites(atoms: st.SearchStrategy[str], calc_only: bool) -> st.SearchStrategy[str]:
    """Parenthesised operator chains and function calls over ``atoms`` (always valid)."""
    space = st.sampled_from(["", " "])
    cmp_op = st.sampled_from(["=", "==", "<>", "!=", "<", ">", "<=", ">="])
    logic_op = st.one_of(spelled("and"), spelled("or"), st.sampled_from(["&&", "||"]))
    negated = st.tuples(st.sampled_from(["", "", "-", "- "]), atoms).map("".join)

    def chain(ops: st.SearchStrategy[str], terms: st.SearchStrategy[str], sep: st.SearchStrategy):
        pairs = st.lists(st.tuples(sep, ops, sep, terms), min_size=1, max_size=3)
        return st.tuples(terms, pairs).map(lambda t: t[0] + "".join("".join(p) for p in t[1]))

    def call(name: str, *args: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.tuples(spelled(name), *args).map(lambda t: f"{t[0]}({', '.join(t[1:])})")

    def variadic(name: str) -> st.SearchStrategy[str]:
        args = st.lists(atoms, min_size=1, max_size=4)
        return st.tuples(spelled(name), args).map(lambda t: f"{t[0]}({', '.join(t[1])})")

    arithmetic = chain(st.sampled_from(["+", "-", "*", "/", "^"]), negated, space)
    comparison = st.tuples(negated, space, cmp_op, space, negated).map("".join)
    not_prefix = st.one_of(st.just(""), spelled("not").map(lambda w: w + " "), st.just("!"))
    logic = chain(logic_op, st.tuples(not_prefix, atoms).map("".join), st.just(" "))
    places = st.sampled_from(["0", "1", "2", "-1", "[a]"])
    numeric_calls = [
        datediffs(atoms),
        datediffs(atoms),
        call("if", comparison, atoms, atoms),
        variadic("sum"),
        variadic("min"),
        variadic("max"),
        variadic("mean"),
        call("round", atoms, places),
        call("rounddown", atoms, places),
        call("roundup", atoms),
        call("abs", atoms),
        call("sqrt", atoms),
    ]
    if calc_only:
        return st.one_of(arithmetic.map(lambda s: f"({s})"), *numeric_calls)
    text_calls = [
        call("if", atoms, atoms, atoms),
        call("isblankormissingcode", atoms),
        call("isnumber", atoms),
        call("contains", atoms, atoms),
        call("not_contain", atoms, atoms),
        call("starts_with", atoms, atoms),
        call("ends_with", atoms, atoms),
    ]
    flat = st.one_of(arithmetic, arithmetic, comparison, logic).map(lambda s: f"({s})")
    return st.one_of(flat, *numeric_calls, *text_calls)


expressions = st.recursive(leaves(False), lambda a: composites(a, False), max_leaves=12)
calc_expressions = st.recursive(leaves(True), lambda a: composites(a, True), max_leaves=10)

record_values = st.fixed_dictionaries(
    {
        "a": st.sampled_from(NUMERIC_VALUES),
        "b": st.one_of(
            st.sampled_from(NUMERIC_VALUES),
            st.floats(-1000, 1000, allow_nan=False).map(lambda f: f"{f:.4f}"),
        ),
        "c": st.sampled_from(NUMERIC_VALUES),
        "d1": st.sampled_from(DATE_VALUES),
        "d2": st.one_of(
            st.sampled_from(DATE_VALUES),
            st.dates(datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)).map(str),
            st.datetimes(datetime.datetime(1900, 1, 1), datetime.datetime(2100, 12, 31)).map(
                lambda d: d.strftime("%Y-%m-%d %H:%M:%S")
            ),
        ),
        "t": st.sampled_from(TEXT_VALUES),
        "chk": st.lists(st.sampled_from(CHECKBOX_CODES), unique=True),
    }
)

BATCH = 60
RANDOM_SETTINGS = settings(
    max_examples=5,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a batch failure already lists its mismatches
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_batch(batch: list[tuple[str, dict[str, Any]]], tmp_dir: Path) -> None:
    cases = [make_case(expr, values) for expr, values in batch]
    for case in cases:  # the generators only build valid expressions
        assert python_result(case)["ok"], case["expr"]
    assert_agreement(cases, tmp_dir)


@RANDOM_SETTINGS
@given(batch=st.lists(st.tuples(expressions, record_values), min_size=BATCH, max_size=BATCH))
def test_random_expressions_agree(
    batch: list[tuple[str, dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    check_batch(batch, tmp_path_factory.mktemp("logic"))


@RANDOM_SETTINGS
@given(batch=st.lists(st.tuples(calc_expressions, record_values), min_size=BATCH, max_size=BATCH))
def test_random_calculations_agree(
    batch: list[tuple[str, dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    check_batch(batch, tmp_path_factory.mktemp("logic"))
