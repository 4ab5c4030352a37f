"""A small closed-loop HTTP load generator: N clients, each on its own keep-alive connection,
for a fixed duration. Reports requests/s and latency percentiles. Pure standard library, so a
benchmark needs nothing installed beyond the project."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(p / 100 * len(data)))] if data else float("nan")

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2) if self.latencies_ms else None,
        }


class Client:
    """One keep-alive connection with a cookie jar."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict | None = None
    ) -> tuple[int, dict, bytes]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), data


def run_load(
    base_url: str,
    *,
    clients: int,
    seconds: float,
    setup: Callable[[Client, int], object],
    step: Callable[[Client, object], bool],
) -> LoadResult:
    """`setup(client, i)` prepares client i (log in...); `step(client, state)` does one request
    and returns True on success. Only `step` is timed."""
    prepared = []
    for i in range(clients):
        client = Client(base_url)
        prepared.append((client, setup(client, i)))
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(client: Client, state: object) -> None:
        local, ok, errors = [], 0, 0
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            started = time.perf_counter()
            success = step(client, state)
            local.append((time.perf_counter() - started) * 1000)
            ok, errors = (ok + 1, errors) if success else (ok, errors + 1)
        with lock:
            latencies.extend(local)
            counts["ok"] += ok
            counts["errors"] += errors

    threads = [threading.Thread(target=worker, args=p) for p in prepared]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    started = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return LoadResult(counts["ok"], counts["errors"], elapsed, latencies)


def get_ok(path: str) -> Callable[[Client, object], bool]:
    def step(client: Client, _state: object) -> bool:
        status, _, _ = client.request("GET", path)
        return status == 200

    return step
