"""Reading the API's answers in tests."""

from __future__ import annotations

from django.http import HttpResponse


def read(response) -> HttpResponse:
    """Record exports are streamed: consume the stream (which also writes their audit)."""
    if not response.streaming:
        return response
    return HttpResponse(
        b"".join(response.streaming_content),
        status=response.status_code,
        content_type=response["Content-Type"],
    )
