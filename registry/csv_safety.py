"""Formula-injection protection for every CSV the registry writes.

A spreadsheet treats a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula. Such a cell is written with a single quote in front (``'=1+1``), which
spreadsheets show as text and which a statistician's reader strips with one rule: a leading
``'`` followed by one of those characters is the neutralising prefix. Plain numbers (``-3.5``,
``+2``) are left as they are: they are not formulas and must stay numeric for R, Stata and SPSS.
"""

from __future__ import annotations

import re

DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?")


def safe_cell(value: object) -> str:
    """The cell text, with a leading ``'`` if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(DANGEROUS_FIRST) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
