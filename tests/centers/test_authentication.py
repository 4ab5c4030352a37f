"""Log-in lockout by username, idle timeout, absolute lifetime and log-out."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from centers.middleware import IDLE_KEY, STARTED_KEY
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture
def alice(centers):
    return factories.coordinator(centers["MIL"], username="alice")


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_rotates_the_session_id(client, alice):
    client.get("/accounts/login/")
    client.session["probe"] = 1
    before = client.session.session_key
    login(client, "alice", PASSWORD)
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_lockout_after_repeated_failures_by_username(client, alice):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alice", "wrong-password")
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert b"locked" in response.content.lower()
    assert "_auth_user_id" not in client.session


def test_idle_timeout_logs_out(client, alice):
    login(client, "alice", PASSWORD)
    assert client.get("/profile/").status_code == 200
    session = client.session
    session[IDLE_KEY] = time.time() - settings.SESSION_IDLE_TIMEOUT.total_seconds() - 5
    session.save()
    response = client.get("/profile/")
    assert response.status_code == 302 and "expired=1" in response["Location"]
    assert client.get("/profile/").status_code == 302


def test_absolute_lifetime_logs_out_even_when_active(client, alice):
    login(client, "alice", PASSWORD)
    session = client.session
    session[STARTED_KEY] = time.time() - settings.SESSION_ABSOLUTE_LIFETIME.total_seconds() - 5
    session.save()
    assert client.get("/profile/").status_code == 302


def test_logout_invalidates_the_session(client, alice):
    login(client, "alice", PASSWORD)
    old_key = client.session.session_key
    client.post("/accounts/logout/")
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=old_key).exists()
    assert client.get("/profile/").status_code == 302


def test_password_validators_are_on():
    names = [v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS]
    assert {"MinimumLengthValidator", "CommonPasswordValidator"} <= set(names)


def test_the_demo_password_opens_nothing_in_production(db, settings, centers):
    from centers.backends import RegistryBackend

    user = factories.coordinator(centers["MIL"], username="demo-left-over")
    user.set_password(settings.DEMO_PASSWORD)
    user.save()
    backend = RegistryBackend()
    assert backend.authenticate(None, username="demo-left-over", password=settings.DEMO_PASSWORD)
    settings.PRODUCTION = True
    assert (
        backend.authenticate(None, username="demo-left-over", password=settings.DEMO_PASSWORD)
        is None
    )


def test_pages_after_the_first_do_not_write_the_session(client, alice, dictionary):
    """The idle clock is refreshed at most once a minute, and "no second factor needed" is
    remembered once: an ordinary request reads the session and writes nothing back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, "alice", PASSWORD)
    client.get("/records/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/records/").status_code == 200
    session_writes = [
        q["sql"] for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]
    ]
    assert session_writes == []
    session = client.session
    session[IDLE_KEY] = time.time() - 120  # more than a minute idle: one refresh is written
    session.save()
    with CaptureQueriesContext(connection) as queries:
        client.get("/records/")
    assert any("django_session" in q["sql"] and "UPDATE" in q["sql"] for q in queries)
