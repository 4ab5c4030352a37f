"""Running an export job: load by id, build, record progress in the job's status file."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from centers.models import User

from .build import build_export
from .jobs import claim_job, heartbeat, job_dir, options_from_json, read_status, write_status
from .stream import export_records

logger = logging.getLogger(__name__)


def export_job_run(*, job_id: str) -> dict:
    """Build a queued job, once: a duplicate delivery, or one arriving after the job was failed
    for a lost worker (a retry is a new job), changes nothing."""
    status = read_status(job_id)
    if status["state"] != "queued" or not claim_job(job_id):
        return status
    with heartbeat(job_id):
        write_status(job_id, state="running", message="Building the export")
        return _build(job_id, status)


def _build(job_id: str, status: dict) -> dict:
    last = [0.0]

    def progress(done: int) -> None:
        if time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            write_status(job_id, done=done)

    try:
        user = User.objects.get(pk=status["user_id"])
        options = options_from_json(status["options"])
        records = export_records(user, locked_only=options.locked_only, records=options.records)
        write_status(job_id, total=records.count(), done=0)
        result = build_export(
            user=user, options=options, directory=job_dir(job_id) / "files", progress=progress
        )
    except Exception as exc:
        logger.exception("export job %s failed", job_id)
        return write_status(
            job_id,
            state="failed",
            message=f"The export failed: {exc}",
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    return write_status(
        job_id,
        state="done",
        done=result.manifest["records"],
        zip=result.zip_path.name,
        message=f"{result.manifest['records']} records, {result.manifest['rows']} rows; "
        f"audit chain head {result.manifest['audit_chain_head']} (keep it with the export)",
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
