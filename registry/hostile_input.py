"""What text from outside may hold, checked once at the boundary (registry.middleware for the web,
registry.api.params for the REDCap API, the CSV parsers for uploaded files).

PostgreSQL refuses NUL in text and lone surrogates cannot be encoded as UTF-8: either would end
the request in a 500 wherever it reached the database, often while writing the audit event for
the refusal. So they are refused before any view runs, with a message that describes the problem
and names the parameter, row or field, and never repeats the bytes.

Bytes that are not UTF-8 reach Django's parsed parameters as U+FFFD (Django decodes with
``errors="replace"``): a U+FFFD is therefore refused as "not valid UTF-8".
"""

from __future__ import annotations

__all__ = [
    "BIGINT_MAX",
    "MAX_CELL_CHARS",
    "MAX_JSON_DEPTH",
    "JsonDepth",
    "describe_problem",
    "integer_out_of_range",
    "json_nesting_depth",
    "printable_name",
    "scrub",
]

BIGINT_MAX = 2**63 - 1
MAX_CELL_CHARS = 65_535  # REDCap's limit for one value (a MySQL TEXT column)
MAX_JSON_DEPTH = 16  # an import is a list of flat rows: depth 3 at most
ALLOWED_CONTROLS = frozenset("\t\n\r")


def describe_problem(text: str, *, multiline: bool = True) -> str | None:
    """What makes ``text`` unacceptable, in words, or None when it is acceptable.

    ``multiline`` allows tab, line feed and carriage return (form fields, import cells); names,
    paths and identifiers take no control character at all.
    """
    for char in text:
        code = ord(char)
        if code == 0:
            return "a NUL byte"
        if 0xD800 <= code <= 0xDFFF:
            return "a lone surrogate (not a character)"
        if code == 0xFFFD:
            return "bytes that are not valid UTF-8"
        if (code < 0x20 or code == 0x7F) and not (multiline and char in ALLOWED_CONTROLS):
            return f"a control character (U+{code:04X})"
    return None


def integer_out_of_range(text: str, maximum: int = BIGINT_MAX) -> bool:
    """True for a whole number (optionally signed) beyond what the database stores."""
    digits = text.strip().removeprefix("-").removeprefix("+")
    if not digits.isascii() or not digits.isdigit():
        return False
    return len(digits) > 19 or int(digits) > maximum


def json_nesting_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep ``[``/``{`` nest in a JSON text (outside strings), counting no further than
    ``limit + 1``: json.loads recurses, so a deep document must be refused before parsing."""
    return JsonDepth(limit).feed(text)


class JsonDepth:
    """json_nesting_depth of a text read in pieces (a file): ``feed`` each piece in order."""

    def __init__(self, limit: int = MAX_JSON_DEPTH) -> None:
        self.limit = limit
        self.depth = self.deepest = 0
        self.in_string = self.escaped = False

    def feed(self, text: str) -> int:
        """The deepest nesting so far (stops counting once past the limit)."""
        depth, deepest, limit = self.depth, self.deepest, self.limit
        in_string, escaped = self.in_string, self.escaped
        for char in text:
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "[{":
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > limit:
                        break
            elif char in "]}":
                depth -= 1
        self.depth, self.deepest = depth, deepest
        self.in_string, self.escaped = in_string, escaped
        return deepest


def printable_name(name: str, limit: int = 60) -> str:
    """A parameter or column name safe to show and store: escapes instead of raw control bytes."""
    if describe_problem(name, multiline=False) is None and name.isprintable():
        shown = name
    else:
        shown = "".join(
            c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else _escape(c) for c in name
        )
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def scrub(value):
    """``value`` (str, list, dict, nested) with every unacceptable character escaped: the last
    guard of the audit writer, so a refusal can always be recorded."""
    if isinstance(value, str):
        if describe_problem(value) is None:
            return value
        return "".join(
            c if describe_problem(c) is None or c == "\ufffd" else _escape(c) for c in value
        )
    if isinstance(value, dict):
        return {scrub(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
