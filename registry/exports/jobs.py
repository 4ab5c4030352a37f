"""Export jobs as files, not database rows: EXPORT_ROOT/<job-id>/ holds the export's files and
status.json: {"id", "user_id", "state" (queued|running|done|failed), "total", "done",
"message", "zip", "options", "created_at", "finished_at"}. Written atomically (temp + rename);
the web page polls it. Old job directories can be deleted at any time (nothing refers to them).

A job runs once: the worker that creates its `claimed` file builds it (a duplicate delivery finds
the file and does nothing). While building, a thread touches `heartbeat`; a running job whose
heartbeat is older than EXPORT_STALE_SECONDS lost its worker and is failed (the page offers a
retry, which is a new job); a queued job no worker took (its message lost with Redis) is resent,
and failed after MAX_SENDS sends.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from .options import ExportOptions

logger = logging.getLogger(__name__)
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
TASK = "registry.build_export"
MAX_SENDS = 3


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
        # to the microsecond: two exports started within one second are still listed newest first
        created_at=datetime.now(UTC).isoformat(timespec="microseconds"),
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
                found.append(fail_if_stale(status))
    found.sort(key=lambda s: s.get("created_at", ""), reverse=True)
    return found[:limit]


def options_from_json(data: dict) -> ExportOptions:
    data = dict(data)
    for key in ("fields", "forms", "records", "formats"):
        data[key] = tuple(data.get(key, ()))
    return ExportOptions(**data)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def send_export_job(job_id: str) -> None:
    from config.celery import app

    # Counted in a file of its own: status.json is the worker's to write once it runs.
    sends = job_dir(job_id) / "sends"
    sends.write_text(str(_sends(job_id) + 1))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        app.loader.import_default_modules()
        app.tasks[TASK].apply(args=[job_id], throw=False)
    else:
        app.send_task(TASK, args=[job_id])


def _sends(job_id: str) -> int:
    try:
        return int((job_dir(job_id) / "sends").read_text())
    except (FileNotFoundError, ValueError):
        return 0


def claim_job(job_id: str) -> bool:
    """True for exactly one caller per job (an exclusive create is atomic on any filesystem)."""
    try:
        fd = os.open(job_dir(job_id) / "claimed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


@contextmanager
def heartbeat(job_id: str) -> Iterator[None]:
    """Touch the job's heartbeat file every EXPORT_HEARTBEAT_SECONDS while the body runs; it
    stops with the process, which is the point."""
    path = job_dir(job_id) / "heartbeat"
    path.touch()
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(settings.EXPORT_HEARTBEAT_SECONDS):
            path.touch()

    thread = threading.Thread(target=beat, name=f"export-heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _age_seconds(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def fail_if_stale(status: dict) -> dict:
    """A running job whose worker stopped beating ends as failed (never "running" forever)."""
    if status.get("state") != "running":
        return status
    age = _age_seconds(job_dir(status["id"]) / "heartbeat")
    if age <= settings.EXPORT_STALE_SECONDS:
        return status
    logger.warning("export job %s: no heartbeat for %.0f s, marked failed", status["id"], age)
    return write_status(
        status["id"],
        state="failed",
        message="The worker building this export stopped; nothing was lost, retry it.",
        finished_at=now_iso(),
    )


def sweep_stale_jobs() -> int:
    """Beat: fail running jobs without a heartbeat; resend queued jobs no worker took (their
    message was lost), failing them after MAX_SENDS sends. Returns how many were touched."""
    root = Path(settings.EXPORT_ROOT)
    if not root.exists():
        return 0
    touched = 0
    for path in root.iterdir():
        if not JOB_ID.match(path.name) or not (path / "status.json").exists():
            continue
        try:
            status = read_status(path.name)
        except (OSError, ValueError):
            continue
        if status.get("state") == "running":
            touched += fail_if_stale(status)["state"] == "failed"
            continue
        waited = _age_seconds(path / "sends")
        if status.get("state") != "queued" or waited <= settings.EXPORT_STALE_SECONDS:
            continue
        touched += 1
        if _sends(path.name) >= MAX_SENDS:
            write_status(
                path.name,
                state="failed",
                message="No worker picked this export up; retry it.",
                finished_at=now_iso(),
            )
        else:
            logger.warning("export job %s still queued after %.0f s; resending", path.name, waited)
            send_export_job(path.name)
    return touched
