"""The export page: choose options, a job builds the zip (Celery), the page polls its status."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from centers.access import access_for

from .forms import ExportForm
from .jobs import create_job, job_dir, jobs_of, read_status

TASK = "registry.build_export"


def send_export_job(job_id: str) -> None:
    from config.celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        app.loader.import_default_modules()
        app.tasks[TASK].apply(args=[job_id], throw=False)
    else:
        app.send_task(TASK, args=[job_id])


def _own_status(request: HttpRequest, job_id: str) -> dict:
    try:
        status = read_status(job_id)
    except (FileNotFoundError, ValueError):
        raise Http404("No such export") from None
    if status.get("user_id") != request.user.pk:
        raise Http404("No such export")
    return status


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
        messages.info(request, "The export is being built; this page shows its progress.")
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
