"""What changed between two dictionary versions, field by field and attribute by attribute, as
REDCap's codebook compares project revisions. Every field and every column of the dictionary
counts (a new label or note too), unlike ``compare_dictionaries``, which reports only changes
that can hurt stored data. Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import COLUMNS, Dictionary

__all__ = ["AttributeChange", "FieldDiff", "ProjectChange", "diff_dictionaries", "diff_projects"]


@dataclass(frozen=True)
class AttributeChange:
    attribute: str  # the REDCap column name
    old: str
    new: str


@dataclass
class FieldDiff:
    name: str
    kind: str  # added | removed | changed
    changes: list[AttributeChange] = field(default_factory=list)
    position: int = 0  # the field's number in the newer version (the older one when removed)


@dataclass(frozen=True)
class ProjectChange:
    setting: str
    old: str
    new: str


def diff_dictionaries(old: Dictionary, new: Dictionary) -> list[FieldDiff]:
    """Added, removed and changed fields, in the newer version's order (removed ones where they
    stood in the older version)."""
    diffs: list[FieldDiff] = []
    for number, f in enumerate(new.fields, start=1):
        if f.name not in old:
            diffs.append(FieldDiff(f.name, "added", position=number))
            continue
        before, after = old.field(f.name).to_row(), f.to_row()
        changes = [
            AttributeChange(column, a, b)
            for column, a, b in zip(COLUMNS, before, after, strict=True)
            if a != b
        ]
        if changes:
            diffs.append(FieldDiff(f.name, "changed", changes, position=number))
    removed = [
        FieldDiff(f.name, "removed", position=number)
        for number, f in enumerate(old.fields, start=1)
        if f.name not in new
    ]
    return diffs + removed


def diff_projects(old: dict, new: dict) -> list[ProjectChange]:
    """Repeating instruments and missing-data codes, the project settings a codebook shows."""
    changes = []
    for key, setting in (
        ("repeating_instruments", "Repeating instruments"),
        ("missing_codes", "Missing-data codes"),
    ):
        a, b = _setting(old.get(key)), _setting(new.get(key))
        if a != b:
            changes.append(ProjectChange(setting, a, b))
    return changes


def _setting(value) -> str:
    if not value:
        return ""
    return ", ".join(
        f"{v.get('code')} ({v.get('label')})" if isinstance(v, dict) else str(v) for v in value
    )
