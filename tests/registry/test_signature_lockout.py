"""A signature's password is a log-in attempt: wrong passwords on the sign page, the bulk lock,
the per-form lock and the API's content=lock count toward the same django-axes lockout as the
log-in page; a locked-out account signs nothing, even with the right password; the lockout is
audited and told to the person."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from centers.tokens import issue_api_token
from registry.models import AuditEvent, InstrumentData, Record, Signature
from registry.services.locking import SIGNATURE_MEANINGS
from tests.fixtures_records import PASSWORD

pytestmark = pytest.mark.django_db
LIMIT = settings.AXES_FAILURE_LIMIT


def sign_on_the_web(client, record, password):
    return client.post(
        f"/records/{record.record_id}/lock/",
        {"password": password, "meaning": SIGNATURE_MEANINGS[0]},
    )


@pytest.fixture
def api_sign(people):
    cache.clear()  # the API's per-token rate limit
    token = issue_api_token(user=people["inv_mil"])

    def sign(record, password):
        return Client().post(
            "/api/",
            {
                "token": token,
                "content": "lock",
                "action": "lock",
                "records[0]": record.record_id,
                "password": password,
                "meaning": "1",
                "returnFormat": "json",
            },
        )

    return sign


def log_in(username, password):
    return Client().post("/accounts/login/", {"username": username, "password": password})


def test_wrong_signature_passwords_on_the_sign_page_lock_log_in_and_signing(
    client, complete_record, people
):
    client.force_login(people["inv_mil"])
    for _ in range(LIMIT - 1):
        response = sign_on_the_web(client, complete_record, "guess")
        assert response.status_code == 403
        assert "password is not correct" in response.content.decode()
    response = sign_on_the_web(client, complete_record, "guess")
    assert response.status_code == 403
    assert "Your account is locked" in response.content.decode()  # told on the sign page

    refused = sign_on_the_web(client, complete_record, PASSWORD)  # the right password
    assert refused.status_code == 403 and "Your account is locked" in refused.content.decode()
    complete_record.refresh_from_db()
    assert not complete_record.is_locked and not Signature.objects.exists()

    locked_login = log_in("ivan", PASSWORD)
    assert locked_login.status_code == 429 and "_auth_user_id" not in locked_login.client.session

    lockouts = AuditEvent.objects.filter(action="account_locked_out")
    assert lockouts.exists()
    first = lockouts.order_by("seq").first()
    assert first.details["username"] == "ivan"
    assert first.details["during"] == "electronic signature"
    assert first.actor_id == people["inv_mil"].pk
    reasons = list(
        AuditEvent.objects.filter(action="signature_failed")
        .order_by("seq")
        .values_list("reason", flat=True)
    )
    assert reasons == ["wrong password"] * (LIMIT - 1) + ["locked out", "locked out"]


def test_wrong_signature_passwords_on_the_api_lock_log_in_and_signing(api_sign, complete_record):
    for _ in range(LIMIT - 1):
        response = api_sign(complete_record, "guess")
        assert response.status_code == 403
        assert "password is not correct" in json.loads(response.content)["error"]
    response = api_sign(complete_record, "guess")
    assert response.status_code == 403
    assert "Your account is locked" in json.loads(response.content)["error"]

    refused = api_sign(complete_record, PASSWORD)
    assert refused.status_code == 403, refused.content
    assert "Your account is locked" in json.loads(refused.content)["error"]
    assert not Record.objects.get(pk=complete_record.pk).is_locked
    assert log_in("ivan", PASSWORD).status_code == 429
    assert AuditEvent.objects.filter(action="account_locked_out", details__username="ivan").exists()


def test_every_signing_path_and_the_log_in_page_share_one_counter(
    client, complete_record, people, api_sign
):
    """One failure on each: log-in page, sign page, bulk lock, per-form lock, API."""
    assert LIMIT == 5, "the test spends one failure per path"
    client.force_login(people["inv_mil"])  # a log-in resets the counter: log in first
    assert log_in("ivan", "guess").status_code == 200  # the log-in form again, with an error
    assert sign_on_the_web(client, complete_record, "guess").status_code == 403
    bulk = client.post(
        "/records/lock/",
        {
            "records": [complete_record.record_id],
            "password": "guess",
            "meaning": SIGNATURE_MEANINGS[0],
        },
    )
    assert bulk.status_code == 403 and "password is not correct" in bulk.content.decode()
    form_lock = reverse("registry:instrument_lock", args=[complete_record.record_id, "stage", 1])
    client.post(form_lock, {"action": "lock", "password": "guess"})
    last = api_sign(complete_record, "guess")
    assert "Your account is locked" in json.loads(last.content)["error"]

    response = client.post(form_lock, {"action": "lock", "password": PASSWORD}, follow=True)
    assert "Your account is locked" in response.content.decode()
    assert not InstrumentData.objects.get(record=complete_record, instrument="stage").is_locked
    assert log_in("ivan", PASSWORD).status_code == 429


def test_a_right_signature_before_the_limit_resets_the_counter_as_a_log_in_does(
    client, complete_record, people, django_capture_on_commit_callbacks
):
    from axes.models import AccessAttempt
    from django.db.models import Sum

    client.force_login(people["inv_mil"])
    for _ in range(LIMIT - 1):
        sign_on_the_web(client, complete_record, "guess")
    failures = AccessAttempt.objects.filter(username="ivan").aggregate(
        n=Sum("failures_since_start")
    )
    assert failures["n"] == LIMIT - 1
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_on_the_web(client, complete_record, PASSWORD).status_code == 302
    assert log_in("ivan", "guess").status_code == 200  # one failure: not locked
    assert log_in("ivan", PASSWORD).status_code == 302


def test_axes_keeps_neither_the_password_nor_the_api_token(api_sign, complete_record):
    from axes.models import AccessAttempt

    api_sign(complete_record, "my-guess-secret")
    kept = AccessAttempt.objects.get(username="ivan").post_data
    assert "my-guess-secret" not in kept
    assert "token=********************" in kept and "password=********************" in kept
