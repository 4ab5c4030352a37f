"""Run every benchmark with one command (`make bench`), each in its own process, on the
database DATABASE_URL names (or the embedded PostgreSQL). Figures go to stdout and, for the
form-save run, to bench/results/*.json; BENCHMARKS.md records them with date and machine.

    python bench/run_all.py            # form save, import 2k/10k, export at 10,000 records,
                                       # analytics to 10,000; then issue 13's table (summary.py)
    python bench/run_all.py --full     # adds the 100,000-record export and analytics (~40 min)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="include the 100,000-record runs")
    args = parser.parse_args()
    runs = [
        ["form_save_benchmark.py", "--seconds", "10", "--clients", "16", "--records", "10000"],
        ["audit_chain_benchmark.py"],
        ["import_benchmark.py", "--sizes", "2000,10000"],
        ["import_tool_wait.py", "--records", "2000,10000"],
        ["export_benchmark.py", "--records", "10000", "--bundle"],
        ["analytics_benchmark.py", "--sizes", "33,1000,10000"],
    ]
    if args.full:
        runs += [
            ["export_benchmark.py", "--records", "100000"],
            ["analytics_benchmark.py", "--sizes", "100000"],
        ]
    failed = []
    for script, *options in runs:
        print(f"\n=== {script} {' '.join(options)}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(BENCH / script), *options], check=False)
        print(f"=== {script}: exit {result.returncode} in {time.monotonic() - started:.0f} s")
        if result.returncode:
            failed.append(script)
    from summary import print_summary

    print_summary()
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
