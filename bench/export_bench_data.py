"""Synthetic GI-LMS records for bench/export_benchmark.py, bulk-loaded with COPY.

Services are bypassed for speed, the database triggers are not: every insert is audited, and a
record is locked only after a signature row (with the real content hash) exists."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta

CHUNK = 5000
NOTES = ["Spindle cell tumour", "=cmd|' /C calc'!A0", "Reviewed at MDT", "", "-10 mitoses"]


def _day(rng: random.Random, start: date, span: int) -> date:
    return start + timedelta(days=rng.randrange(span))


def patient(rng: random.Random) -> dict[str, list[dict]]:
    dx = _day(rng, date(2004, 1, 1), 6200)
    yob = rng.randrange(1925, 1990)
    stage = rng.choice("1112223")
    surgery = stage != "3" or rng.random() < 0.2
    last = dx + timedelta(days=rng.randrange(60, 4000))
    dead = rng.random() < 0.4
    forms = {
        "enrolment": [
            {
                "mrn": f"H{rng.randrange(10**6)}",
                "sex": rng.choice("12"),
                "year_of_birth": str(yob),
                "age_at_dx": str(dx.year - yob),
                "kit_negative": "1",
                "expert_review_confirmed": "1",
                "dx_in_study_period": "1",
            }
        ],
        "diagnosis_pathology": [
            {
                "date_dx": dx.isoformat(),
                "site_of_origin": rng.choice("123456"),
                "tumour_size_mm": str(rng.randrange(10, 300)),
                "fnclcc_grade": rng.choice("123"),
                "mitotic_count": str(rng.randrange(0, 60)),
                "kit_cd117": "2",
                "dog1": rng.choice("23"),
                "desmin": rng.choice("12"),
                "sma": "1",
                "h_caldesmon": rng.choice("123"),
                "path_review_confirmed": "1",
                "path_review_date": (dx + timedelta(days=20)).isoformat(),
                "pathology_notes": rng.choice(NOTES),
            }
        ],
        "stage": [
            {
                "stage_dx": stage,
                "metastatic_sites": sorted(rng.sample("123456", 2)) if stage == "3" else [],
            }
        ],
        "primary_surgery": [
            {
                "surgery_done": "1" if surgery else "0",
                "surgery_date": (dx + timedelta(days=15)).isoformat() if surgery else "",
                "surgery_procedure": "Segmental resection" if surgery else "",
                "margins": rng.choice("012") if surgery else "",
                "rupture": "0" if surgery else "",
            }
        ],
        "radiotherapy": [{"rt_given": "0"}],
        "follow_up": [
            {
                "last_contact_date": last.isoformat(),
                "vital_status": "0" if dead else "1",
                "death_date": last.isoformat() if dead else "",
                "death_cause": "1" if dead else "",
                "disease_status_last": "3" if dead else rng.choice("12"),
                "followup_months": f"{(last - dx).days / 30.4375:.1f}",
            }
        ],
    }
    forms["systemic_therapy"] = [
        {
            "therapy_setting": rng.choice("123"),
            "regimen": rng.choice("12345"),
            "therapy_start": (dx + timedelta(days=30 * (n + 1))).isoformat(),
            "therapy_end": (dx + timedelta(days=30 * (n + 1) + 90)).isoformat(),
            "best_response": rng.choice("12345"),
        }
        for n in range(rng.choice([0, 0, 1, 2]))
    ]
    forms["relapse"] = (
        [
            {
                "relapse_date": (dx + timedelta(days=400)).isoformat(),
                "relapse_type": rng.choice("12"),
                "relapse_sites": ["1"],
                "salvage_surgery": "0",
            }
        ]
        if rng.random() < 0.3
        else []
    )
    return forms


def load(records: int) -> None:
    from django.db import connection, transaction

    from centers.models import Center, Membership, Role, User
    from registry.models import RecordCounter
    from registry.services.dictionary import import_default_dictionary

    version = import_default_dictionary()
    centers = [
        Center.objects.get_or_create(code=c, defaults={"name": c, "city": c})[0]
        for c in ("MIL", "BOL", "ROM", "TOR", "PAD", "NAP")
    ]
    dm, _ = User.objects.get_or_create(username="bench-dm")
    Membership.objects.get_or_create(user=dm, center=None, role=Role.DATA_MANAGER)
    rng = random.Random(20260101)
    now = datetime.now(UTC)
    signed_at = now.replace(microsecond=123456)
    meaning = "I reviewed this record and approve it as complete and accurate."
    sequences = dict.fromkeys((c.pk for c in centers), 0)
    for start in range(0, records, CHUNK):
        batch = []
        for n in range(start, min(records, start + CHUNK)):
            center = centers[n % len(centers)]
            sequences[center.pk] += 1
            batch.append((center, sequences[center.pk], patient(rng)))
        with transaction.atomic(), connection.cursor() as cur:
            raw = cur.cursor
            with raw.copy(
                "COPY registry_record (record_id, center_id, sequence, is_locked, "
                "synthetic, created_at, updated_at) FROM STDIN"
            ) as copy:
                for center, seq, _ in batch:
                    copy.write_row(
                        (f"{center.code}-{seq:05d}", center.pk, seq, False, True, now, now)
                    )
            cur.execute("SELECT record_id, id FROM registry_record")
            ids = dict(cur.fetchall())
            signatures = []
            with raw.copy(
                "COPY registry_instrumentdata (record_id, instrument, instance, data, "
                "status, ever_completed, version, dictionary_version_id, updated_at, "
                "is_locked) FROM STDIN"
            ) as copy:
                for center, seq, forms in batch:
                    rid = f"{center.code}-{seq:05d}"
                    rows = [
                        (form, i, 2, data)
                        for form, instances in forms.items()
                        for i, data in enumerate(instances, start=1)
                    ]
                    for form, i, status, data in rows:
                        copy.write_row(
                            (
                                ids[rid],
                                form,
                                i,
                                json.dumps(data),
                                status,
                                True,
                                1,
                                version.pk,
                                now,
                                False,
                            )
                        )
                    signatures.append(
                        (ids[rid], _content_hash(rid, center.pk, rows, dm, meaning, signed_at))
                    )
            with raw.copy(
                "COPY registry_signature (record_id, signer_id, signer_name, meaning,"
                " signed_at, content_sha256, void_reason) FROM STDIN"
            ) as copy:
                for pk, digest in signatures:
                    copy.write_row((pk, dm.pk, dm.full_name, meaning, signed_at, digest, ""))
            cur.execute(
                "UPDATE registry_record SET is_locked = true, locked_at = %s, "
                "locked_by_id = %s WHERE NOT is_locked",
                [signed_at, dm.pk],
            )
    for center in centers:
        RecordCounter.objects.update_or_create(
            center=center, defaults={"last_number": sequences[center.pk]}
        )
    with connection.cursor() as cur:  # fresh statistics, as autovacuum would give a live system
        cur.execute("ANALYZE")


def _content_hash(rid, center_id, rows, user, meaning, signed_at) -> str:
    """The bytes registry.services.locking.signed_content covers."""
    content = {
        "record_id": rid,
        "center_id": center_id,
        "instruments": [
            {"instrument": f, "instance": i, "status": s, "data": d}
            for f, i, s, d in sorted(rows, key=lambda r: (r[0], r[1]))
        ],
        "signer_id": user.pk,
        "signer_name": user.full_name,
        "meaning": meaning,
        "signed_at": signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()
