"""Walks the URL resolver: every route that takes a patient-data identifier is tried as a
coordinator of another centre, GET and POST, and must give nothing away. New views are covered
without editing this test."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from registry.models import Query

pytestmark = pytest.mark.django_db

PATIENT_KEYS = {"record_id", "query_id", "pk", "signature_id", "instance"}


def walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p


def patient_routes() -> list[str]:
    routes = []
    for route, _pattern in walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue
        names = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
        if names & PATIENT_KEYS:
            routes.append(route)
    return sorted(set(routes))


def fill(route: str, values: dict[str, str]) -> str:
    def sub(match):
        return values.get(match.group(1), "1")

    path = re.sub(r"<(?:\w+:)?(\w+)>", sub, route)
    path = path.replace("^", "").replace("$", "")
    return "/" + path


def test_the_walk_finds_the_record_routes():
    routes = patient_routes()
    assert any("record_id" in r for r in routes), routes


def test_other_centre_gets_nothing_from_any_patient_route(client, locked_record, people, centers):
    query = Query.objects.create(
        record=locked_record, instrument="stage", field="stage_dx", opened_by=people["monitor"]
    )
    values = {
        "record_id": locked_record.record_id,
        "query_id": str(query.pk),
        "pk": str(query.pk),
        "instrument": "stage",
        "instance": "1",
        "field": "stage_dx",
        "signature_id": str(locked_record.signatures.first().pk),
    }
    client.force_login(people["coord_bol"])
    leaks = []
    for route in patient_routes():
        url = fill(route, values)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            body = b"".join(response) if response.streaming else response.content
            if response.status_code not in (403, 404, 405) or (
                locked_record.record_id.encode() in body
            ):
                leaks.append((method.upper(), url, response.status_code))
    assert leaks == []


def test_record_routes_answer_404_never_403(client, complete_record, people):
    client.force_login(people["coord_bol"])
    for route in patient_routes():
        if "record_id" not in route:
            continue
        url = fill(
            route,
            {"record_id": complete_record.record_id, "instrument": "stage", "field": "stage_dx"},
        )
        assert client.get(url).status_code in (404, 405), url
