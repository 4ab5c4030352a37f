"""Tokenizer for REDCap branching-logic / calculated-field expressions."""

from __future__ import annotations

import string
from dataclasses import dataclass


class LogicSyntaxError(ValueError):
    """An expression could not be parsed; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token. ``kind`` is num, str, field, ident, op or eof."""

    kind: str
    value: str
    pos: int
    code: str | None = None  # checkbox option code of a ``[field(code)]`` token


_DIGITS = frozenset(string.digits)
_IDENT_START = frozenset(string.ascii_letters + "_")
_IDENT_CHARS = _IDENT_START | _DIGITS
_CODE_CHARS = _IDENT_CHARS | {".", "-"}
_TWO_CHAR_OPS = ("<>", "<=", ">=", "!=", "==", "&&", "||")
_ONE_CHAR_OPS = frozenset("=<>!+-*/^(),")
_SPACE = frozenset(" \t\r\n")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``eof`` token."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        start = i
        if ch in _SPACE:
            i += 1
        elif ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            while i < n and text[i] in _DIGITS:
                i += 1
            if i < n and text[i] == ".":
                i += 1
                while i < n and text[i] in _DIGITS:
                    i += 1
            tokens.append(Token("num", text[start:i], start))
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise LogicSyntaxError("unterminated string", start)
            tokens.append(Token("str", text[i + 1 : end], start))
            i = end + 1
        elif ch == "[":
            i = _field(text, i, tokens)
        elif ch in _IDENT_START:
            while i < n and text[i] in _IDENT_CHARS:
                i += 1
            tokens.append(Token("ident", text[start:i].lower(), start))
        elif text[i : i + 2] in _TWO_CHAR_OPS:
            tokens.append(Token("op", text[i : i + 2], start))
            i += 2
        elif ch in _ONE_CHAR_OPS:
            tokens.append(Token("op", ch, start))
            i += 1
        else:
            raise LogicSyntaxError(f"unexpected character '{ch}'", start)
    tokens.append(Token("eof", "", n))
    return tokens


def _field(text: str, start: int, tokens: list[Token]) -> int:
    """Read ``[name]`` or ``[name(code)]`` starting at ``start``; return the next index."""
    n = len(text)
    j = start + 1
    if j < n and text[j] in _IDENT_START:
        while j < n and text[j] in _IDENT_CHARS:
            j += 1
    name = text[start + 1 : j]
    if not name:
        raise LogicSyntaxError("invalid field name", start + 1)
    code = None
    if j < n and text[j] == "(":
        k = j + 1
        while k < n and text[k] in _CODE_CHARS:
            k += 1
        if k == j + 1 or k >= n or text[k] != ")":
            raise LogicSyntaxError("invalid checkbox code", k)
        code = text[j + 1 : k]
        j = k + 1
    if j >= n or text[j] != "]":
        raise LogicSyntaxError("expected ']'", j)
    tokens.append(Token("field", name, start, code))
    return j + 1
