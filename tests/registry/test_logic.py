"""Table-driven tests of the Python logic engine (registry.logic); no Django, no database.

CASES and SYNTAX_ERRORS are re-used by test_logic_js_agreement.py to check logic.js.
"""

from __future__ import annotations

import datetime
import math
import random

import pytest

from registry.logic import (
    LogicSyntaxError,
    calculate,
    evaluate,
    field_references,
    format_calc,
    is_true,
    parse,
)

TODAY = datetime.date(2024, 3, 15)
NOW = datetime.datetime(2024, 3, 15, 14, 30, 0)
MISSING = ("UNK", "NA", "ND", "NASK", "-99")

VALUES: dict[str, str | list[str]] = {
    "age": "42",
    "weight": "70.5",
    "height": "1.75",
    "blank": "",
    "zero": "0",
    "neg": "-3",
    "unk": "UNK",
    "code99": "-99",
    "txt": "Hello World",
    "num_txt": "007",
    "stage": "2",
    "dob": "1980-06-15",
    "visit": "2024-01-10",
    "visit_dt": "2024-01-10 08:30",
    "bad_date": "2021-02-30",
    "sites": ["1", "3"],
    "none_checked": [],
}

# (expression, expected calculate() string, expected is_true() boolean)
CASES: list[tuple[str, str, bool]] = [
    # arithmetic, precedence, blanks, missing codes
    ("[age] + 1", "43", True),
    ("[age] - 50", "-8", True),
    ("[weight] * 2", "141", True),
    ("[weight] / ([height] ^ 2)", "23.0204081633", True),
    ("[age] / 0", "", False),
    ("[blank] + 1", "", False),
    ("[unk] + 1", "", False),
    ("[code99] * 2", "", False),
    ("[txt] * 2", "", False),
    ("2 + 3 * 4", "14", True),
    ("(2 + 3) * 4", "20", True),
    ("2 ^ 3 ^ 2", "512", True),
    ("-2 ^ 2", "-4", True),
    ("2 ^ -1", "0.5", True),
    ("4 ^ 0.5", "2", True),
    ("(-8) ^ 0.5", "", False),
    ("0 ^ -1", "", False),
    ("10 - 2 - 3", "5", True),
    ("8 / 4 / 2", "1", True),
    ("-[neg]", "3", True),
    ("+[age]", "42", True),
    ("1 / 3", "0.3333333333", True),
    ("2 / 3", "0.6666666667", True),
    ("0.1 + 0.2", "0.3", True),
    ("100000000 * 100000000", "10000000000000000", True),
    ("-0.00000000004", "0", True),  # truthiness uses the unrounded value
    ("[weight] + 0", "70.5", True),
    # comparisons: numeric vs text, blanks, missing codes
    ("[age] = 42", "1", True),
    ("[age] = '42'", "1", True),
    ("[age] = '42.0'", "1", True),
    ("[num_txt] = 7", "1", True),
    ("[age] <> 42", "0", False),
    ("[age] != 41", "1", True),
    ("[age] == 42", "1", True),
    ("[age] > 40 and [age] <= 42", "1", True),
    ("[age] >= 43 or [age] < 10", "0", False),
    ("[blank] = ''", "1", True),
    ('[blank] = ""', "1", True),
    ("[blank] > 5", "0", False),
    ("[blank] < 5", "0", False),
    ("[blank] <> 5", "1", True),
    ("[blank] <> ''", "0", False),
    ("[unk] = 'UNK'", "1", True),
    ("[unk] > 5", "0", False),
    ("[code99] = -99", "1", True),
    ("[txt] = 'Hello World'", "1", True),
    ("[txt] = 'hello world'", "0", False),
    ("'abc' < 'abd'", "1", True),
    ("'10' > '9'", "1", True),
    ("[dob] < '1990-01-01'", "1", True),
    ("[visit] > [dob]", "1", True),
    ("[dob] < 5", "0", False),
    ("[blank] < 'abc'", "0", False),
    ("'abc' >= [blank]", "0", False),
    ("[not_in_record] = ''", "1", True),
    ("[blank] + 1 = ''", "1", True),
    # boolean operators, case-insensitivity, precedence
    ("not [age] = 42", "0", False),
    ("NOT ([age] = 42) OR [stage] = '2'", "1", True),
    ("[age] = 42 AnD [stage] = 3", "0", False),
    ("[age] = 42 && [stage] = 2", "1", True),
    ("[age] = 1 || [stage] = 2", "1", True),
    ("![blank] = ''", "0", False),
    ("[age] = 1 or [age] = 42 and [stage] = 9", "0", False),
    ("([age] = 1 or [age] = 42) and [stage] = 2", "1", True),
    ("([age] > 1) + ([stage] > 1) + ([zero] > 1)", "2", True),
    ("true", "1", True),
    ("FALSE", "0", False),
    # checkboxes
    ("[sites(1)] = '1'", "1", True),
    ("[sites(2)] = '1'", "0", False),
    ("[sites(2)] = 0", "1", True),
    ("[sites(1)] + [sites(2)] + [sites(3)]", "2", True),
    ("[sites] = ''", "1", True),
    ("[none_checked(1)] = '0'", "1", True),
    ("[sites(2)]", "0", False),
    # functions
    ("if([age] > 40, 'old', 'young')", "old", True),
    ("IF([age] > 50, 1, 0)", "0", False),
    ("if([blank], 1, 2)", "2", True),
    ("if([sites(3)] = 1, [age] * 2, [blank])", "84", True),
    ("sum([age], [blank], [unk], 8)", "50", True),
    ("sum([blank], [unk])", "", False),
    ("min([age], [neg], [blank])", "-3", True),
    ("MAX([age], [weight], [code99])", "70.5", True),
    ("mean([age], [weight], [blank])", "56.25", True),
    ("round(2.675, 2)", "2.68", True),
    ("round(-2.5)", "-3", True),
    ("round(1234.5678, -2)", "1200", True),
    ("Round([weight] / 3, 1)", "23.5", True),
    ("rounddown(2.679, 2)", "2.67", True),
    ("rounddown(-2.679, 2)", "-2.67", True),
    ("roundup(2.671, 2)", "2.68", True),
    ("roundup(-2.671, 1)", "-2.7", True),
    ("round([blank], 2)", "", False),
    ("abs([neg])", "3", True),
    ("sqrt(16)", "4", True),
    ("sqrt(-1)", "", False),
    ("isblankormissingcode([blank])", "1", True),
    ("isblankormissingcode([unk])", "1", True),
    ("isblankormissingcode([code99])", "1", True),
    ("isBlankOrMissingCode([age])", "0", False),
    ("isnumber([age])", "1", True),
    ("isnumber([txt])", "0", False),
    ("isnumber([blank])", "0", False),
    ("contains([txt], 'world')", "1", True),
    ("contains([txt], 'xyz')", "0", False),
    ("not_contain([txt], 'xyz')", "1", True),
    ("starts_with([txt], 'hel')", "1", True),
    ("ends_with([txt], 'WORLD')", "1", True),
    # dates
    ("datediff([dob], [visit], 'y')", "43.5710521092", True),
    ("datediff([visit], [dob], 'y')", "43.5710521092", True),
    ("datediff([visit], [dob], 'y', true)", "-43.5710521092", True),
    ("datediff([visit], [dob], 'y', 'ymd', true)", "-43.5710521092", True),
    ("datediff([visit], [dob], 'y', 'ymd', false)", "43.5710521092", True),
    ("datediff([dob], 'today', 'd')", "15979", True),
    ("datediff([visit], today, 'M')", "2.135348226", True),
    ("datediff([visit], [visit_dt], 'h')", "8.5", True),
    ("datediff([visit_dt], now, 'm')", "93960", True),
    ("datediff([blank], [visit], 'd')", "", False),
    ("datediff([bad_date], [visit], 'd')", "", False),
    ("datediff([unk], [visit], 'd')", "", False),
    ("datediff('2024-02-28', '2024-03-01', 'd')", "2", True),
    ("datediff('2023-02-28', '2023-03-01', 'd')", "1", True),
    ("datediff('01-31-2024', '03-01-2024', 'd', 'mdy')", "30", True),
    ("datediff('31-01-2024', '01-03-2024', 'd', 'dmy')", "30", True),
    ("datediff('2024-01-01 00:00:00', '2024-01-01 00:00:30', 's')", "30", True),
    ("DateDiff([dob], today, 'y') >= 18", "1", True),
    ("[visit] <= today", "1", True),
    ("round(datediff([dob], [visit], 'y'), 0)", "44", True),
    ("rounddown(datediff([dob], [visit], 'y'))", "43", True),
    # bare values
    ("[age]", "42", True),
    ("[zero]", "0", False),
    ("[txt]", "Hello World", True),
    ("[blank]", "", False),
    ("[num_txt]", "7", True),
    ("'  '", "", False),
    ("", "", True),
    ("   ", "", True),
]

# (expression, position, message)
SYNTAX_ERRORS: list[tuple[str, int, str]] = [
    ("[age] +", 7, "unexpected end of expression"),
    ("foo([age])", 0, "unknown function 'foo'"),
    ("round(1, 2, 3)", 0, "round() takes 1 to 2 argument(s), got 3"),
    ("sum()", 0, "sum() takes 1 or more argument(s), got 0"),
    ("if(1, 2)", 0, "if() takes 3 argument(s), got 2"),
    ("[age", 4, "expected ']'"),
    ("[age(]", 5, "invalid checkbox code"),
    ("[]", 1, "invalid field name"),
    ("'abc", 0, "unterminated string"),
    ("1 < 2 < 3", 6, "comparisons cannot be chained"),
    ("datediff([a], [b], 'w')", 19, "invalid datediff unit 'w'"),
    ("(1 + 2", 0, "missing ')' for '(' opened"),
    ("1 2", 2, "unexpected number 2"),
    ("[age] = 1 and", 13, "unexpected end of expression"),
    ("[age] # 1", 6, "unexpected character '#'"),
    ("[age] & 1", 6, "unexpected character '&'"),
    ("bogus = 1", 0, "unknown identifier 'bogus'"),
    ("if [a] = 1", 3, "expected '(' after if"),
    ("1 + not 2", 4, "unexpected 'not'"),
    ("sum(1,)", 6, "unexpected ')'"),
    (")", 0, "unexpected ')'"),
    ("[a] = 'x' [b]", 10, "unexpected field [b]"),
    ("", 0, "empty expression"),
    ("(" * 60 + "1" + ")" * 60, 50, "expression is nested too deeply"),
]


def run(expression: str) -> tuple[str, bool]:
    kw = {"missing_codes": MISSING, "today": TODAY, "now": NOW}
    return calculate(expression, VALUES, **kw), is_true(expression, VALUES, **kw)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert len({expression for expression, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("expression", "calc", "truth"), CASES)
def test_case_table(expression: str, calc: str, truth: bool) -> None:
    assert run(expression) == (calc, truth)


@pytest.mark.parametrize(("expression", "position", "message"), SYNTAX_ERRORS)
def test_syntax_errors_report_position(expression: str, position: int, message: str) -> None:
    with pytest.raises(LogicSyntaxError) as caught:
        parse(expression)
    assert (caught.value.position, caught.value.message) == (position, message)
    assert str(caught.value) == f"{message} at position {position}"
    assert isinstance(caught.value, ValueError)


def test_long_operator_chain_is_rejected_not_crashing() -> None:
    with pytest.raises(LogicSyntaxError, match="nested too deeply"):
        parse("1" + " + 1" * 300)
    assert calculate("1" + " + 1" * 150, {}) == "151"


def test_errors_surface_through_evaluate_and_helpers() -> None:
    for function in (evaluate, is_true, calculate):
        with pytest.raises(LogicSyntaxError):
            function("[a] = ", {})


def test_field_references() -> None:
    assert field_references("[stage]='1' and [sites(2)]='1'") == {"stage", "sites"}
    expression = "if([a] > 1, sum([b], [c(3)]), datediff([d], today, 'y'))"
    assert field_references(expression) == {"a", "b", "c", "d"}
    assert field_references(parse("1 + 2")) == set()


def test_evaluate_return_types() -> None:
    assert evaluate("[a] + 1", {"a": "2"}) == 3.0
    assert evaluate("[a] + 1", {"a": ""}) == ""
    assert evaluate("[a] > 1", {"a": "2"}) is True
    assert evaluate(parse("[a] * 2"), {"a": "2.5"}) == 5.0
    assert parse("[a] + 1") is parse("[a] + 1")  # cached


def test_today_and_now_default_to_the_clock() -> None:
    assert is_true("datediff('2000-01-01', today, 'd') > 8000", {})
    assert is_true("[d] < now", {"d": "2000-01-01 10:00"})
    assert calculate("datediff(today, [d], 'd')", {"d": "2024-03-20"}, today=TODAY) == "5"


def test_missing_codes_only_apply_when_given() -> None:
    assert calculate("[x] + 1", {"x": "-99"}) == "-98"
    assert calculate("[x] + 1", {"x": "-99"}, missing_codes=["-99"]) == ""
    assert is_true("isblankormissingcode([x])", {"x": "NA"}, missing_codes=["NA"])
    assert not is_true("isblankormissingcode([x])", {"x": "NA"})


def test_checkbox_value_shapes() -> None:
    assert is_true("[c(2)] = 1", {"c": ["1", "2"]})
    assert is_true("[c(2)] = 1", {"c": "1,2"})
    assert is_true("[c(2)] = 1", {"c": {"1": "0", "2": "1"}})
    assert is_true("[c(-9)] = 1", {"c": ["-9"]})
    assert is_true("[c(1)] = 0", {})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        (5.0, "5"),
        (5, "5"),
        (-0.0, "0"),
        (True, "1"),
        (False, "0"),
        (2.5, "2.5"),
        (1 / 3, "0.3333333333"),
        (0.12345678915, "0.1234567892"),
        (123456789.123456789, "123456789.12345679"),
        (1e21, "1000000000000000000000"),
        (1.5e-7, "0.00000015"),
        (float("nan"), ""),
        (float("inf"), ""),
        ("5.50", "5.5"),
        ("abc", "abc"),
    ],
)
def test_format_calc(value: object, text: str) -> None:
    assert format_calc(value) == text


def test_power_is_accurate() -> None:
    """``^`` avoids libm (for JS agreement) yet stays within a few ulps of math.pow."""
    from registry.logic.power import power

    rng = random.Random(20240315)
    for _ in range(3000):
        base = rng.choice([rng.uniform(0, 10), rng.uniform(0, 1e6), math.exp(rng.uniform(-50, 50))])
        exponent = rng.choice([rng.uniform(-10, 10), rng.uniform(-60, 60)])
        try:
            expected = math.pow(base, exponent)
        except OverflowError:
            continue
        if expected < 1e-300:
            continue
        assert power(base, exponent) == pytest.approx(expected, rel=1e-15, abs=0)
    assert power(16.0, 0.5) == 4.0
    assert power(10.0, 100.0) == 1e100
    assert power(-2.0, 65.0) == -(2.0**65)
    assert power(1.0, 1e300) == 1.0
    assert power(0.0, -0.3) == ""
    assert power(-8.0, 1 / 3) == ""
    assert power(1e300, 1.5) == ""
