"""The REDCap-compatible API: one POST endpoint, form-encoded, authenticated by token.

Errors: 400 bad request, 401 no or unknown token, 403 not allowed for the role, 413 a form
body over DATA_UPLOAD_MAX_MEMORY_SIZE (a file in a multipart body is not: Django spools it to
disk and the import reads it in pieces), 429 too many calls; the body in the returnFormat asked
for (json by default for errors, as REDCap does when the format is unknown)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from centers.tokens import token_digest, user_for_token
from registry.audit import record_event
from registry.hostile_input import scrub
from registry.middleware import validates_own_input
from registry.services.errors import PermissionDenied

from . import lock, methods
from .form_body import form_params
from .params import Params
from .ratelimit import over_limit
from .record_delete import delete_records
from .record_export import export_record_rows
from .record_import import import_records
from .responses import (
    FORMATS,
    ApiError,
    error_response,
    ids_response,
    rows_response,
    text_response,
)

SECRET_PARAMS = {"token", "data", "password"}


def _formats(params: Params) -> tuple[str, str]:
    fmt = params.get("format", "xml").lower() or "xml"
    return_fmt = params.get("returnFormat", "").lower() or fmt
    return (fmt if fmt in FORMATS else "xml"), (return_fmt if return_fmt in FORMATS else "json")


@csrf_exempt
@require_POST
@validates_own_input
def api(request: HttpRequest) -> HttpResponse:
    try:
        form = form_params(request)  # a form body: percent-decoded in pieces
        params = Params(form) if form is not None else Params(request.POST, request.FILES)
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        message = (
            f"The request is larger than the {limit:.1f} MB this server accepts in one call "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE): send the records in several calls, for example "
            "10,000 records each, or send 'data' as a file in a multipart/form-data body "
            "(read from disk, it is not held by this limit). Nothing was imported"
        )
        return error_response(ApiError(message, 413), "json")  # the format is in that body
    fmt, return_fmt = _formats(params)
    token = params.get("token")
    user = user_for_token(token)
    if user is None:
        return error_response(
            ApiError("You do not have permissions to use the API", 401), return_fmt
        )
    wait = over_limit(token_digest(token))
    if wait:
        response = error_response(
            ApiError(
                "Too many API calls: the limit is per token and per minute; try again in "
                f"{wait} seconds",
                429,
            ),
            return_fmt,
        )
        response["Retry-After"] = str(wait)
        return response
    content, action = params.get("content"), params.get("action")

    def audit(summary: dict, status: int = 200) -> None:
        record_event(
            "api_call",
            user=user,
            details={
                "content": scrub(content),
                "action": scrub(action),
                "status": status,
                **scrub(summary),
                "params": params.for_audit(SECRET_PARAMS),
            },
        )

    try:
        refusal = params.refusal()  # hostile bytes: refused (and audited) before any look-up
        if refusal is not None:
            raise refusal
        response, summary = _dispatch(
            user, params, content, action, fmt, return_fmt, audit, request=request
        )
    except ApiError as exc:
        audit({"error": exc.message[:500]}, exc.status)
        return error_response(exc, return_fmt)
    if summary is not None:  # a streamed export audits itself once the last row is sent
        audit(summary, response.status_code)
    return response


def _dispatch(
    user, params: Params, content: str, action: str, fmt: str, return_fmt: str, audit, *, request
) -> tuple[HttpResponse, dict | None]:
    if content == "record":
        if action == "delete":
            return delete_records(user, params)
        sent = "data" in params.data or params.upload("data") is not None
        if action in ("", "export") and not sent:
            return export_record_rows(user, params, audit), None
        if action in ("", "import"):
            return _import(user, params, return_fmt)
    if content == "lock":  # a signature: its password counts toward the log-in lockout
        return lock.lock(user, params, return_fmt, request=request), {}
    return methods.dispatch(user, params, content, fmt, return_fmt), {}


def _import(user, params: Params, return_fmt: str) -> tuple[HttpResponse, dict]:
    try:
        result = import_records(user, params)
    except PermissionDenied as exc:
        raise ApiError(str(exc), 403) from None
    with result:
        summary = {"records": result.count, "ids": result.first}
        what = params.choice("returnContent", ("count", "ids", "auto_ids", "nothing"), "count")
        if what == "auto_ids" and not params.flag("forceAutoNumber"):
            what = "ids"
        if what == "nothing":
            return HttpResponse(""), summary
        if what == "count":
            if return_fmt == "json":
                return JsonResponse({"count": result.count}), summary
            if return_fmt == "xml":
                return rows_response([{"count": result.count}], "xml"), summary
            return text_response(str(result.count)), summary
        ids = result.ids() if what == "ids" else result.auto_ids()
        return ids_response(ids, return_fmt), summary
