"""Tests that need a program from outside the virtualenv (Debian's R, chromium, node) or a
service (Redis). On a developer's machine without it they are skipped, with the apt command
that adds it; under CI (`REQUIRE_EXTERNAL_SERVICES=1`, set by .ci/run) they fail instead, so
the suite that lands has run them all."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache

import pytest


def require(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("REQUIRE_EXTERNAL_SERVICES"):
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} is not available here")


@cache
def r_with_survival() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(["Rscript", "-e", "library(survival)"], capture_output=True, check=False)
    return probe.returncode == 0


def require_r() -> None:
    require(r_with_survival(), "R with the survival package (apt-get install r-cran-survival)")


@cache
def r_with_cmprsk() -> bool:
    if not r_with_survival():
        return False
    probe = subprocess.run(["Rscript", "-e", "library(cmprsk)"], capture_output=True, check=False)
    return probe.returncode == 0


def require_r_cmprsk() -> None:
    """R with survival and cmprsk (Gray's test in the paper's reference values)."""
    require(r_with_cmprsk(), "R with cmprsk (apt-get install r-cran-survival r-cran-cmprsk)")


def require_chromium() -> None:
    require(os.path.exists("/usr/bin/chromium"), "Debian's chromium (apt-get install chromium)")


def require_node() -> None:
    require(shutil.which("node") is not None, "Node.js (apt-get install nodejs)")


def require_redis(url: str) -> None:
    """Redis at `url`, its database emptied first (each test uses its own db number, so stale
    messages from an earlier run go)."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
        reachable = True
    except redis.exceptions.ConnectionError:
        reachable = False
    require(reachable, f"Redis at {url}")
