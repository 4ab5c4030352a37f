"""Self-service passwords: changing one's own (old + new, Django's validators, audited) and
resetting a forgotten one by an e-mailed link (one use, rate-limited per address and per
e-mail, the same answer whether or not an account has the address, audited)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from centers.models import User
from registry.models import AuditEvent
from tests.fixtures_records import PASSWORD

pytestmark = pytest.mark.django_db
RESET = "/accounts/password/reset/"
NEW = "A-new-passphrase-of-my-own-42"


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()


@pytest.fixture
def alice(people):
    user = people["coord_mil"]
    user.email = "alice@mil.example.org"
    user.save()
    return user


def ask(client: Client, email: str, ip: str = "10.0.0.1"):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


def reset_link() -> str:
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)[1]


def test_the_reset_link_sets_a_new_password_once(client, alice, django_capture_on_commit_callbacks):
    alice.must_change_password = True  # a one-time password from the admin, forgotten
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, "ALICE@mil.example.org")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox[0].to == ["alice@mil.example.org"]
    assert alice.username in mail.outbox[0].body
    link = reset_link()

    form = client.get(link, follow=True)
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    weak = client.post(set_url, {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/accounts/password/reset/done/"

    alice.refresh_from_db()
    assert alice.check_password(NEW) and not alice.must_change_password
    assert AuditEvent.objects.filter(action="password_reset_requested").count() == 1
    event = AuditEvent.objects.get(action="password_reset_done")
    assert event.actor_id == alice.pk
    changed = AuditEvent.objects.filter(action="user_change", actor_id=alice.pk).last()
    assert changed.details["password_changed"] is True
    login = Client().post("/accounts/login/", {"username": alice.username, "password": NEW})
    assert login.status_code == 302

    again = Client().get(link, follow=True)
    assert 'id="reset-invalid"' in again.content.decode()


def test_the_page_answers_the_same_for_an_unknown_address(
    client, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        unknown = ask(client, "nobody@example.org")
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        known = ask(client, alice.email)
    assert len(mail.outbox) == 1
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    sent_page = client.get(unknown["Location"]).content.decode()
    assert 'id="reset-sent"' in sent_page and alice.email not in sent_page
    assert AuditEvent.objects.filter(
        action="password_reset_requested", details__account_found=False
    ).exists()


def test_an_inactive_account_gets_no_link(client, alice, django_capture_on_commit_callbacks):
    alice.is_active = False
    alice.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert ask(client, alice.email).status_code == 302
    assert mail.outbox == []


def test_requests_are_limited_per_client_address(settings, client, alice):
    settings.PASSWORD_RESET_RATE_PER_HOUR = 3
    for n in range(3):
        assert ask(client, f"someone{n}@example.org").status_code == 302
    response = ask(client, "someone-else@example.org")
    assert response.status_code == 429
    assert 'id="reset-rate-limited"' in response.content.decode()
    assert ask(client, "other@example.org", ip="10.0.0.2").status_code == 302


def test_requests_are_limited_per_e_mail_address(
    settings, client, alice, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_RATE_PER_HOUR = 2
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            ask(client, alice.email, ip=f"10.0.1.{n}")
    assert len(mail.outbox) == 2  # the third and fourth, from other addresses, were refused
    assert AuditEvent.objects.filter(action="password_reset_rate_limited").count() == 2


def test_a_reset_lifts_a_log_in_lockout(
    settings, client, alice, django_capture_on_commit_callbacks
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/accounts/login/", {"username": alice.username, "password": "wrong"})
    locked = Client().post("/accounts/login/", {"username": alice.username, "password": PASSWORD})
    assert locked.status_code != 302
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, alice.email)
    set_url = client.get(reset_link(), follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    response = Client().post("/accounts/login/", {"username": alice.username, "password": NEW})
    assert response.status_code == 302


def test_changing_ones_password_needs_the_old_one_and_is_audited(client, alice):
    client.force_login(alice)
    url = "/accounts/password/change/"
    wrong = client.post(url, {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW})
    assert wrong.status_code == 200
    weak = client.post(
        url, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert weak.status_code == 200
    done = client.post(url, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302
    assert User.objects.get(pk=alice.pk).check_password(NEW)
    event = AuditEvent.objects.filter(action="user_change", actor_id=alice.pk).last()
    assert event.details["password_changed"] is True
    assert event.reason == "password changed by its owner"
