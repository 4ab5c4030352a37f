"""Tamper evidence: re-walking the audit hash chain and re-checking signature hashes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from .models import Record, Signature
from .services.locking import signature_is_valid


@dataclass
class ChainCheck:
    checked: int
    broken_at: int | None = None
    problem: str = ""


def verify_audit_chain() -> ChainCheck:
    """Each event's hash must be its recomputed hash, and cover the previous event's hash."""
    previous = "0" * 64
    checked = 0
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
    return ChainCheck(checked)


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


def check_all() -> dict:
    """Everything `verify_audit` checks, as one report; `problem` names the first break."""
    chain = verify_audit_chain()
    bad = verify_signatures()
    unsigned = locked_without_signature()
    problem = ""
    if chain.broken_at is not None:
        problem = f"audit chain broken at event #{chain.broken_at}: {chain.problem}"
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
        "problem": problem,
        "mismatched_signatures": [s.pk for s in bad],
        "unsigned_locked_records": unsigned,
    }
