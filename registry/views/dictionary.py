"""The data manager's dictionary pages: versions, CSV download, upload of a new version, and
the dictionary's translations (upload and download beside it)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from centers.access import access_for
from registry.audit import record_event
from registry.dictionary import DictionaryInvalid
from registry.dictionary.translations import translation_csv
from registry.forms.dictionary import (
    DictionaryTranslationForm,
    DictionaryUploadForm,
    carried_upload,
)
from registry.models import DictionaryVersion
from registry.services.dictionary import import_dictionary
from registry.services.dictionary_translations import (
    import_dictionary_translation,
    latest_translation,
    translation_languages,
)
from registry.services.errors import DictionaryChangeRefused, DictionaryUnchanged


def _require_data_manager(user) -> None:
    if not access_for(user).is_data_manager:
        raise Forbidden(_("The data dictionary is managed by data managers."))


def _page(request, *, form=None, translation_form=None, status=200, **context) -> HttpResponse:
    versions = DictionaryVersion.objects.order_by("-number").select_related("created_by")
    current = versions.first()
    languages = translation_languages()
    translations = [
        (code, name, latest_translation(current, code) if current else None)
        for code, name in languages
    ]
    return render(
        request,
        "registry/dictionary.html",
        {
            "form": form or DictionaryUploadForm(),
            "translation_form": translation_form or DictionaryTranslationForm(languages=languages),
            "translations": translations,
            "errors": [],
            "translation_errors": [],
            "refused": None,
            "versions": versions,
            "current": current,
            **context,
        },
        status=status,
    )


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
    return _page(request, form=form, errors=errors, refused=refused, status=status)


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


@login_required
@require_POST
def translation_upload(request):
    """A translation file for the current version; refused with every problem by row."""
    _require_data_manager(request.user)
    current = DictionaryVersion.objects.current()
    if current is None:
        raise Http404("No dictionary")
    form = DictionaryTranslationForm(request.POST, request.FILES, languages=translation_languages())
    if not form.is_valid():
        return _page(request, translation_form=form, status=400)
    try:
        import_dictionary_translation(
            version=current,
            language=form.cleaned_data["language"],
            csv_text=form.cleaned_data["csv_file"],
            user=request.user,
            note=form.cleaned_data["note"],
        )
    except DictionaryInvalid as exc:
        return _page(request, translation_form=form, translation_errors=exc.errors, status=400)
    messages.success(
        request,
        _("The translation of dictionary version %(number)s is saved.")
        % {"number": current.number},
    )
    return redirect("registry:dictionary")


@login_required
@require_GET
def translation_download(request, number: int, language: str):
    """Every translatable text of the version, its translation beside the base text: the file
    to give a translator, and to upload again."""
    _require_data_manager(request.user)
    version = get_object_or_404(DictionaryVersion, number=number)
    if language not in dict(translation_languages()):
        raise Http404("No such language")
    translation = latest_translation(version, language)
    entries = translation.translation_entries if translation else []
    text = translation_csv(version.dictionary, entries, version.missing_codes)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dictionary-v{number}-{language}.csv"'
    record_event(
        "dictionary_export",
        user=request.user,
        details={"version": number, "language": language, "texts": len(entries)},
    )
    return response
