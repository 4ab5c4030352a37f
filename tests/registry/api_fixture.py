"""The API client fixture shared by the API tests: one token per person of the golden dataset."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from centers.tokens import issue_api_token
from tests.registry.api_calls import read


@pytest.fixture(name="api")
def api_fixture(client, dataset, people):
    cache.clear()
    tokens = {key: issue_api_token(user=user) for key, user in people.items()}

    def call(who: str, **data):
        data.setdefault("token", tokens[who])
        return read(client.post("/api/", data))

    return call


def as_json(response):
    return json.loads(response.content)
