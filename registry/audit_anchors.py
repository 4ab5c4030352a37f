"""Anchors: the audit chain's head (sequence and hash) kept outside the database.

The chain alone proves that no event was changed in place; it cannot prove that the newest
events were not deleted, or that the table owner did not edit an event and recompute every
later hash. A head written down earlier (in an export's manifest, the nightly report, the output
of `verify_audit`) can: the trail must still hold that event with that hash, and the re-walked
chain must link every later event to it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

ANCHOR = re.compile(r"^(\d{1,18}):([0-9a-fA-F]{64})$")


class AnchorInvalid(ValueError):
    """An anchor that is not SEQ:HASH (a positive sequence, a 64-digit hex SHA-256)."""


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def parse_anchor(text: str) -> Anchor:
    match = ANCHOR.match(text.strip())
    if not match or int(match.group(1)) < 1:
        raise AnchorInvalid(
            f"'{text.strip()[:80]}' is not an anchor: expected SEQ:HASH, a positive event "
            "sequence number and the event's 64-hex-digit SHA-256"
        )
    return Anchor(int(match.group(1)), match.group(2).lower())


def read_anchors(path: Path) -> list[Anchor]:
    """One anchor per line; blank lines and `#` comments (whole-line or trailing) are skipped."""
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            anchors.append(parse_anchor(text))
        except AnchorInvalid as exc:
            raise AnchorInvalid(f"{path}, line {number}: {exc}") from None
    return anchors


def chain_head() -> Anchor | None:
    """The newest event of the trail, as an anchor (None for an empty trail)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, hash FROM registry_auditevent ORDER BY seq DESC LIMIT 1")
        row = cursor.fetchone()
    return Anchor(row[0], row[1]) if row else None


def event_anchor(seq: int) -> Anchor:
    """One event (e.g. the one just written) as an anchor; its hash was set by the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT hash FROM registry_auditevent WHERE seq = %s", [seq])
        return Anchor(seq, cursor.fetchone()[0])


def anchor_problems(anchors: Iterable[Anchor]) -> list[str]:
    """What contradicts each anchor. The chain walk (integrity.verify_audit_chain) proves the
    events after an anchor still link to it; this proves the anchor itself is still there."""
    anchors = list(anchors)
    if not anchors:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(seq), 0) FROM registry_auditevent")
        last = cursor.fetchone()[0]
        cursor.execute(
            "SELECT seq, hash FROM registry_auditevent WHERE seq = ANY(%s)",
            [sorted({a.seq for a in anchors})],
        )
        stored = dict(cursor.fetchall())
    problems = []
    for anchor in anchors:
        if anchor.seq > last:
            problems.append(
                f"anchor {anchor}: the audit trail ends at event "
                f"#{last}, before the anchored event #{anchor.seq}; events were removed from "
                "its end"
            )
        elif anchor.seq not in stored:
            problems.append(f"anchor {anchor}: event #{anchor.seq} is missing from the audit trail")
        elif stored[anchor.seq] != anchor.hash:
            problems.append(
                f"anchor {anchor}: event #{anchor.seq} now has hash "
                f"{stored[anchor.seq][:12]}...; the trail up to it was rewritten"
            )
    return problems
