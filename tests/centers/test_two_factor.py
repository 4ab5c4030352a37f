"""Two-factor log-in, enforced: a required role sets up an authenticator after the password and
enters a code at every log-in; recovery codes work once; a data manager resets a lost second
factor (audited); a signature needs the code too; API tokens are not concerned.

The rest of the suite runs as the demo does, with enforcement off (settings.TWO_FACTOR_ENFORCED
is False outside production): its force_login stands for a completed log-in. Every test here
turns enforcement on, as production has it."""

from __future__ import annotations

import binascii
import re
import time

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from centers.tokens import issue_api_token
from centers.two_factor import PENDING_KEY_SESSION, TwoFactorError, reset_two_factor
from registry.models import AuditEvent, InstrumentData
from registry.services.locking import SIGNATURE_MEANINGS
from tests.fixtures_records import PASSWORD

pytestmark = pytest.mark.django_db
SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/verify/"
THROTTLE_WAIT = 1.1


@pytest.fixture(autouse=True)
def enforced(settings, dictionary):
    settings.TWO_FACTOR_ENFORCED = True
    cache.clear()


def code(key_hex: str, step: int) -> str:
    """The authenticator's code `step` time steps from now (-1, 0, +1 are accepted; a step
    already used is not, so each test use takes the next one)."""
    totp = TOTP(binascii.unhexlify(key_hex), drift=step)
    return f"{totp.token():06d}"


def password_login(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client


def enrol(client: Client) -> tuple[str, list[str]]:
    """Set up an authenticator through the page, as the person does; returns (key, codes)."""
    page = client.get(SETUP)
    assert page.status_code == 200
    key = client.session[PENDING_KEY_SESSION]
    response = client.post(SETUP, {"code": code(key, -1), "next": "/records/"})
    assert response.status_code == 200, response.content[:500]
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    return key, codes


def test_a_required_role_sets_up_an_authenticator_after_the_password(people):
    ivan = people["inv_mil"]
    client = password_login(ivan)
    response = client.get("/records/")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP + "?next=")

    page = client.get(SETUP)
    body = page.content.decode()
    assert 'id="two-factor-qr" src="data:image/svg+xml;base64,' in body
    key = client.session[PENDING_KEY_SESSION]
    assert re.search(r'id="two-factor-key">[A-Z2-7 ]{32,}<', body)
    assert client.post(SETUP, {"code": "000000"}).status_code == 400
    assert not TOTPDevice.objects.filter(user=ivan).exists()

    response = client.post(SETUP, {"code": code(key, -1), "next": "/records/"})
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=ivan).confirmed
    assert client.get("/records/").status_code == 200
    assert AuditEvent.objects.filter(action="two_factor_enrolled", actor_id=ivan.pk).exists()

    # The next log-in asks for a code, and keeps where the person was going.
    again = password_login(ivan)
    response = again.get("/queries/")
    assert response["Location"] == VERIFY + "?next=%2Fqueries%2F"
    assert again.post(VERIFY, {"code": "123456", "next": "/queries/"}).status_code == 400
    assert again.get("/queries/").status_code == 302
    # django-otp throttles a device after a failure (1 s, doubling): even the right code waits.
    assert again.post(VERIFY, {"code": code(key, 0), "next": "/queries/"}).status_code == 400
    time.sleep(THROTTLE_WAIT)
    response = again.post(VERIFY, {"code": code(key, 0), "next": "/queries/"})
    assert response.status_code == 302 and response["Location"] == "/queries/"
    assert again.get("/queries/").status_code == 200
    assert AuditEvent.objects.filter(action="two_factor_failed", actor_id=ivan.pk).exists()
    assert AuditEvent.objects.filter(action="two_factor_verified", actor_id=ivan.pk).exists()


def test_a_code_works_once(people):
    key, _ = enrol(password_login(people["pi"]))
    again = password_login(people["pi"])
    assert again.post(VERIFY, {"code": code(key, -1)}).status_code == 400  # used to enrol
    time.sleep(THROTTLE_WAIT)
    used = code(key, 0)
    assert again.post(VERIFY, {"code": used}).status_code == 302
    third = password_login(people["pi"])
    time.sleep(THROTTLE_WAIT)
    # The same code, not "the code now": a 30-second step may have begun meanwhile.
    assert third.post(VERIFY, {"code": used}).status_code == 400


def test_verify_does_not_redirect_off_site(people):
    client = password_login(people["pi"])
    key, _ = enrol(client)
    again = password_login(people["pi"])
    response = again.post(VERIFY, {"code": code(key, 0), "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_recovery_code_logs_in_once(people):
    dora = people["dm"]
    key, codes = enrol(password_login(dora))
    client = password_login(dora)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 302
    assert client.get("/audit/").status_code == 200
    event = AuditEvent.objects.filter(action="recovery_code_used", actor_id=dora.pk).get()
    assert event.details["codes_left"] == 9
    assert not StaticToken.objects.filter(token=codes[0]).exists()

    reused = password_login(dora)
    assert reused.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert reused.get("/audit/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(people):
    client = password_login(people["monitor"])
    _, old = enrol(client)
    response = client.post("/accounts/two-factor/", {"action": "renew_codes"})
    new = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert password_login(people["monitor"]).post(VERIFY, {"code": old[1]}).status_code == 400
    assert AuditEvent.objects.filter(action="recovery_codes_renewed").count() == 1


def test_coordinators_may_use_it_but_need_not(people):
    alice = people["coord_mil"]
    client = password_login(alice)
    assert client.get("/records/").status_code == 200
    assert "Off. It is optional" in client.get("/accounts/two-factor/").content.decode()
    key, _ = enrol(client)
    # Once set up, it is asked for at each log-in, whatever the role requires.
    assert password_login(alice).get("/records/")["Location"].startswith(VERIFY)


def test_the_roles_that_require_it_come_from_the_settings(settings, people):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["site_coordinator"]
    assert password_login(people["coord_mil"]).get("/records/")["Location"].startswith(SETUP)
    assert password_login(people["monitor"]).get("/queries/").status_code == 200


@pytest.mark.parametrize("who", ["inv_mil", "pi", "dm", "monitor"])
def test_every_page_waits_for_the_second_factor_and_works_after_it(people, who):
    """Enforcement on, the pages each role uses: redirected before the code, served after."""
    pages = ["/records/", "/queries/", "/audit/", "/quality/", "/exports/", "/profile/"]
    if who != "inv_mil":
        pages.append("/analytics/")
    client = Client()
    client.force_login(people[who])  # the password step, done
    for page in pages:
        assert client.get(page)["Location"].startswith(SETUP), page
    enrol(client)
    for page in pages:
        assert client.get(page).status_code == 200, page


def test_a_data_manager_resets_a_lost_second_factor_audited(people):
    ivan, dora = people["inv_mil"], people["dm"]
    enrol(password_login(ivan))
    admin = Client()
    admin.force_login(dora)
    enrol(admin)
    listing = admin.get("/admin/centers/user/").content.decode()
    rows = {
        re.search(r'field-username"><a [^>]*>([^<]+)<', row)[1]: row.rsplit("<td", 1)[1]
        for row in re.findall(r"<tr>.*?</tr>", listing, re.S)
        if "field-username" in row
    }
    assert 'alt="True"' in rows["ivan"] and 'alt="False"' in rows["alice"]  # second factor
    response = admin.post(
        "/admin/centers/user/",
        {"action": "reset_second_factor", "_selected_action": [ivan.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=ivan).exists()
    assert not StaticToken.objects.filter(device__user=ivan).exists()
    event = AuditEvent.objects.get(action="two_factor_reset")
    assert event.actor_id == dora.pk
    assert event.details["username"] == ivan.username
    # Ivan sets up a new one at his next log-in.
    assert password_login(ivan).get("/records/")["Location"].startswith(SETUP)


def test_only_a_data_manager_resets_a_second_factor(people):
    with pytest.raises(TwoFactorError):
        reset_two_factor(person=people["inv_mil"], by=people["coord_mil"])
    client = Client()
    client.force_login(people["coord_mil"])
    response = client.post(
        "/admin/centers/user/",
        {"action": "reset_second_factor", "_selected_action": [people["inv_mil"].pk]},
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not AuditEvent.objects.filter(action="two_factor_reset").exists()


def test_a_signature_needs_the_code_of_a_person_who_has_one(people, complete_record):
    ivan = people["inv_mil"]
    client = password_login(ivan)
    key, codes = enrol(client)
    url = f"/records/{complete_record.record_id}/lock/"
    assert 'name="code"' in client.get(url).content.decode()
    meaning = SIGNATURE_MEANINGS[0]

    response = client.post(url, {"password": PASSWORD, "meaning": meaning})
    assert response.status_code == 400  # the code field is required on the form
    response = client.post(url, {"password": PASSWORD, "meaning": meaning, "code": "999999"})
    assert response.status_code == 403
    complete_record.refresh_from_db()
    assert not complete_record.is_locked
    assert AuditEvent.objects.filter(
        action="signature_failed", reason="wrong second-factor code"
    ).exists()

    time.sleep(THROTTLE_WAIT)  # django-otp's wait after a wrong code
    response = client.post(url, {"password": PASSWORD, "meaning": meaning, "code": code(key, 1)})
    assert response.status_code == 302
    complete_record.refresh_from_db()
    assert complete_record.is_locked


def test_a_form_lock_accepts_a_recovery_code(people, complete_record):
    client = password_login(people["inv_mil"])
    _, codes = enrol(client)
    row = InstrumentData.objects.filter(record=complete_record).first()
    url = f"/records/{complete_record.record_id}/{row.instrument}/{row.instance}/lock/"
    client.post(url, {"action": "lock", "password": PASSWORD})
    row.refresh_from_db()
    assert not row.is_locked
    client.post(url, {"action": "lock", "password": PASSWORD, "code": codes[3]})
    row.refresh_from_db()
    assert row.is_locked


def test_api_tokens_are_not_concerned_and_api_signatures_need_the_code(people, complete_record):
    ivan = people["inv_mil"]
    key, _ = enrol(password_login(ivan))
    token = issue_api_token(user=ivan)
    api = Client()
    export = api.post("/api/", {"token": token, "content": "record", "format": "json"})
    assert export.status_code == 200
    assert complete_record.record_id in b"".join(export.streaming_content).decode()

    lock = {
        "token": token,
        "content": "lock",
        "action": "lock",
        "records[0]": complete_record.record_id,
        "password": PASSWORD,
        "meaning": "1",
        "returnFormat": "json",
    }
    assert api.post("/api/", lock).status_code == 403
    time.sleep(THROTTLE_WAIT)  # django-otp's wait after a wrong (here: missing) code
    cache.clear()  # the API's rate limit
    assert api.post("/api/", {**lock, "code": code(key, 1)}).status_code == 200
    complete_record.refresh_from_db()
    assert complete_record.is_locked


def test_a_person_without_a_second_factor_signs_with_the_password_alone(
    settings, people, complete_record
):
    settings.TWO_FACTOR_ENFORCED = False
    client = Client()
    client.force_login(people["inv_mil"])
    url = f"/records/{complete_record.record_id}/lock/"
    assert 'name="code"' not in client.get(url).content.decode()
    response = client.post(url, {"password": PASSWORD, "meaning": SIGNATURE_MEANINGS[0]})
    assert response.status_code == 302


def test_the_log_in_page_says_when_enforcement_is_off(settings):
    assert 'id="two-factor-off"' not in Client().get("/accounts/login/").content.decode()
    settings.TWO_FACTOR_ENFORCED = False
    assert 'id="two-factor-off"' in Client().get("/accounts/login/").content.decode()
