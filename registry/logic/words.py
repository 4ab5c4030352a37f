"""REDCap logic read aloud: ``[site_of_origin] = '6'`` becomes "Site of origin is Other (6)".

The codebook shows branching logic and calculations in words for people who do not read the
syntax. The expression is parsed by the same parser the forms use (never matched with regular
expressions), so the words say what the forms do. Field names become what ``label`` returns
and choice codes what ``choice`` returns (plain text, from the dictionary); an expression that
does not parse comes back verbatim.
"""

from __future__ import annotations

from collections.abc import Callable

from .lexer import LogicSyntaxError
from .parser import Binary, Bool, Call, Field, Keyword, Node, Num, Str, Unary, parse

__all__ = ["logic_in_words"]

COMPARISON_WORDS = {
    "=": "is",
    "<>": "is not",
    "<": "is less than",
    ">": "is greater than",
    "<=": "is at most",
    ">=": "is at least",
}
DATEDIFF_UNITS = {"y": "years", "M": "months", "d": "days", "h": "hours", "m": "minutes"}
DATEDIFF_UNITS["s"] = "seconds"
LabelOf = Callable[[str], str]
ChoiceOf = Callable[[str, str], str | None]


def logic_in_words(expression: str, *, label: LabelOf, choice: ChoiceOf) -> str:
    """``label(name)``: how to call a field; ``choice(name, code)``: the label of a code of
    that field, or None when the field has no such choice."""
    if not expression.strip():
        return ""
    try:
        node = parse(expression)
    except LogicSyntaxError:
        return expression
    return _Words(label, choice).say(node, parent="")


class _Words:
    def __init__(self, label: LabelOf, choice: ChoiceOf) -> None:
        self.label = label
        self.choice = choice

    def say(self, node: Node, parent: str) -> str:
        if isinstance(node, Binary):
            if node.op in ("and", "or"):
                text = f"{self.say(node.left, node.op)} {node.op} {self.say(node.right, node.op)}"
                return f"({text})" if parent in ("and", "or") and parent != node.op else text
            if node.op in COMPARISON_WORDS:
                return self.comparison(node)
            text = f"{self.say(node.left, 'arith')} {node.op} {self.say(node.right, 'arith')}"
            return f"({text})" if parent == "arith" else text
        if isinstance(node, Unary):
            if node.op == "not":
                return f"not ({self.say(node.operand, 'not')})"
            return ("-" if node.op == "neg" else "+") + self.say(node.operand, "arith")
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, Str):
            return "empty" if node.value == "" else f"'{node.value}'"
        if isinstance(node, Num):
            return f"{node.value:g}"
        if isinstance(node, Bool):
            return "true" if node.value else "false"
        if isinstance(node, Keyword):
            return node.name
        if isinstance(node, Call):
            return self.call(node)
        return ""

    def field(self, node: Field) -> str:
        if node.code is None:
            return self.label(node.name)
        option = self.choice(node.name, node.code)
        return f"{self.label(node.name)}: {option or node.code}"

    def comparison(self, node: Binary) -> str:
        left, right, op = node.left, node.right, node.op
        if isinstance(left, Str | Num) and isinstance(right, Field):
            left, right = right, left
            op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
        if isinstance(left, Field) and isinstance(right, Str | Num):
            value = right.value if isinstance(right, Str) else f"{right.value:g}"
            if left.code is not None and op in ("=", "<>") and value in ("0", "1"):
                checked = (value == "1") == (op == "=")
                return f"{self.field(left)} is {'checked' if checked else 'not checked'}"
            if value == "" and op in ("=", "<>"):
                return f"{self.field(left)} {'is empty' if op == '=' else 'is not empty'}"
            option = self.choice(left.name, value) if left.code is None else None
            shown = f"{option} ({value})" if option else self.say(right, "cmp")
            return f"{self.field(left)} {COMPARISON_WORDS[op]} {shown}"
        words = COMPARISON_WORDS[op]
        return f"{self.say(left, 'cmp')} {words} {self.say(right, 'cmp')}"

    def call(self, node: Call) -> str:
        args = list(node.args)
        if node.name == "datediff" and len(args) >= 3 and isinstance(args[2], Str):
            unit = DATEDIFF_UNITS.get(args[2].value, args[2].value)
            start, end = (self.say(a, "call") for a in args[:2])
            return f"{unit} between {start} and {end}"
        if node.name == "if" and len(args) == 3:
            cond, yes, no = (self.say(a, "call") for a in args)
            return f"if {cond} then {yes} else {no}"
        return f"{node.name}({', '.join(self.say(a, 'call') for a in args)})"
