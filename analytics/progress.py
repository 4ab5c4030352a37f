"""Centre progress: records entered, complete, locked, open queries and data-quality findings,
for the centres a user may see (Record.objects.visible_to)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from registry.models import DictionaryVersion, FormStatus, InstrumentData, Query, Record
from registry.quality import open_findings


def centre_progress(user) -> list[dict]:
    records = Record.objects.visible_to(user)
    incomplete = InstrumentData.objects.filter(
        record=OuterRef("pk"), deleted_at__isnull=True
    ).exclude(status=FormStatus.COMPLETE)
    any_form = InstrumentData.objects.filter(record=OuterRef("pk"), deleted_at__isnull=True)
    rows = (
        records.annotate(has_form=Exists(any_form), has_incomplete=Exists(incomplete))
        .values("center__code", "center__name")
        .annotate(
            entered=Count("pk"),
            complete=Count("pk", filter=Q(has_form=True, has_incomplete=False)),
            locked=Count("pk", filter=Q(is_locked=True)),
        )
        .order_by("center__code")
    )
    queries = dict(
        Query.objects.filter(record__in=records)
        .exclude(status=Query.Status.CLOSED)
        .values("record__center__code")
        .annotate(n=Count("pk"))
        .values_list("record__center__code", "n")
    )
    findings = _open_findings_by_centre(records)
    return [
        dict(
            row,
            code=row["center__code"],
            name=row["center__name"],
            open_queries=queries.get(row["center__code"], 0),
            findings=findings.get(row["center__code"], 0),
        )
        for row in rows
    ]


def _open_findings_by_centre(records) -> dict[str, int]:
    """Open findings of unlocked records (a locked record has none: locking requires it)."""
    version = DictionaryVersion.objects.current()
    if version is None:
        return {}
    out: dict[str, int] = {}
    for record in records.filter(is_locked=False).select_related("center"):
        found = len(open_findings(record, version))
        if found:
            out[record.center.code] = out.get(record.center.code, 0) + found
    return out
