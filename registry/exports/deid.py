"""De-identification (HIPAA safe-harbour style) applied while rows are written.

- identifier fields and free text (notes, text without validation) are dropped
  (columns.selected_fields);
- the record id becomes a keyed hash: HMAC-SHA256(EXPORT_HASH_KEY or SECRET_KEY, record id),
  first 16 hex characters, stable across exports made with the same key;
- dates are removed, or shifted back by a per-record offset of 0-364 days (stable: derived
  from the same key and the record id, so every date of a record moves together and every
  interval is kept exactly), or replaced by the number of days from the date of diagnosis;
- ages over 89 are top-coded to 90, and the year of birth is made consistent with it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from registry.dictionary import FieldDef

DIAGNOSIS_DATE = "date_dx"
AGE_FIELDS = ("age_at_dx",)
BIRTH_YEAR_FIELDS = ("year_of_birth",)
AGE_TOP_CODE = 90
ID_HEX_CHARS = 16


def hash_key() -> bytes:
    key = getattr(settings, "EXPORT_HASH_KEY", "") or settings.SECRET_KEY
    return key.encode("utf-8")


def _digest(label: str, record_id: str) -> bytes:
    return hmac.new(hash_key(), f"{label}:{record_id}".encode(), hashlib.sha256).digest()


def pseudonym(record_id: str) -> str:
    return _digest("record", record_id).hex()[:ID_HEX_CHARS]


def date_offset(record_id: str) -> int:
    """Days (0-364) a record's dates are shifted back by."""
    return int.from_bytes(_digest("dateshift", record_id)[:8], "big") % 365


def rules_applied(dates: str) -> list[str]:
    rules = [
        "identifier fields removed",
        "free-text fields removed (notes, text without validation)",
        f"record id replaced by HMAC-SHA256 pseudonym ({ID_HEX_CHARS} hex characters)",
        f"ages over 89 top-coded to {AGE_TOP_CODE}; year of birth made consistent",
    ]
    rules.append(
        {
            "remove": "dates removed",
            "shift": "dates shifted back by a per-record offset of 0-364 days (intervals exact)",
            "days": f"dates replaced by days from the date of diagnosis ({DIAGNOSIS_DATE})",
        }[dates]
    )
    return rules


def _iso_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except (TypeError, ValueError):
        return None


@dataclass
class RecordDeidentifier:
    """Transforms the values of one record; built once per record."""

    record_id: str
    dates: str
    date_fields: list[FieldDef]
    dx: date | None
    offset: int

    @classmethod
    def for_record(
        cls, record_id: str, dates: str, date_fields: list[FieldDef], base_values: dict
    ) -> RecordDeidentifier:
        return cls(
            record_id,
            dates,
            date_fields,
            _iso_date(base_values.get(DIAGNOSIS_DATE, "")),
            date_offset(record_id),
        )

    def transform(self, data: dict) -> dict:
        out = dict(data)
        for f in self.date_fields:
            value = out.get(f.name)
            if not value:
                continue
            day = _iso_date(value)
            if day is None:  # a missing-data code stays as it is
                continue
            if self.dates == "remove":
                out[f.name] = ""
            elif self.dates == "shift":
                shifted = day - timedelta(days=self.offset)
                out[f.name] = shifted.isoformat() + value[10:]
            else:
                out[f.name] = str((day - self.dx).days) if self.dx else ""
        self._top_code(out)
        return out

    def _top_code(self, out: dict) -> None:
        for name in AGE_FIELDS:
            try:
                age = float(out.get(name) or "")
            except ValueError:
                continue
            if age > AGE_TOP_CODE - 1:
                out[name] = str(AGE_TOP_CODE)
                for birth in BIRTH_YEAR_FIELDS:
                    if not out.get(birth):
                        continue
                    if self.dx is None:
                        out[birth] = ""
                        continue
                    shift = self.offset if self.dates == "shift" else 0
                    out[birth] = str((self.dx - timedelta(days=shift)).year - AGE_TOP_CODE)
