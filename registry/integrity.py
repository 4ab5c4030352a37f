"""Tamper evidence: re-walking the audit hash chain, checking it against anchors kept outside
the database, and re-checking dictionary version and signature hashes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from .audit_anchors import Anchor, anchor_problems
from .models import Record, Signature
from .services.locking import signature_is_valid


@dataclass
class ChainCheck:
    checked: int
    broken_at: int | None = None
    problem: str = ""
    head: Anchor | None = None  # the newest event walked, when the whole chain is intact


def verify_audit_chain() -> ChainCheck:
    """Each event's hash must be its recomputed hash, and cover the previous event's hash."""
    previous = "0" * 64
    checked = last_seq = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.seq, a.prev_hash, a.hash, registry_audit_event_hash(a) "
            "FROM registry_auditevent a ORDER BY a.seq"
        )
        while rows := cursor.fetchmany(5000):
            for seq, prev_hash, stored, recomputed in rows:
                checked += 1
                if prev_hash != previous:
                    return ChainCheck(checked, seq, "does not link to the previous event")
                if stored != recomputed:
                    return ChainCheck(checked, seq, "content does not match its hash")
                previous = stored
                last_seq = seq
    return ChainCheck(checked, head=Anchor(last_seq, previous) if checked else None)


def verify_dictionary_versions() -> tuple[int, list[str]]:
    """Each version's content must still hash to its stored content hash, and that hash must be
    the one its creation event put into the audit chain (so that rewriting both is caught by the
    chain, and rewriting the chain by an anchor)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.number, d.content_sha256, registry_dictionary_content_hash(d) "
            "FROM registry_dictionaryversion d ORDER BY d.number"
        )
        versions = cursor.fetchall()
        cursor.execute(
            "SELECT seq, CASE WHEN new_value->>'version' ~ '^[0-9]{1,9}$' "
            "THEN (new_value->>'version')::int END, new_value->>'content_sha256' "
            "FROM registry_auditevent WHERE action = 'dictionary_version' ORDER BY seq"
        )
        events = cursor.fetchall()
    problems = []
    recorded: dict[int, set[str]] = {}
    for seq, number, digest in events:
        if number is None:
            problems.append(f"audit event #{seq} does not name a dictionary version")
            continue
        recorded.setdefault(number, set()).add(digest)
    for number, stored, recomputed in versions:
        hashes = recorded.pop(number, set())
        if stored != recomputed:
            problems.append(f"dictionary version {number}: its content does not match its hash")
        elif not hashes:
            problems.append(f"dictionary version {number} has no creation event in the trail")
        elif hashes != {stored}:
            problems.append(
                f"dictionary version {number}: its hash is not the one the audit trail "
                "recorded when it was created"
            )
    problems += [f"dictionary version {n} recorded in the audit trail is missing" for n in recorded]
    return len(versions), problems


def verify_signatures() -> list[Signature]:
    """Valid (non-voided) signatures whose record content no longer matches."""
    return [
        s
        for s in Signature.objects.filter(voided_at__isnull=True).select_related("record")
        if not signature_is_valid(s)
    ]


def locked_without_signature() -> list[str]:
    """Locked records that carry no valid signature (e.g. one moved away behind our back)."""
    return list(
        Record.objects.filter(is_locked=True)
        .exclude(signatures__voided_at__isnull=True)
        .values_list("record_id", flat=True)
    )


def check_all(anchors: Iterable[Anchor] = ()) -> dict:
    """Everything `verify_audit` checks, as one report; `problem` names the first break and
    `chain_head` (SEQ:HASH) is the anchor to keep when the chain is intact."""
    chain = verify_audit_chain()
    anchors = list(anchors)
    broken_anchors = anchor_problems(anchors)
    dictionaries, dictionary_problems = verify_dictionary_versions()
    bad = verify_signatures()
    unsigned = locked_without_signature()
    problem = ""
    if chain.broken_at is not None:
        problem = f"audit chain broken at event #{chain.broken_at}: {chain.problem}"
    elif broken_anchors:
        problem = broken_anchors[0]
    elif dictionary_problems:
        problem = dictionary_problems[0]
    elif bad:
        problem = (
            f"signature #{bad[0].pk} on record {bad[0].record.record_id} does not match the "
            f"signed content ({len(bad)} mismatched signature(s))"
        )
    elif unsigned:
        problem = f"locked record(s) without a valid signature: {', '.join(unsigned)}"
    return {
        "ok": not problem,
        "events_checked": chain.checked,
        "chain_head": str(chain.head) if chain.head else "",
        "anchors_checked": len(anchors),
        "anchor_problems": broken_anchors,
        "dictionary_versions_checked": dictionaries,
        "dictionary_problems": dictionary_problems,
        "problem": problem,
        "mismatched_signatures": [s.pk for s in bad],
        "unsigned_locked_records": unsigned,
    }
