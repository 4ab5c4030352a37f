"""Export jobs as files, not database rows: EXPORT_ROOT/<job-id>/ holds the export's files and
status.json: {"id", "user_id", "state" (queued|running|done|failed), "total", "done",
"message", "zip", "options", "created_at", "finished_at"}. Written atomically (temp + rename);
the web page polls it. Old job directories can be deleted at any time (nothing refers to them).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from .options import ExportOptions

JOB_ID = re.compile(r"^[0-9a-f]{32}$")


def job_dir(job_id: str) -> Path:
    if not JOB_ID.match(job_id or ""):
        raise FileNotFoundError(job_id)
    return Path(settings.EXPORT_ROOT) / job_id


def read_status(job_id: str) -> dict:
    with (job_dir(job_id) / "status.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def write_status(job_id: str, **changes) -> dict:
    path = job_dir(job_id) / "status.json"
    status = {}
    if path.exists():
        status = json.loads(path.read_text(encoding="utf-8"))
    status.update(changes)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(status, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
    return status


def create_job(*, user, options: ExportOptions) -> str:
    job_id = uuid.uuid4().hex
    job_dir(job_id).mkdir(parents=True, exist_ok=False)
    write_status(
        job_id,
        id=job_id,
        user_id=user.pk,
        state="queued",
        total=0,
        done=0,
        message="Waiting for a worker",
        zip="",
        options=options.to_json(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        finished_at="",
    )
    return job_id


def jobs_of(user, limit: int = 20) -> list[dict]:
    root = Path(settings.EXPORT_ROOT)
    if not root.exists():
        return []
    found = []
    for path in root.iterdir():
        status_file = path / "status.json"
        if JOB_ID.match(path.name) and status_file.exists():
            try:
                status = json.loads(status_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if status.get("user_id") == user.pk:
                found.append(status)
    found.sort(key=lambda s: s.get("created_at", ""), reverse=True)
    return found[:limit]


def options_from_json(data: dict) -> ExportOptions:
    data = dict(data)
    for key in ("fields", "forms", "records", "formats"):
        data[key] = tuple(data.get(key, ()))
    return ExportOptions(**data)
