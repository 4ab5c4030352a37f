"""The export page: choose options, a job builds the zip (Celery), the page polls its status."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from centers.access import access_for

from .forms import ExportForm
from .jobs import create_job, fail_if_stale, job_dir, jobs_of, options_from_json, read_status
from .jobs import send_export_job as send_export_job


def _own_status(request: HttpRequest, job_id: str) -> dict:
    try:
        status = read_status(job_id)
    except (FileNotFoundError, ValueError):
        raise Http404("No such export") from None
    if status.get("user_id") != request.user.pk:
        raise Http404("No such export")
    return fail_if_stale(status)


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    if not access.memberships:
        raise Http404("No registry role")
    form = ExportForm(request.POST or None, access=access)
    if request.method == "POST" and form.is_valid():
        job_id = create_job(user=request.user, options=form.options())
        transaction.on_commit(lambda: send_export_job(job_id), robust=True)
        messages.info(request, _("The export is being built; this page shows its progress."))
        return redirect("exports:page")
    scope = (
        "every centre"
        if access.reads_all_centers
        else ", ".join(c.code for c in access.editable_centers)
    )
    return render(
        request,
        "exports/page.html",
        {
            "form": form,
            "jobs": jobs_of(request.user),
            "scope": scope,
            "may_include_unlocked": ExportForm.may_include_unlocked(access),
        },
    )


@login_required
@require_GET
def job_status(request: HttpRequest, job_id: str) -> HttpResponse:
    return render(request, "exports/_job.html", {"job": _own_status(request, job_id)})


@login_required
@require_GET
def download(request: HttpRequest, job_id: str) -> FileResponse:
    status = _own_status(request, job_id)
    if status.get("state") != "done" or not status.get("zip"):
        raise Http404("The export is not ready")
    path = job_dir(job_id) / "files" / status["zip"]
    if not path.exists():
        raise Http404("The export file was removed")
    return FileResponse(path.open("rb"), as_attachment=True, filename=status["zip"])


@login_required
@require_POST
def retry(request: HttpRequest, job_id: str) -> HttpResponse:
    """A failed job again, as a new job with the same options (checked against today's rights)."""
    status = _own_status(request, job_id)
    access = access_for(request.user)
    options = options_from_json(status["options"])
    if not access.memberships or status.get("state") != "failed":
        raise Http404("No failed export to retry")
    if not options.locked_only and not ExportForm.may_include_unlocked(access):
        raise Http404("No failed export to retry")
    new_id = create_job(user=request.user, options=options)
    transaction.on_commit(lambda: send_export_job(new_id), robust=True)
    messages.info(request, _("The export is being built again; this page shows its progress."))
    return redirect("exports:page")
