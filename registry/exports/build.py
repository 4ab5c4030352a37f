"""Building one export: data CSV, dictionary CSV, .sav, .dta, R script, manifest, zip.

Data files are reproducible: rows ordered by record id, no timestamps inside them, zip entries
with a fixed date. Only manifest.json says when and by whom the export was made.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation

from registry import csv_safety
from registry.audit import record_event
from registry.audit_anchors import event_anchor
from registry.dataset import read_locked_dataset
from registry.dictionary import COLUMNS, Dictionary
from registry.models import DictionaryVersion, InstrumentData
from registry.services.dictionary import current_dictionary_version
from registry.services.dictionary_translations import version_in

from . import statfiles
from .columns import selected_fields
from .csvfile import write_flat_csv
from .deid import pseudonym, rules_applied
from .options import ExportOptions
from .rows import RowBuilder
from .stream import export_records, iter_bundles

PREFIX = "registry"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class ExportResult:
    directory: Path
    zip_path: Path
    manifest: dict
    files: dict[str, str] = field(default_factory=dict)  # name -> sha256


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dictionary_csv(version: DictionaryVersion, options: ExportOptions) -> str:
    """The dictionary of the export: the version's fields (minus what de-identification
    dropped; dates as integers when replaced by days from diagnosis)."""
    fields = list(version.dictionary.fields)
    if options.deidentify:
        kept = {
            f.name
            for f in selected_fields(version, dataclasses.replace(options, fields=(), forms=()))
        }
        fields = [f for f in fields if f.name in kept or f.field_type == "descriptive"]
        if options.dates == "days":
            fields = [
                dataclasses.replace(
                    f,
                    validation="integer",
                    validation_min="",
                    validation_max="",
                    note="Days from date_dx",
                )
                if f.is_date or f.is_datetime
                else f
                for f in fields
            ]
    out = io.StringIO()
    writer = csv_safety.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for f in Dictionary(fields=tuple(fields)).fields:
        writer.writerow(f.to_row())
    return out.getvalue()


def _write_csv(path: Path, user, version, options, locked_only, progress=None):
    builder = RowBuilder(version, options)
    records = export_records(user, locked_only=locked_only, records=options.records)
    with path.open("w", encoding="utf-8", newline="", buffering=1 << 20) as out:
        counts = write_flat_csv(out, iter_bundles(records), builder, options, progress=progress)
    return builder, counts


def export_file_name(options: ExportOptions, dataset_version: int, day: date) -> str:
    """Identified and de-identified zips must never share a name (easy to send the wrong one):
    registry_deidentified_locked_v7_2026-12-03.zip."""
    kind = "deidentified" if options.deidentify else "identified"
    scope = "locked" if options.locked_only else "all_records"
    return f"{PREFIX}_{kind}_{scope}_v{dataset_version}_{day.isoformat()}.zip"


def build_export(
    *, user, options: ExportOptions, directory: Path, progress: Callable[[int], None] | None = None
) -> ExportResult:
    """Write every file of the export into ``directory`` and zip them; audited."""
    directory.mkdir(parents=True, exist_ok=True)
    # One snapshot for every file. Without the outbox share lock: an export can take minutes,
    # and locks must not wait for it (the version may then miss a lock still committing).
    # Labels in the export's language whatever page or worker started it (the same options
    # give the same bytes): the dictionary's translation and the registry's own words.
    language = options.language or settings.LANGUAGE_CODE
    with read_locked_dataset(wait_for_locks=False) as dataset, translation.override(language):
        version = version_in(current_dictionary_version(), options.language)
        dataset_version = dataset.version
        names = {
            "csv": f"{PREFIX}_data.csv",
            "dictionary": f"{PREFIX}_dictionary.csv",
            "spss": f"{PREFIX}_data.sav",
            "stata": f"{PREFIX}_data.dta",
            "r": f"{PREFIX}_labels.R",
        }
        data_csv = directory / names["csv"]
        builder, counts = _write_csv(
            data_csv, user, version, options, options.locked_only, progress
        )
        raw_csv = data_csv
        stats = {"spss", "stata"} & set(options.formats)
        if stats:
            statfiles.check_statfile_size(counts.rows)
        if stats and (options.labels or options.header == "label"):
            raw_csv = directory / "raw.tmp.csv"  # .sav/.dta are read from codes and names
            _write_csv(
                raw_csv,
                user,
                version,
                dataclasses.replace(options, raw_or_label="raw", header="raw"),
                options.locked_only,
            )
        written = [names["csv"]]
        if "dictionary" in options.formats:
            (directory / names["dictionary"]).write_text(
                dictionary_csv(version, options), encoding="utf-8", newline=""
            )
            written.append(names["dictionary"])
        days = options.dates == "days"
        if "spss" in options.formats:
            statfiles.write_sav(
                raw_csv, directory / names["spss"], builder.columns, days_dates=days
            )
            written.append(names["spss"])
        if "stata" in options.formats:
            statfiles.write_dta(
                raw_csv, directory / names["stata"], builder.columns, days_dates=days
            )
            written.append(names["stata"])
        if "r" in options.formats:
            script = statfiles.r_script(
                names["csv"], builder.columns, version.missing_codes, days_dates=days
            )
            (directory / names["r"]).write_text(script, encoding="utf-8", newline="")
            written.append(names["r"])
        if raw_csv != data_csv:
            raw_csv.unlink()
        files = {name: sha256_file(directory / name) for name in written}
        manifest = _manifest(user, options, version, dataset_version, counts, files)
        manifest["rows_saved_under_dictionary_versions"] = sorted(
            set(
                InstrumentData.objects.filter(
                    record__in=export_records(
                        user, locked_only=options.locked_only, records=options.records
                    ),
                    deleted_at__isnull=True,
                ).values_list("dictionary_version__number", flat=True)
            )
        )
    # Audited after the snapshot transaction: the audit chain is written in its own.
    event = record_event(
        "export",
        user=user,
        details={
            "options": options.to_json(),
            "records": counts.records,
            "rows": counts.rows,
            "dataset_version": dataset_version,
            "files": files,
        },
    )
    # The event recording this export is the chain head to keep with it (README, Audit anchors).
    manifest["audit_chain_head"] = str(event_anchor(event.seq))
    manifest["audit_chain_head_use"] = (
        "keep this SEQ:HASH outside the registry; `manage.py verify_audit --anchor SEQ:HASH` "
        "proves the audit trail still holds this event unchanged and was not cut before it"
    )
    (directory / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    zip_path = directory / export_file_name(options, dataset_version, timezone.localdate())
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in [*written, "manifest.json"]:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with (directory / name).open("rb") as src, archive.open(info, "w") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    dst.write(block)
    return ExportResult(directory, zip_path, manifest, files)


def _manifest(user, options, version, dataset_version, counts, files) -> dict:
    signatures = counts.signatures
    if options.deidentify:
        signatures = {pseudonym(k): v for k, v in signatures.items()}
    return {
        "dataset_version": dataset_version,
        "dictionary_version": version.number,
        "dictionary_sha256": version.sha256,
        "records": counts.records,
        "rows": counts.rows,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exported_by": {"username": user.username, "name": user.full_name},
        "options": options.to_json(),
        "which_records": "the locked dataset: locked records whose signature matches their "
        "content (one that does not is left out and listed as invalid under signatures)"
        if options.locked_only
        else "all records; column registry_lock_status says locked/unlocked",
        "files": files,
        "signatures": dict(sorted(signatures.items())),
        "signatures_summary": {
            s: sum(1 for v in signatures.values() if v == s) for s in ("valid", "invalid", "none")
        },
        "deidentification": rules_applied(options.dates) if options.deidentify else [],
        "csv": "RFC 4180, UTF-8, CRLF; a cell whose first character after any white space is "
        "= + - @ tab CR NUL or their full-width forms (other than a finite number) is prefixed "
        "with ' (the R script's unguard() removes it; see README, CSV safety)",
    }
