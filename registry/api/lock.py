"""content=lock: REDCap's missing lock API. action=status|lock|unlock with records[]; lock needs
the signer's password and the meaning of the signature, unlock a reason. Same services, rules
and audit as the web pages (registry.services.locking)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from registry.models import Record
from registry.services.dictionary import current_dictionary_version
from registry.services.errors import LockRefused, PermissionDenied, RegistryError
from registry.services.locking import (
    SIGNATURE_MEANINGS,
    current_signature,
    lock_records,
    signature_is_valid,
    unlock_record,
)

from .params import Params
from .responses import ApiError, rows_response


def _records(user, params: Params) -> list[Record]:
    ids = params.array("records")
    if not ids:
        raise ApiError("Give the records with records[]")
    found = {r.record_id: r for r in Record.objects.visible_to(user).filter(record_id__in=ids)}
    missing = [rid for rid in ids if rid not in found]
    if missing:
        raise ApiError(f"The following records do not exist: {', '.join(missing)}")
    return [found[rid] for rid in dict.fromkeys(ids)]


def lock(user, params: Params, fmt: str, *, request: HttpRequest | None = None) -> HttpResponse:
    action = params.choice("action", ("status", "lock", "unlock"), "status")
    records = _records(user, params)
    try:
        if action == "lock":
            meaning = params.get("meaning")
            if meaning.isdigit() and 1 <= int(meaning) <= len(SIGNATURE_MEANINGS):
                meaning = SIGNATURE_MEANINGS[int(meaning) - 1]
            lock_records(
                user=user,
                records=records,
                password=params.get("password"),
                code=params.get("code"),
                meaning=meaning,
                dictionary_version=current_dictionary_version(),
                request=request,
            )
        elif action == "unlock":
            with transaction.atomic():
                for record in records:
                    unlock_record(user=user, record=record, reason=params.get("reason"))
    except PermissionDenied as exc:
        raise ApiError(str(exc), 403) from None
    except LockRefused as exc:
        detail = "; ".join(exc.blockers)
        raise ApiError(f"{exc} {detail}".strip()) from None
    except RegistryError as exc:
        raise ApiError(str(exc)) from None
    if action != "status":
        return (
            JsonResponse({"count": len(records)})
            if fmt == "json"
            else HttpResponse(str(len(records)))
        )
    rows = []
    for record in records:
        record.refresh_from_db()
        signature = current_signature(record)
        rows.append(
            {
                "record": record.record_id,
                "locked": 1 if record.is_locked else 0,
                "locked_at": timezone.localtime(record.locked_at).strftime("%Y-%m-%d %H:%M:%S")
                if record.is_locked and record.locked_at
                else "",
                "signed_by": signature.signer_name if signature else "",
                "signature_valid": "" if signature is None else int(signature_is_valid(signature)),
            }
        )
    return rows_response(rows, fmt)
