"""The principal investigator's dashboard and the machine-readable results. Pooled views are
for the principal investigator, data managers and monitors; site staff get their own centres'
progress only."""

from __future__ import annotations

import hashlib
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from centers.access import access_for
from centers.tokens import user_for_token
from registry.audit import record_event

from . import presentation as present
from .analysis_dataset import DatasetPending
from .freshness import freshness_of
from .models import StatisticsSnapshot
from .narrative import results_paragraph
from .progress import centre_progress
from .table1 import display_rows
from .table1 import table1_csv as table1_csv_text

SUMMARY_KEYS = ("n", "events", "median", "median_ci", "survival_at", "excluded")
LIGHT = ("results", "curves", "analysis_config")


def _pooled_user(request: HttpRequest, *, token: bool = False):
    """The user if they may see pooled results (session, or API token where allowed)."""
    user = request.user
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Token "):
        user = user_for_token(header[6:].strip())  # an unknown token: 401, as with none
    if not user or not user.is_authenticated:
        return None
    if not access_for(user).sees_pooled_dashboard:
        raise PermissionDenied(_("The pooled dashboard is for the PI, data managers and monitors."))
    return user


def _snapshot(request: HttpRequest) -> StatisticsSnapshot | None:
    qs = StatisticsSnapshot.objects.defer("curves")
    version = request.GET.get("version")
    if version:
        if not version.isdigit():
            raise Http404("No such dataset version")
        return qs.filter(dataset_version=int(version)).first()
    return qs.order_by("-dataset_version").first()


def _audited(
    request: HttpRequest, user, response: HttpResponse, what: str, snapshot
) -> HttpResponse:
    """Every download of results is in the audit trail: who, what, which snapshot, which bytes."""
    record_event(
        "results_export",
        user=user,
        details={
            "what": what,
            "dataset_version": snapshot.dataset_version,
            "query": request.GET.dict(),
            "via_token": request.headers.get("Authorization", "").startswith("Token "),
            "sha256": hashlib.sha256(response.content).hexdigest(),
        },
    )
    return response


def _results_download(view):
    """GET views for the PI's results by session or API token: 401 without either, and the
    view gets the user and the asked-for snapshot (None when there is none yet)."""

    @require_GET
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        user = _pooled_user(request, token=True)
        if user is None:
            return _unauthenticated()
        snapshot = _snapshot(request)
        try:
            return view(request, user, snapshot)
        except DatasetPending:  # what it reads (dataset, other CI, curves) is not stored yet
            return _not_yet(present.dataset_pending(snapshot))

    return wrapper


def _not_yet(message: str) -> HttpResponse:
    """What a later stage stores, not stored yet: 503 with the reason, to try again shortly."""
    response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "10"
    return response


def _unauthenticated() -> JsonResponse:
    response = JsonResponse(
        {"detail": "Log in or send 'Authorization: Token <token>'."}, status=401
    )
    response["WWW-Authenticate"] = "Token"
    return response


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _pooled_user(request)
    snapshot = _snapshot(request)
    ci = present.ci_method_from(request.GET.get("ci"))
    context = {"snapshot": snapshot, "ci": ci, "lag": freshness_of(snapshot)}
    if snapshot is not None:
        try:
            results, pending = present.results_with_paper(snapshot, ci)
        except DatasetPending:  # another CI method needs the analysis dataset: not stored yet
            ci = snapshot.ci_method
            results, pending = present.results_with_paper(snapshot, ci)
            context.update(ci=ci, ci_pending=present.dataset_pending(snapshot))
        details = present.details_for(snapshot)
        subgroups = [
            sg for sg in snapshot.analysis_config.get("subgroups", []) if sg["key"] != "stage"
        ]
        chosen = request.GET.get("subgroup") or "site_of_origin"
        if chosen not in {sg["key"] for sg in subgroups}:
            chosen = subgroups[0]["key"] if subgroups else ""
        context.update(
            results=results,
            paragraph=results_paragraph(results),
            reproduction=present.reproduction_for(results),
            subgroups=subgroups,
            chosen=chosen,
            figures=[
                ("os", _("Overall survival")),
                ("os_by_stage", _("Overall survival by stage")),
                ("dfs", _("Disease-free survival")),
            ],
            subgroup_figures=[f"os_by_{chosen}", f"dfs_by_{chosen}"] if chosen else [],
            details_ready=details is not None,
            stages_ready=details is not None and not pending,
            table1=present.paper_block(results, "table1", pending),
            drug=present.paper_block(results, "drug_response", pending),
            pfs=present.paper_block(results, "pfs_by_line", pending),
            competing=present.paper_block(results, "competing_risks", pending),
            comparisons=[
                (k, v, (details or {}).get("cox", {}).get(k))
                for k, v in results.get("logrank", {}).items()
            ],
        )
    return render(request, "analytics/dashboard.html", context)


@login_required
@require_GET
def freshness(request: HttpRequest) -> HttpResponse:
    """Polled by the dashboard; asks htmx to reload the page when a newer snapshot exists."""
    _pooled_user(request)
    shown = request.GET.get("version", "")
    latest = StatisticsSnapshot.objects.defer(*LIGHT).order_by("-dataset_version").first()
    response = render(
        request, "analytics/_freshness.html", {"snapshot": latest, "lag": freshness_of(latest)}
    )
    if latest is not None and (
        str(latest.dataset_version) != shown
        or (request.GET.get("details") == "0" and present.stages_complete(latest))
    ):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_GET
def progress(request: HttpRequest) -> HttpResponse:
    rows = centre_progress(request.user)
    template = (
        "analytics/_progress.html" if request.GET.get("fragment") else "analytics/progress.html"
    )
    return render(request, template, {"rows": rows})


@login_required
@require_GET
def figure(request: HttpRequest, version: int, name: str, fmt: str) -> HttpResponse:
    user = _pooled_user(request)
    snapshot = StatisticsSnapshot.objects.defer("curves").filter(dataset_version=version).first()
    if snapshot is None:
        raise Http404("No such dataset version")
    ci = present.ci_method_from(request.GET.get("ci"))
    try:
        data = present.figure_bytes(snapshot, name, fmt, ci)
    except DatasetPending:  # drawn from the analysis dataset, not stored yet
        return _not_yet(present.dataset_pending(snapshot))
    if data is None:
        raise Http404("No such figure")
    if request.GET.get("inline") and fmt == "svg":
        return HttpResponse(present.inline_svg(data), content_type="text/html")
    response = HttpResponse(data, content_type=present.CONTENT_TYPES[fmt])
    filename = f"gi-lms_v{version}_{name}_{ci}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _audited(request, user, response, f"figure {name}.{fmt}", snapshot)


@_results_download
def summary_json(request: HttpRequest, user, snapshot: StatisticsSnapshot | None) -> HttpResponse:
    if snapshot is None:
        return JsonResponse({"detail": "No statistics yet: no record has been locked."}, status=404)
    ci = present.ci_method_from(request.GET.get("ci"))
    results, pending = present.results_with_paper(snapshot, ci)
    response = JsonResponse(
        {
            "dataset_version": snapshot.dataset_version,
            **freshness_of(snapshot).as_json(),
            "computed_at": snapshot.computed_at.isoformat(),
            "ci_method": ci,
            "content_sha256": snapshot.content_sha256,
            "n_locked_records": snapshot.n_locked_records,
            "endpoints": {
                key: {k: ep.get(k) for k in SUMMARY_KEYS}
                for key, ep in results["endpoints"].items()
            },
            "logrank": {
                key: {k: lr.get(k) for k in ("chisq", "df", "p")}
                for key, lr in results.get("logrank", {}).items()
            },
            "counts": results.get("counts", {}),
            "reproduction": present.reproduction_for(results),
            **{key: present.paper_block(results, key, pending) for key in present.PAPER_KEYS},
        }
    )
    return _audited(request, user, response, "summary.json", snapshot)


def _csv(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@_results_download
def curves_csv(request: HttpRequest, user, snapshot: StatisticsSnapshot | None) -> HttpResponse:
    if snapshot is None:
        raise Http404("No statistics yet")
    ci = present.ci_method_from(request.GET.get("ci"))
    response = _csv(
        present.curves_csv(snapshot, ci), f"gi-lms_v{snapshot.dataset_version}_curves.csv"
    )
    return _audited(request, user, response, "curves.csv", snapshot)


@_results_download
def analysis_dataset_csv(
    request: HttpRequest, user, snapshot: StatisticsSnapshot | None
) -> HttpResponse:
    if snapshot is None:
        raise Http404("No statistics yet")
    response = _csv(
        present.dataset_csv_text(snapshot),
        f"gi-lms_v{snapshot.dataset_version}_analysis_dataset.csv",
    )
    return _audited(request, user, response, "analysis-dataset.csv", snapshot)


def _table1(snapshot: StatisticsSnapshot) -> tuple[dict, str]:
    paper = present.paper_for(snapshot)
    pending = present.paper_pending(snapshot, paper)
    return present.paper_block(paper or {}, "table1", pending), pending


@_results_download
def table1_csv(request: HttpRequest, user, snapshot: StatisticsSnapshot | None) -> HttpResponse:
    if snapshot is None:
        raise Http404("No statistics yet")
    table, pending = _table1(snapshot)
    if pending:
        return _not_yet(pending)
    response = _csv(table1_csv_text(table), f"gi-lms_v{snapshot.dataset_version}_table1.csv")
    return _audited(request, user, response, "table1.csv", snapshot)


@_results_download
def table1_html(request: HttpRequest, user, snapshot: StatisticsSnapshot | None) -> HttpResponse:
    """Table 1 as a standalone HTML file that Word and LibreOffice open as an editable table."""
    if snapshot is None:
        raise Http404("No statistics yet")
    table, pending = _table1(snapshot)
    if pending:
        return _not_yet(pending)
    response = render(
        request,
        "analytics/table1_download.html",
        {"table": table, "rows": display_rows(table), "snapshot": snapshot},
    )
    filename = f"gi-lms_v{snapshot.dataset_version}_table1.html"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _audited(request, user, response, "table1.html", snapshot)


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    _pooled_user(request)
    snapshots = list(StatisticsSnapshot.objects.defer(*LIGHT).order_by("-dataset_version")[:200])
    diff = old = new = None
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    if a.isdigit() and b.isdigit():
        pair = {
            s.dataset_version: s
            for s in StatisticsSnapshot.objects.defer("curves").filter(
                dataset_version__in=[int(a), int(b)]
            )
        }
        old, new = pair.get(min(int(a), int(b))), pair.get(max(int(a), int(b)))
        if old is None or new is None:
            raise Http404("No such dataset version")
        diff = present.snapshot_diff(old, new)
    return render(
        request,
        "analytics/history.html",
        {
            "snapshots": snapshots,
            "diff": diff,
            "old": old,
            "new": new,
            "now": timezone.now(),
        },
    )
