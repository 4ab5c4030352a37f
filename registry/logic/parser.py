"""Recursive-descent parser producing an immutable AST for REDCap logic.

Precedence, loosest first: ``or``/``||``; ``and``/``&&``; prefix ``not``/``!``; one comparison
(``= == <> != < > <= >=``, not chainable); ``+ -``; ``* /``; unary ``- +``; ``^`` (right
associative, binds tighter than unary minus: ``-2^2`` is -4).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .lexer import LogicSyntaxError, Token, tokenize


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    pos: int


@dataclass(frozen=True, slots=True)
class Str:
    value: str
    pos: int


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    pos: int


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    code: str | None
    pos: int


@dataclass(frozen=True, slots=True)
class Keyword:
    name: str  # "today" or "now"
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "neg", "pos" or "not"
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "+ - * / ^ = <> < > <= >= and or"
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower-case function name
    args: tuple[Node, ...]
    pos: int


Node = Num | Str | Bool | Field | Keyword | Unary | Binary | Call

# name -> (minimum, maximum or None for unbounded) number of arguments
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "if": (3, 3),
    "datediff": (3, 5),
    "sum": (1, None),
    "min": (1, None),
    "max": (1, None),
    "mean": (1, None),
    "round": (1, 2),
    "rounddown": (1, 2),
    "roundup": (1, 2),
    "abs": (1, 1),
    "sqrt": (1, 1),
    "isblankormissingcode": (1, 1),
    "isnumber": (1, 1),
    "contains": (2, 2),
    "not_contain": (2, 2),
    "starts_with": (2, 2),
    "ends_with": (2, 2),
}
DATEDIFF_UNITS = frozenset({"y", "M", "d", "h", "m", "s"})
COMPARISONS = {"=": "=", "==": "=", "<>": "<>", "!=": "<>", "<": "<", ">": ">"}
COMPARISONS.update({"<=": "<=", ">=": ">="})
MAX_NESTING = 50  # parentheses / prefix operators
MAX_TREE_DEPTH = 200  # also bounds long operator chains such as 1+1+1+...


def describe(token: Token) -> str:
    """Human description of a token for error messages."""
    if token.kind == "eof":
        return "end of expression"
    if token.kind == "str":
        return "string"
    if token.kind == "field":
        return f"field [{token.value}]"
    if token.kind == "num":
        return f"number {token.value}"
    return f"'{token.value}'"


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, *values: str) -> bool:
        token = self.token
        return token.kind == kind and (not values or token.value in values)

    def fail(self, token: Token | None = None) -> LogicSyntaxError:
        token = token or self.token
        return LogicSyntaxError(f"unexpected {describe(token)}", token.pos)

    def enter(self, pos: int) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise LogicSyntaxError("expression is nested too deeply", pos)

    def parse(self) -> Node:
        if self.at("eof"):
            raise LogicSyntaxError("empty expression", 0)
        node = self.expression()
        if not self.at("eof"):
            raise self.fail()
        return node

    def expression(self) -> Node:
        self.enter(self.token.pos)
        node = self.or_expr()
        self.nesting -= 1
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.at("ident", "or") or self.at("op", "||"):
            pos = self.advance().pos
            node = Binary("or", node, self.and_expr(), pos)
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.at("ident", "and") or self.at("op", "&&"):
            pos = self.advance().pos
            node = Binary("and", node, self.not_expr(), pos)
        return node

    def not_expr(self) -> Node:
        if self.at("ident", "not") or self.at("op", "!"):
            pos = self.advance().pos
            self.enter(pos)
            node = Unary("not", self.not_expr(), pos)
            self.nesting -= 1
            return node
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if self.at("op") and self.token.value in COMPARISONS:
            token = self.advance()
            node = Binary(COMPARISONS[token.value], node, self.additive(), token.pos)
            if self.at("op") and self.token.value in COMPARISONS:
                raise LogicSyntaxError("comparisons cannot be chained", self.token.pos)
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.at("op", "+", "-"):
            token = self.advance()
            node = Binary(token.value, node, self.multiplicative(), token.pos)
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.at("op", "*", "/"):
            token = self.advance()
            node = Binary(token.value, node, self.unary(), token.pos)
        return node

    def unary(self) -> Node:
        if self.at("op", "-", "+"):
            token = self.advance()
            self.enter(token.pos)
            node = Unary("neg" if token.value == "-" else "pos", self.unary(), token.pos)
            self.nesting -= 1
            return node
        return self.power()

    def power(self) -> Node:
        node = self.primary()
        if self.at("op", "^"):
            pos = self.advance().pos
            self.enter(pos)
            node = Binary("^", node, self.unary(), pos)
            self.nesting -= 1
        return node

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "num":
            return Num(float(token.value), token.pos)
        if token.kind == "str":
            return Str(token.value, token.pos)
        if token.kind == "field":
            return Field(token.value, token.code, token.pos)
        if token.kind == "op" and token.value == "(":
            node = self.expression()
            self.expect_close(token)
            return node
        if token.kind == "ident":
            if self.at("op", "("):
                return self.call(token)
            if token.value in ("today", "now"):
                return Keyword(token.value, token.pos)
            if token.value in ("true", "false"):
                return Bool(token.value == "true", token.pos)
            if token.value in FUNCTIONS:
                raise LogicSyntaxError(f"expected '(' after {token.value}", self.token.pos)
            if token.value not in ("and", "or", "not"):
                raise LogicSyntaxError(f"unknown identifier '{token.value}'", token.pos)
        raise self.fail(token)

    def expect_close(self, opening: Token) -> None:
        if self.at("op", ")"):
            self.advance()
            return
        if self.at("eof"):
            raise LogicSyntaxError("missing ')' for '(' opened", opening.pos)
        raise self.fail()

    def call(self, name: Token) -> Node:
        if name.value not in FUNCTIONS:
            raise LogicSyntaxError(f"unknown function '{name.value}'", name.pos)
        opening = self.advance()
        args: list[Node] = []
        if not self.at("op", ")"):
            args.append(self.expression())
            while self.at("op", ","):
                self.advance()
                args.append(self.expression())
        self.expect_close(opening)
        low, high = FUNCTIONS[name.value]
        if len(args) < low or (high is not None and len(args) > high):
            if high is None:
                expected = f"{low} or more"
            else:
                expected = str(low) if low == high else f"{low} to {high}"
            raise LogicSyntaxError(
                f"{name.value}() takes {expected} argument(s), got {len(args)}", name.pos
            )
        if name.value == "datediff" and isinstance(args[2], Str):
            if args[2].value not in DATEDIFF_UNITS:
                unit = args[2].value
                raise LogicSyntaxError(f"invalid datediff unit '{unit}'", args[2].pos)
        return Call(name.value, tuple(args), name.pos)


def children(node: Node) -> tuple[Node, ...]:
    """Direct sub-nodes of ``node``."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _check_depth(root: Node) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise LogicSyntaxError("expression is nested too deeply", node.pos)
        stack.extend((child, depth + 1) for child in children(node))


@lru_cache(maxsize=4096)
def parse(expression: str) -> Node:
    """Parse ``expression`` into an AST; raises LogicSyntaxError with the offending position."""
    node = _Parser(expression).parse()
    _check_depth(node)
    return node
