"""The web's boundary for hostile bytes: a request whose path, query string, form fields or
uploaded file names hold what registry.hostile_input refuses gets a 400 naming the parameter,
before any view runs. Views whose protocol answers errors in its own format (the REDCap API) are
marked with ``@validates_own_input`` and check their body themselves (registry.api.params).

Uploaded file *contents* are checked where they are parsed (dictionary, import), so that the
error can name the row and column.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from registry.hostile_input import BIGINT_MAX, describe_problem, integer_out_of_range
from registry.hostile_input import printable_name as shown

logger = logging.getLogger("registry.hostile_input")

BROKEN_UTF8 = re.compile(r"%[89A-Fa-f][0-9A-Fa-f]")
MAX_PATH_CHARS = 2_000
MAX_QUERY_CHARS = 8_000
# a dictionary: at most 5 MB; an API import file: 100,000 six-field records take 13 MB of JSON
MAX_REQUEST_BYTES = 25 * 1024 * 1024
View = TypeVar("View", bound=Callable)


class Refused(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def validates_own_input(view: View) -> View:
    """The view checks its body itself and answers in its protocol's error format."""
    view.validates_own_input = True
    return view


class HostileInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _drop_hostile_cookies(request)
        try:
            _check_size(request)
            _check_path(request)
            _check_query(request)
        except Refused as refusal:
            return _refuse(request, refusal)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        try:
            for name, value in view_kwargs.items():
                if isinstance(value, int) and not -BIGINT_MAX <= value <= BIGINT_MAX:
                    raise Refused(f"The path parameter '{name}' is a number out of range.")
            if request.method == "POST" and not getattr(view_func, "validates_own_input", False):
                _check_form(request)
        except Refused as refusal:
            return _refuse(request, refusal)
        return None


def _refuse(request: HttpRequest, refusal: Refused) -> HttpResponse:
    logger.warning("refused %s %s: %s", request.method, shown(request.path, 200), refusal.message)
    return HttpResponse(
        refusal.message + "\n",
        status=refusal.status,
        content_type="text/plain; charset=utf-8",
    )


def _drop_hostile_cookies(request: HttpRequest) -> None:
    """A hostile cookie is ignored, as if not sent: refusing it would lock the browser out."""
    for name, value in list(request.COOKIES.items()):
        if describe_problem(name, multiline=False) or describe_problem(value, multiline=False):
            del request.COOKIES[name]


def _check_size(request: HttpRequest) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused("The Content-Length header is not a number.") from None
    if length > MAX_REQUEST_BYTES:
        raise Refused(
            f"The request is larger than {MAX_REQUEST_BYTES // (1024 * 1024)} MB.", status=413
        )


def _check_path(request: HttpRequest) -> None:
    # Django re-percent-encodes path bytes that are not UTF-8 (repercent_broken_unicode), and
    # no address of this site holds a percent sign: "%80".."%FF" in the path are such bytes.
    if BROKEN_UTF8.search(request.path_info):
        raise Refused("The address contains bytes that are not valid UTF-8.")
    if len(request.path_info) > MAX_PATH_CHARS:
        raise Refused(f"The address is longer than {MAX_PATH_CHARS} characters.", status=414)
    problem = describe_problem(request.path_info, multiline=False)
    if problem:
        raise Refused(f"The address contains {problem}.")


def _check_query(request: HttpRequest) -> None:
    if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_CHARS:
        raise Refused(f"The query string is longer than {MAX_QUERY_CHARS} characters.", status=414)
    _check_parameters(request.GET.lists(), "query parameter", numbers=True)


def _check_form(request: HttpRequest) -> None:
    try:
        fields, files = request.POST, request.FILES
    except MultiPartParserError:
        raise Refused("The form data could not be read (malformed multipart body).") from None
    _check_parameters(fields.lists(), "form field", numbers=False)
    for name, uploads in files.lists():
        _check_name(name, "file field")
        for upload in uploads:
            problem = describe_problem(upload.name or "", multiline=False)
            if problem:
                raise Refused(
                    f"The name of the file uploaded as '{shown(name)}' contains {problem}."
                )


def _check_parameters(pairs, kind: str, *, numbers: bool) -> None:
    """``numbers``: query strings carry ids and page numbers only; a whole number beyond bigint
    there is refused (form fields are validated by their forms)."""
    for name, values in pairs:
        _check_name(name, kind)
        for value in values:
            problem = describe_problem(value)
            if problem:
                raise Refused(f"The {kind} '{shown(name)}' contains {problem}.")
            if numbers and integer_out_of_range(value):
                raise Refused(f"The {kind} '{shown(name)}' is a number out of range.")


def _check_name(name: str, kind: str) -> None:
    problem = describe_problem(name, multiline=False)
    if problem:
        raise Refused(f"A {kind} name ('{shown(name)}') contains {problem}.")
