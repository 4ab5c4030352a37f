"""Small helpers shared by the registry's views."""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from registry.models import DictionaryVersion, FormStatus, Query
from registry.services.dictionary import current_dictionary_version

# Dictionary versions never change: each is loaded and parsed once per process, and a request
# only asks the database which version is current.
_LOADED: dict[tuple[int, int, str], DictionaryVersion] = {}
STATUS_CSS = {  # css suffix of registry.css status-dot classes
    None: ("none", _("No data")),
    FormStatus.INCOMPLETE: ("0", _("Incomplete")),
    FormStatus.UNVERIFIED: ("1", _("Unverified")),
    FormStatus.COMPLETE: ("2", _("Complete")),
}


def dictionary_version(current_key: str | None = None) -> DictionaryVersion:
    """The current version. `current_key`: "pk:number:sha256" as read with the record
    (Record.objects.visible_by_id), which spares the request its own statement."""
    if current_key:
        pk, number, sha256 = current_key.split(":", 2)
        key = (int(pk), int(number), sha256)
    else:
        key = DictionaryVersion.objects.values_list("pk", "number", "sha256").current()
    if key in _LOADED:
        return _LOADED[key]
    try:
        version = current_dictionary_version()
    except LookupError:
        raise Http404(_("No data dictionary has been imported yet.")) from None
    version.dictionary  # noqa: B018 - parse it once, here
    _LOADED[(version.pk, version.number, version.sha256)] = version
    return version


def status_css(status: int | None) -> tuple[str, str]:
    return STATUS_CSS.get(status, STATUS_CSS[None])


def unresolved_queries_by_form(record) -> dict[str, int]:
    """Queries not yet closed on a record, counted per form (one aggregate query)."""
    rows = (
        Query.objects.filter(record=record)
        .exclude(status=Query.Status.CLOSED)
        .values_list("instrument")
        .annotate(n=Count("pk"))
    )
    return dict(rows)
