"""The data manager's dictionary pages: versions, CSV download, upload of a new version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from centers.access import access_for
from registry.audit import record_event
from registry.dictionary import DictionaryInvalid
from registry.forms.dictionary import DictionaryUploadForm, carried_upload
from registry.models import DictionaryVersion
from registry.services.dictionary import import_dictionary
from registry.services.errors import DictionaryChangeRefused, DictionaryUnchanged


def _require_data_manager(user) -> None:
    if not access_for(user).is_data_manager:
        raise Forbidden(_("The data dictionary is managed by data managers."))


@login_required
@require_http_methods(["GET", "POST"])
def dictionary_home(request):
    _require_data_manager(request.user)
    form = DictionaryUploadForm(request.POST or None, request.FILES or None)
    errors, refused, status = [], None, 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                version = import_dictionary(
                    csv_text=form.cleaned_data["csv_text"],
                    user=request.user,
                    confirm_changes=form.cleaned_data["confirm_changes"],
                    note=form.cleaned_data["note"],
                )
            except DictionaryInvalid as exc:
                errors = exc.errors
            except DictionaryChangeRefused as exc:
                refused = {
                    "message": str(exc),
                    "changes": [(c, exc.affected.get(i, [])) for i, c in enumerate(exc.changes)],
                }
                data = request.POST.copy()
                data["csv_base64"] = carried_upload(form.cleaned_data["csv_text"])
                form = DictionaryUploadForm(data)
                status = 409
            except DictionaryUnchanged as exc:
                messages.info(request, str(exc))
                return redirect("registry:dictionary")
            else:
                messages.success(
                    request,
                    _("Dictionary version %(number)s is now current.") % {"number": version.number},
                )
                return redirect("registry:dictionary")
    versions = DictionaryVersion.objects.order_by("-number").select_related("created_by")
    return render(
        request,
        "registry/dictionary.html",
        {
            "form": form,
            "errors": errors,
            "refused": refused,
            "versions": versions,
            "current": versions.first(),
        },
        status=status,
    )


@login_required
@require_GET
def dictionary_csv(request, number: int):
    _require_data_manager(request.user)
    version = get_object_or_404(DictionaryVersion, number=number)
    response = HttpResponse(version.source_csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dictionary-v{number}.csv"'
    record_event(
        "dictionary_export",
        user=request.user,
        details={"version": number, "sha256": version.sha256},
    )
    return response
