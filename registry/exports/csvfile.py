"""Writing the flat CSV: RFC 4180 (CRLF, minimal quoting, UTF-8 without BOM), every cell
(header, codes, labels, calculations) through registry.csv_safety, written in chunks as rows are
read."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from registry import csv_safety

from .collector import collection_paused
from .columns import header_row
from .options import ExportOptions
from .rows import RowBuilder
from .stream import RecordBundle

FLUSH_ROWS = 1000


def csv_writer(out: TextIO):
    """A writer whose every cell is neutralised against spreadsheet formulas."""
    return csv_safety.writer(out, lineterminator="\r\n")


class ExportCounts:
    def __init__(self) -> None:
        self.records = 0
        self.rows = 0
        self.signatures: dict[str, str] = {}


def write_flat_csv(
    out: TextIO,
    bundles: Iterable[RecordBundle],
    builder: RowBuilder,
    options: ExportOptions,
    *,
    progress: Callable[[int], None] | None = None,
    verify_signatures: bool = True,
) -> ExportCounts:
    """Write header and rows; returns counts and (verify_signatures) each exported record's
    signature status, re-checked against the rows written."""
    counts = ExportCounts()
    for chunk in iter_flat_csv(
        bundles,
        builder,
        options,
        counts=counts,
        progress=progress,
        verify_signatures=verify_signatures,
    ):
        out.write(chunk)
    return counts


def iter_flat_csv(
    bundles: Iterable[RecordBundle],
    builder: RowBuilder,
    options: ExportOptions,
    *,
    counts: ExportCounts,
    progress: Callable[[int], None] | None = None,
    verify_signatures: bool = True,
) -> Iterator[str]:
    """The CSV text in chunks of about FLUSH_ROWS rows (for files and streamed responses), each
    built with automatic garbage collection paused (registry.exports.collector: never across
    a yield)."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(header_row(builder.columns, options))
    records = iter(bundles)
    while True:
        with collection_paused():
            written, finished = _write_block(
                records, writer, builder, options, counts, verify_signatures
            )
        counts.rows += written
        yield out.getvalue()
        if finished:
            return
        out.seek(0)
        out.truncate()
        if progress is not None:
            progress(counts.records)


def _write_block(
    records: Iterator[RecordBundle],
    writer,
    builder: RowBuilder,
    options: ExportOptions,
    counts: ExportCounts,
    verify_signatures: bool,
) -> tuple[int, bool]:
    """Write records until FLUSH_ROWS rows are written; the rows written, and whether the
    records ran out."""
    written = 0
    for bundle in records:
        if not builder.matches(bundle):
            continue
        if options.locked_only or (
            verify_signatures and (bundle.is_locked or bundle.signature is not None)
        ):
            status = bundle.signature_status()
            if verify_signatures:
                counts.signatures[bundle.record_id] = status
            if options.locked_only and status != "valid":
                continue  # not in the locked dataset (registry.dataset); named in the manifest
        counts.records += 1
        # Written at once: a row is garbage as soon as it is text (none outlives its record).
        rows = builder.rows(bundle)
        writer.writerows(rows)
        written += len(rows)
        if written >= FLUSH_ROWS:
            return written, False
    return written, True
