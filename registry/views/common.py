"""Small helpers shared by the registry's views."""

from __future__ import annotations

from django.http import Http404

from registry.models import DictionaryVersion, FormStatus
from registry.services.dictionary import current_dictionary_version

# Dictionary versions never change: each is parsed once per process.
_PARSED: dict[tuple[int, str], object] = {}
STATUS_CSS = {  # css suffix of registry.css status-dot classes
    None: ("none", "No data"),
    FormStatus.INCOMPLETE: ("0", "Incomplete"),
    FormStatus.UNVERIFIED: ("1", "Unverified"),
    FormStatus.COMPLETE: ("2", "Complete"),
}


def dictionary_version() -> DictionaryVersion:
    try:
        version = current_dictionary_version()
    except LookupError:
        raise Http404("No data dictionary has been imported yet.") from None
    key = (version.pk, version.sha256)
    if key in _PARSED:
        version.__dict__["dictionary"] = _PARSED[key]
    else:
        _PARSED[key] = version.dictionary
    return version


def status_css(status: int | None) -> tuple[str, str]:
    return STATUS_CSS.get(status, STATUS_CSS[None])
