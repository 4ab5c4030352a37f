"""Each person's language: the browser's by default, their profile's choice once logged in;
dates and numbers in that language's format, the registry's messages and errors translated."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format, number_format

from registry.services.records import create_record

pytestmark = pytest.mark.django_db


def test_the_log_in_page_follows_the_browser(client):
    italian = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="it-IT,it;q=0.9,en;q=0.5")
    assert italian["Content-Language"] == "it"
    body = italian.content.decode()
    assert '<html lang="it">' in body and "Accedi" in body
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert english["Content-Language"] == "en-gb" and "Log in" in english.content.decode()
    assert "Log in" in client.get(reverse("login")).content.decode()  # no header: English


def test_the_profile_language_wins_over_the_browser(client, people, dictionary):
    user = people["coord_mil"]
    client.force_login(user)
    browser = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
    assert (
        "Record status dashboard"
        in client.get(reverse("registry:dashboard"), **browser).content.decode()
    )
    response = client.post(reverse("profile"), {"language": "it"}, **browser)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "it"
    page = client.get(reverse("registry:dashboard"), **browser).content.decode()
    assert "Stato dei record" in page and "Record status dashboard" not in page
    assert "Coordinatore di centro" in page  # the role, in the navigation bar
    assert "Le pagine usano ora la lingua scelta." in page  # the confirmation, in Italian
    client.post(reverse("profile"), {"language": ""})
    user.refresh_from_db()
    assert user.language == ""
    back = client.get(reverse("registry:dashboard"), **browser).content.decode()
    assert "Record status dashboard" in back  # blank: the browser's language again


def test_an_unknown_language_is_refused(client, people):
    client.force_login(people["coord_mil"])
    response = client.post(reverse("profile"), {"language": "xx"})
    assert response.status_code == 200 and "language" in response.context["language_form"].errors
    people["coord_mil"].refresh_from_db()
    assert people["coord_mil"].language == ""


def test_validation_errors_and_messages_are_in_the_persons_language(
    client, people, centers, dictionary
):
    user = people["coord_mil"]
    user.language = "it"
    user.save(update_fields=["language"])
    record = create_record(user=user, center=centers["MIL"])
    client.force_login(user)
    url = reverse("registry:instrument", args=[record.record_id, "diagnosis_pathology", 1])
    response = client.post(
        url, {"__status": "0", "__version": "0", "action": "stay", "date_dx": "31/02/2020"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "non è una data di calendario esistente" in body
    assert "La scheda non è stata salvata" in body
    saved = client.post(
        url,
        {"__status": "0", "__version": "0", "action": "stay", "date_dx": "01/02/2020"},
        follow=True,
    )
    assert "Salvata Diagnosi e anatomia patologica n. 1" in saved.content.decode()


def test_dates_and_numbers_follow_the_language():
    from datetime import date

    with translation.override("it"):
        assert date_format(date(2024, 3, 5)) == "05 Marzo 2024"
        assert number_format(1234.5, decimal_pos=1) == "1234,5"
    with translation.override("en-gb"):
        assert date_format(date(2024, 3, 5)) == "5 Mar 2024"
        assert number_format(1234.5, decimal_pos=1) == "1234.5"


def test_every_page_renders_in_italian(client, people, locked_record):
    """Each translated template renders with the Italian catalogue (placeholders and all)."""
    pages = {
        "dm": [
            "/records/",
            "/audit/",
            "/queries/",
            "/quality/",
            "/exports/",
            "/dictionary/",
            "/profile/",
            "/accounts/password/change/",
            f"/records/{locked_record.record_id}/",
            f"/records/{locked_record.record_id}/history/",
            f"/records/{locked_record.record_id}/history/sex/",
            f"/records/{locked_record.record_id}/unlock/",
            f"/records/{locked_record.record_id}/enrolment/1/",
        ],
        "inv_mil": ["/records/lock/", f"/records/{locked_record.record_id}/lock/"],
        "monitor": [f"/records/{locked_record.record_id}/queries/new/?field=sex&instance=1"],
        "pi": ["/analytics/", "/analytics/history/", "/analytics/progress/"],
    }
    for who, paths in pages.items():
        user = people[who]
        user.language = "it"
        user.save(update_fields=["language"])
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            assert response["Content-Language"] == "it", path
