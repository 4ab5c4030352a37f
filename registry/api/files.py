"""content=file export: file upload fields exist in REDCap dictionaries, but this registry stores
no files in them (registry.entry.NO_VALUE_TYPES), so every export answers REDCap's 'no file'
error once the record and the field have been checked like any other read."""

from __future__ import annotations

from django.http import HttpResponse

from registry.models import Record
from registry.services.dictionary import current_dictionary_version

from .params import Params
from .responses import ApiError


def export_file(user, params: Params, fmt: str, return_fmt: str) -> HttpResponse:
    record_id, field_name = params.get("record"), params.get("field")
    if not record_id:
        raise ApiError('The parameter "record" is missing')
    if not field_name:
        raise ApiError('The parameter "field" is missing')
    dictionary = current_dictionary_version().dictionary
    if field_name not in dictionary:
        raise ApiError(f"The field '{field_name}' does not exist")
    if dictionary.field(field_name).field_type != "file":
        raise ApiError(f"The field '{field_name}' is not a file upload field")
    if not Record.objects.visible_to(user).filter(record_id=record_id).exists():
        raise ApiError(f"The record '{record_id}' does not exist")
    raise ApiError("There is no file to download for this record")
