"""A password set by someone else (a data manager in the admin, an operator with manage.py) is
one-time: the audit names who set it, the person must change it at the next log-in, and no
signature (web or API) is accepted until they have."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from centers.models import User
from centers.tokens import issue_api_token
from registry.models import AuditEvent, Record
from registry.services.locking import SIGNATURE_MEANINGS

pytestmark = pytest.mark.django_db
SET_BY_DM = "Set-by-the-data-manager-31"
OWN = "Ivan's-own-passphrase-77"
CHANGE_PAGE = "/accounts/password/change/"


def set_password_in_admin(client, user, password=SET_BY_DM):
    return client.post(
        f"/admin/centers/user/{user.pk}/password/",
        {"password1": password, "password2": password, "usable_password": "true"},
    )


def sign(client, record, password):
    return client.post(
        f"/records/{record.record_id}/lock/",
        {"password": password, "meaning": SIGNATURE_MEANINGS[0]},
    )


def api_sign(token, record, password):
    cache.clear()
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


def test_a_password_set_in_the_admin_names_the_data_manager_and_is_one_time(
    client, people, complete_record, django_capture_on_commit_callbacks
):
    ivan, dm = people["inv_mil"], people["dm"]
    token = issue_api_token(user=ivan)
    client.force_login(dm)
    assert set_password_in_admin(client, ivan).status_code == 302
    event = AuditEvent.objects.filter(action="user_change").latest("seq")
    assert (event.actor_id, event.actor_name) == (dm.pk, dm.full_name)
    assert event.new_value["user_id"] == ivan.pk and event.details["password_changed"] is True
    assert event.reason == "password set in the admin"
    ivan.refresh_from_db()
    assert ivan.must_change_password

    person = Client()
    assert (
        person.post("/accounts/login/", {"username": "ivan", "password": SET_BY_DM}).status_code
        == 302
    )
    for page in ("/", "/records/", f"/records/{complete_record.record_id}/", "/profile/"):
        response = person.get(page)
        assert response.status_code == 302 and response["Location"] == CHANGE_PAGE, page
    assert "set by someone else" in person.get(CHANGE_PAGE).content.decode()

    # No signature with the one-time password, on the web or the API; nothing counted.
    refused = sign(person, complete_record, SET_BY_DM)
    assert refused.status_code == 302 and refused["Location"] == CHANGE_PAGE
    api_refused = api_sign(token, complete_record, SET_BY_DM)
    assert api_refused.status_code == 403
    assert "set by someone else" in json.loads(api_refused.content)["error"]
    assert not Record.objects.get(pk=complete_record.pk).is_locked
    assert AuditEvent.objects.filter(
        action="signature_failed", reason="must change password"
    ).exists()

    changed = person.post(
        CHANGE_PAGE, {"old_password": SET_BY_DM, "new_password1": OWN, "new_password2": OWN}
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    ivan.refresh_from_db()
    assert not ivan.must_change_password and ivan.check_password(OWN)
    own_change = AuditEvent.objects.filter(action="user_change").latest("seq")
    assert (own_change.actor_id, own_change.actor_name) == (ivan.pk, ivan.full_name)
    assert person.get("/profile/").status_code == 200  # still logged in, free to go

    with django_capture_on_commit_callbacks(execute=True):
        assert sign(person, complete_record, OWN).status_code == 302
    assert Record.objects.get(pk=complete_record.pk).is_locked


def test_the_api_refuses_a_one_time_password_even_without_a_web_log_in(people, complete_record):
    ivan = people["inv_mil"]
    token = issue_api_token(user=ivan)
    admin = Client()
    admin.force_login(people["dm"])
    set_password_in_admin(admin, ivan)
    response = api_sign(token, complete_record, SET_BY_DM)
    assert response.status_code == 403
    assert not Record.objects.get(pk=complete_record.pk).is_locked


def test_the_new_password_must_differ_from_the_one_time_one(client, people):
    admin = Client()
    admin.force_login(people["dm"])
    set_password_in_admin(admin, people["inv_mil"])
    client.force_login(User.objects.get(username="ivan"))
    response = client.post(
        CHANGE_PAGE,
        {"old_password": SET_BY_DM, "new_password1": SET_BY_DM, "new_password2": SET_BY_DM},
    )
    assert response.status_code == 200
    assert "different from the current one" in response.content.decode()
    assert User.objects.get(username="ivan").must_change_password


def test_a_person_added_in_the_admin_starts_with_a_one_time_password(client, people):
    client.force_login(people["dm"])
    response = client.post(
        "/admin/centers/user/add/",
        {
            "username": "new-person",
            "password1": SET_BY_DM,
            "password2": SET_BY_DM,
            "usable_password": "true",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="new-person").must_change_password


def test_wrong_old_passwords_on_the_change_page_count_toward_the_lockout(client, people):
    client.force_login(people["inv_mil"])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            CHANGE_PAGE, {"old_password": "guess", "new_password1": OWN, "new_password2": OWN}
        )
        assert response.status_code == 200
    assert "Your account is locked" in response.content.decode()
    login = Client().post(
        "/accounts/login/", {"username": "ivan", "password": "correct-horse-battery"}
    )
    assert login.status_code == 429
    assert not User.objects.get(username="ivan").check_password(OWN)


def test_the_admin_password_change_page_is_the_counted_one(client, people):
    client.force_login(people["dm"])
    response = client.get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"] == CHANGE_PAGE


def test_manage_py_changepassword_sets_a_one_time_password(people, monkeypatch):
    from centers.management.commands.changepassword import Command as ChangePassword

    monkeypatch.setattr(ChangePassword, "_get_pass", lambda self, prompt="": SET_BY_DM)
    call_command("changepassword", "ivan")
    ivan = User.objects.get(username="ivan")
    assert ivan.check_password(SET_BY_DM) and ivan.must_change_password
    event = AuditEvent.objects.filter(action="user_change").latest("seq")
    assert event.reason == "password set with manage.py changepassword"
