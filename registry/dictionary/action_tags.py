"""Action tags read from the Field Annotation column.

Only the tags this registry acts on are interpreted; any other text (unknown tags, free
notes) stays in the raw annotation, which is what the dictionary exports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KNOWN_TAGS = ("@HIDDEN", "@READONLY", "@DEFAULT", "@TODAY", "@NOMISSING", "@FORCE-MINMAX")

# A tag is an @ not preceded by a word character (so e-mail addresses are not tags), an
# upper-case name (REDCap action tags are upper case), and optionally ='value' or ="value".
_TAG = re.compile(
    r"(?<![\w@-])(@[A-Z][A-Z0-9_]*(?:-[A-Z0-9_]+)*)(?![\w-])"
    r"(?:\s*=\s*(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"))?"
)


@dataclass(frozen=True)
class ActionTags:
    hidden: bool = False
    readonly: bool = False
    default: str | None = None
    today: bool = False
    nomissing: bool = False
    force_minmax: bool = False


def find_tags(annotation: str) -> list[tuple[str, str | None]]:
    """Every tag in the annotation as (name, value or None), in order."""
    found = []
    for m in _TAG.finditer(annotation or ""):
        value = m.group(2) if m.group(2) is not None else m.group(3)
        if value is not None:
            value = re.sub(r"\\(.)", r"\1", value)
        found.append((m.group(1), value))
    return found


def parse_action_tags(annotation: str) -> ActionTags:
    """Interpret the known tags of an annotation; the first @DEFAULT wins, as in REDCap."""
    tags = find_tags(annotation)
    names = {name for name, _ in tags}
    default = next((value for name, value in tags if name == "@DEFAULT"), None)
    return ActionTags(
        hidden="@HIDDEN" in names,
        readonly="@READONLY" in names,
        default=default,
        today="@TODAY" in names,
        nomissing="@NOMISSING" in names,
        force_minmax="@FORCE-MINMAX" in names,
    )


def malformed_default(annotation: str) -> bool:
    """@DEFAULT written without a quoted value (REDCap ignores it; we report it)."""
    return any(name == "@DEFAULT" and value is None for name, value in find_tags(annotation))
