"""Evaluate parsed logic against a record's stored values (REDCap semantics, no eval)."""

from __future__ import annotations

import datetime
import operator
from collections.abc import Mapping, Sequence
from typing import Any

from .functions import BUILTINS, Context, missing_set
from .numeric import (
    as_number,
    as_text,
    finite_or_blank,
    format_calc,
    is_number_text,
    strip,
    truthy,
)
from .parser import Binary, Bool, Call, Field, Keyword, Node, Num, Str, Unary, children, parse
from .power import power


def _node(expression_or_node: str | Node) -> Node:
    if isinstance(expression_or_node, str):
        return parse(expression_or_node)
    return expression_or_node


def field_references(expression_or_node: str | Node) -> set[str]:
    """Base field names referenced: ``{"stage", "sites"}`` for ``[sites(2)]='1' and [stage]``."""
    names: set[str] = set()
    stack = [_node(expression_or_node)]
    while stack:
        node = stack.pop()
        if isinstance(node, Field):
            names.add(node.name)
        stack.extend(children(node))
    return names


def _checked_codes(raw: Any) -> set[str]:
    if raw is None:
        return set()
    if isinstance(raw, str):
        return {strip(code) for code in raw.split(",")}
    if isinstance(raw, Mapping):  # {"1": "1", "2": "0"} style
        return {as_text(code) for code, checked in raw.items() if truthy(checked)}
    return {as_text(code) for code in raw}


def _field(node: Field, values: Mapping[str, Any]) -> str:
    raw = values.get(node.name)
    if node.code is not None:
        return "1" if node.code in _checked_codes(raw) else "0"
    if raw is None or not isinstance(raw, str | bool | int | float):
        return ""  # unknown field, or a checkbox referenced without an option code
    return raw if isinstance(raw, str) else as_text(raw)


_ORDER = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _compare(op: str, left: Any, right: Any) -> bool:
    """Numeric when both sides look numeric; otherwise text (ordering only text vs text)."""
    a, b = as_number(left), as_number(right)
    if a is None or b is None:
        a, b = as_text(left), as_text(right)
        if op not in ("=", "<>") and (a == "" or b == "" or is_number_text(a) or is_number_text(b)):
            return False
    return _ORDER[op](a, b)


def _arithmetic(op: str, left: Any, right: Any, ctx: Context) -> float | str:
    a, b = as_number(left, ctx.missing), as_number(right, ctx.missing)
    if a is None or b is None:
        return ""
    if op == "+":
        return finite_or_blank(a + b)
    if op == "-":
        return finite_or_blank(a - b)
    if op == "*":
        return finite_or_blank(a * b)
    if op == "/":
        return "" if b == 0 else finite_or_blank(a / b)
    return power(a, b)


def _eval(node: Node, ctx: Context) -> Any:
    if isinstance(node, Field):
        return _field(node, ctx.values)
    if isinstance(node, Num | Str | Bool):
        return node.value
    if isinstance(node, Keyword):
        return ctx.today if node.name == "today" else ctx.now
    if isinstance(node, Unary):
        value = _eval(node.operand, ctx)
        if node.op == "not":
            return not truthy(value)
        number = as_number(value, ctx.missing)
        if number is None:
            return ""
        return -number if node.op == "neg" else number
    if isinstance(node, Binary):
        if node.op == "and":
            return truthy(_eval(node.left, ctx)) and truthy(_eval(node.right, ctx))
        if node.op == "or":
            return truthy(_eval(node.left, ctx)) or truthy(_eval(node.right, ctx))
        left, right = _eval(node.left, ctx), _eval(node.right, ctx)
        if node.op in ("+", "-", "*", "/", "^"):
            return _arithmetic(node.op, left, right, ctx)
        return _compare(node.op, left, right)
    if isinstance(node, Call):
        if node.name == "if":
            chosen = node.args[1] if truthy(_eval(node.args[0], ctx)) else node.args[2]
            return _eval(chosen, ctx)
        return BUILTINS[node.name]([_eval(arg, ctx) for arg in node.args], ctx)
    raise TypeError(f"not a logic node: {node!r}")


def evaluate(
    expression_or_node: str | Node,
    values: Mapping[str, str | list[str]],
    *,
    missing_codes: Sequence[str] = (),
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Any:
    """Evaluate an expression: returns bool, float, str, or '' for a blank calc result."""
    if now is None:
        now = datetime.datetime.now(datetime.UTC).astimezone().replace(tzinfo=None)
        if today is not None:
            now = datetime.datetime.combine(today, now.time())
    if today is None:
        today = now.date()
    elif isinstance(today, datetime.datetime):
        today = today.date()
    ctx = Context(
        values=values,
        missing=missing_set(missing_codes),
        today=today.isoformat(),
        now=now.strftime("%Y-%m-%d %H:%M:%S"),
    )
    return _eval(_node(expression_or_node), ctx)


def is_true(expression: str | Node, values: Mapping[str, str | list[str]], **kw: Any) -> bool:
    """Branching logic: True when the field should show; an empty expression is True."""
    if isinstance(expression, str) and strip(expression) == "":
        return True
    return truthy(evaluate(expression, values, **kw))


def calculate(expression: str | Node, values: Mapping[str, str | list[str]], **kw: Any) -> str:
    """Calculated field: evaluate and format for storage ('' when blank)."""
    if isinstance(expression, str) and strip(expression) == "":
        return ""
    return format_calc(evaluate(expression, values, **kw))
