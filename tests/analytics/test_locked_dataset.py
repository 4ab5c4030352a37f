"""Analytics reads the locked dataset only through registry.dataset: no SQL of its own on
registry tables, a record whose signature does not match is not in the figures, and its
modules import one way (no cycle hidden behind imports inside functions)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from analytics.analysis_dataset import record_hashes_of
from analytics.models import StatisticsSnapshot
from analytics.tasks import recompute_statistics
from registry.models import LockOutbox
from tests.fixtures_records import lock_with_forged_signature

ANALYTICS = Path(__file__).resolve().parents[2] / "analytics"
SOURCES = sorted(p for p in ANALYTICS.rglob("*.py") if "migrations" not in p.parts)


def test_analytics_runs_no_sql_on_registry_tables():
    found = [
        f"{path.relative_to(ANALYTICS)}:{n}: {line.strip()}"
        for path in SOURCES
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"registry_|centers_|cursor\(|\.raw\(|\.extra\(|LOCK TABLE", line)
    ]
    assert found == []


def _analytics_imports(path: Path) -> tuple[set[str], list[str]]:
    """(analytics modules imported at module level, analytics imports inside functions)."""
    tree = ast.parse(path.read_text())
    top, nested = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = f"analytics.{node.module or ''}".rstrip(".") if node.level else node.module
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        modules = {
            ".".join(n.split(".")[:2])
            for n in names
            if n.startswith("analytics.") and (ANALYTICS / f"{n.split('.')[1]}.py").exists()
        }
        if node in tree.body:
            top |= modules
        elif modules:
            nested.append(f"line {node.lineno}: {ast.unparse(node)}")
    return top, nested


def test_analytics_modules_import_one_way():
    graph, nested = {}, {}
    for path in SOURCES:
        module = f"analytics.{path.stem}"
        graph[module], found = _analytics_imports(path)
        if found:
            nested[module] = found
    assert nested == {}

    def cycle_from(module: str, trail: tuple[str, ...]) -> tuple[str, ...] | None:
        if module in trail:
            return (*trail, module)
        for imported in graph.get(module, ()):
            found = cycle_from(imported, (*trail, module))
            if found:
                return found
        return None

    cycles = [c for m in graph if (c := cycle_from(m, ()))]
    assert cycles == []
    assert "analytics.details" not in graph["analytics.services"]
    assert "analytics.services" not in graph["analytics.details"]


def test_a_record_whose_signature_does_not_match_is_not_in_the_figures(
    make_records, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (signed,) = make_records(1)
    (forged,) = make_records(1, lock=False)
    with django_capture_on_commit_callbacks(execute=False):
        lock_with_forged_signature(forged, people["inv_mil"])
    newest = LockOutbox.objects.latest("pk").dataset_version
    assert recompute_statistics.apply(args=[newest], throw=True).get() == newest
    snapshot = StatisticsSnapshot.objects.latest()
    assert snapshot.n_locked_records == 1
    assert list(record_hashes_of(snapshot)) == [signed.record_id]
