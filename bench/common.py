"""Shared set-up for benchmarks: Django configured from the environment (DATABASE_URL or the
embedded PostgreSQL), and a live stack (fresh database + gunicorn) from tests/live.py."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def database_url(name: str) -> str:
    """The URL of database `name` on the server DATABASE_URL names (or the embedded PostgreSQL),
    parsed as the settings parse it, socket directory included. Does not configure Django, so a
    benchmark can still point DATABASE_URL at a database it creates before django.setup()."""
    import environ

    from config.database_urls import database_url as url_for

    configured = os.environ.get("DATABASE_URL")
    if not configured:
        from config.embedded_db import ensure_running

        configured = ensure_running()
    return url_for(environ.Env.db_url_config(configured), name=name)


def django_setup() -> None:
    import django

    django.setup()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    python = platform.python_version()
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}; Python {python}; {pg}"


def write_result(name: str, result: dict) -> Path:
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    result = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **result,
    }
    path = out / f"{name}.json"
    path.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return path


def km_fits_ms(arrays: list) -> float:
    """lifelines' own Kaplan-Meier fits of (times, events) arrays, best of three, in ms: the
    limit the worker's statistics are measured against."""
    return min(km_fits_passes_ms(arrays))


def km_fits_passes_ms(arrays: list, passes: int = 3) -> list[float]:
    """Each pass of km_fits_ms, in ms (the first one warm too when the process has fitted
    before)."""
    from lifelines import KaplanMeierFitter

    times = []
    for _ in range(passes):
        started = time.perf_counter()
        for t, e in arrays:
            KaplanMeierFitter().fit(t, e)
        times.append(1000 * (time.perf_counter() - started))
    return times
