"""REDCap-style branching logic and calculated fields: a real parser and evaluator (no eval).

The browser twin lives in ``registry/static/registry/logic.js`` and must give identical results.
"""

from .evaluator import calculate, evaluate, field_references, is_true
from .lexer import LogicSyntaxError
from .numeric import format_calc
from .parser import Node, parse

__all__ = [
    "LogicSyntaxError",
    "Node",
    "calculate",
    "evaluate",
    "field_references",
    "format_calc",
    "is_true",
    "parse",
]
