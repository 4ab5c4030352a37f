"""The lockout page sends a locked-out person to a data manager: a data manager can lift the
lockout in the admin, and the clearing is audited with them as actor."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from registry.models import AuditEvent
from tests.fixtures_records import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(username: str, password: str):
    return Client().post("/accounts/login/", {"username": username, "password": password})


def test_a_data_manager_clears_a_lockout_and_the_audit_names_them(client, people):
    carla, dm = people["coord_mil"], people["dm"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(carla.username, "not-her-password")
    assert log_in(carla.username, PASSWORD).status_code in (403, 429)  # locked, right password

    client.force_login(dm)
    response = client.post(
        "/admin/centers/user/",
        {"action": "clear_login_lockout", "_selected_action": [carla.pk]},
    )
    assert response.status_code == 302

    assert log_in(carla.username, PASSWORD).status_code == 302  # in again
    event = AuditEvent.objects.filter(action="lockout_cleared").get()
    assert event.actor_id == dm.pk
    assert event.details["username"] == carla.username
    assert event.details["failures_cleared"] >= 1


def test_a_coordinator_cannot_clear_a_lockout(client, people):
    carla, bruno = people["coord_mil"], people["coord_bol"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(carla.username, "not-her-password")
    client.force_login(bruno)
    client.post(
        "/admin/centers/user/", {"action": "clear_login_lockout", "_selected_action": [carla.pk]}
    )
    assert log_in(carla.username, PASSWORD).status_code in (403, 429)
    assert not AuditEvent.objects.filter(action="lockout_cleared").exists()
