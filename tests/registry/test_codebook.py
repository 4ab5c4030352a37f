"""The Codebook: the dictionary as REDCap shows it (numbers, labels, choices with codes,
validation and ranges, branching logic in words, calculations, identifiers), a switch between
versions and a diff between two, dictionary text sanitised."""

from __future__ import annotations

import pytest
from django.test import Client

from registry.dictionary import gi_lms_dictionary_csv
from registry.dictionary.codebook import diff_dictionaries
from registry.dictionary.parse import parse_dictionary_csv
from registry.logic.words import logic_in_words
from registry.services.dictionary import import_dictionary
from tests.registry.hostile_dictionary import (
    LITERAL_TEMPLATE_TEXT,
    hostile_dictionary_csv,
    live_payloads,
)

pytestmark = pytest.mark.django_db

LABELS = {"site_of_origin": "Site of origin", "metastatic_sites": "Sites of metastasis"}
CHOICES = {("site_of_origin", "6"): "Other", ("metastatic_sites", "6"): "Other"}


def words(expression: str) -> str:
    return logic_in_words(
        expression,
        label=lambda name: LABELS.get(name, name),
        choice=lambda name, code: CHOICES.get((name, code)),
    )


def test_logic_in_words():
    assert words("[site_of_origin] = '6'") == "Site of origin is Other (6)"
    assert words("[site_of_origin] <> '6'") == "Site of origin is not Other (6)"
    assert words("[metastatic_sites(6)] = '1'") == "Sites of metastasis: Other is checked"
    assert words("[metastatic_sites(6)] = '0'") == "Sites of metastasis: Other is not checked"
    assert words("[x] = '' or [y] > 3 and [z] <= 2") == (
        "x is empty or (y is greater than 3 and z is at most 2)"  # precedence made visible
    )
    assert (
        words("([x] = '1' or [y] = '1') and [z] <> ''")
        == "(x is '1' or y is '1') and z is not empty"
    )
    assert words('datediff([a], [b], "M") > 6') == "months between a and b is greater than 6"
    assert words("not([x] = '1')") == "not (x is '1')"
    assert words("5 < [x]") == "x is greater than 5"
    assert words("[x] = 'a' or") == "[x] = 'a' or"  # does not parse: verbatim
    assert words("") == ""


def test_every_role_reads_the_codebook(client, dictionary, people):
    for who in people:
        client.force_login(people[who])
        assert client.get("/codebook/").status_code == 200, who


def test_anonymous_and_people_without_a_role(client, dictionary, centers):
    response = Client().get("/codebook/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    from centers.models import User

    client.force_login(User.objects.create_user("norole", password="x-long-password-1"))
    assert client.get("/codebook/").status_code == 403


def test_codebook_shows_the_dictionary_as_redcap_does(client, dictionary, people):
    client.force_login(people["coord_mil"])
    response = client.get("/codebook/")
    page = response.content.decode()
    forms = response.context["forms"]
    assert [f["name"] for f in forms] == dictionary.dictionary.form_names
    fields = {x["name"]: x for f in forms for x in f["fields"]}
    assert fields["record_id"]["number"] == 1
    assert fields["site_other"]["branching_words"] == "Site of origin is Other (6)"
    assert fields["metastatic_sites_other"]["branching_words"] == (
        "Stage at diagnosis is "
        + _stage_3(dictionary)
        + " and Sites of metastasis at diagnosis: Other is checked"
    )
    assert ("6", "Other") == (
        fields["site_of_origin"]["choices"][5][0],
        str(fields["site_of_origin"]["choices"][5][1]),
    )
    assert fields["date_dx"]["validation"] == "Date (D-M-Y)"
    assert (fields["date_dx"]["min"], fields["date_dx"]["max"]) == ("2004-01-01", "2020-12-31")
    assert fields["mrn"]["identifier"] and fields["sex"]["required"]
    assert "datediff" in fields["followup_months"]["calculation"]
    assert "months between Date of diagnosis" in fields["followup_months"]["calculation_words"]
    assert "Site of origin is Other (6)" in page and "identifier" in page
    assert "[site_of_origin] = &#x27;6&#x27;" in page  # the logic verbatim too
    assert "repeating" in page  # systemic therapy and relapse


def _stage_3(version) -> str:
    label = version.dictionary.field("stage_dx").choice_map["3"]
    return f"{label} (3)"


def test_version_switch_and_diff(client, dictionary, people):
    csv_text = gi_lms_dictionary_csv()
    changed = csv_text.replace("Local hospital number", "Hospital record number")
    changed = changed.replace("not collected,integer,1900,2020", "not collected,integer,1900,2010")
    lines = changed.splitlines(keepends=True)
    lines = [line for line in lines if not line.startswith("rt_dose_gy,")]
    lines.insert(
        4, 'ecog,enrolment,,radio,ECOG performance status,"0, 0 | 1, 1 | 2, 2",,,,,,,,,,,,\n'
    )
    import_dictionary(csv_text="".join(lines), user=people["dm"], note="v2")
    client.force_login(people["monitor"])

    current = client.get("/codebook/")
    fields = {x["name"] for f in current.context["forms"] for x in f["fields"]}
    assert (
        current.context["version"].number == 2 and "ecog" in fields and "rt_dose_gy" not in fields
    )
    old = client.get("/codebook/?version=1")
    assert "Local hospital number" in old.content.decode()
    assert "rt_dose_gy" in {x["name"] for f in old.context["forms"] for x in f["fields"]}

    diff = client.get("/codebook/?version=2&compare=1").context["diff"]
    assert (diff["older"], diff["newer"]) == (1, 2)
    assert (diff["added"], diff["removed"], diff["changed"]) == (1, 1, 2)
    kinds = {d["diff"].name: d["diff"] for d in diff["fields"]}
    assert kinds["ecog"].kind == "added" and kinds["rt_dose_gy"].kind == "removed"
    (label,) = kinds["mrn"].changes
    assert (label.attribute, label.old, label.new) == (
        "Field Label",
        "Local hospital number",
        "Hospital record number",
    )
    (maximum,) = kinds["year_of_birth"].changes
    assert (maximum.attribute, maximum.old, maximum.new) == ("Text Validation Max", "2020", "2010")
    page = client.get("/codebook/?version=1&compare=2").content.decode()
    assert "Changes from version 1 to version 2" in page and "Hospital record number" in page


def test_diff_of_identical_dictionaries_is_empty():
    d = parse_dictionary_csv(gi_lms_dictionary_csv())
    assert diff_dictionaries(d, d) == []


@pytest.mark.parametrize(
    "query", ["?version=99", "?version=abc", "?compare=-1", "?version=1&compare=x"]
)
def test_bad_choices_are_a_400(client, dictionary, people, query):
    client.force_login(people["pi"])
    assert client.get("/codebook/" + query).status_code == 400


def test_dictionary_text_is_sanitised(client, dictionary, people):
    import_dictionary(csv_text=hostile_dictionary_csv(), user=people["dm"], note="hostile")
    client.force_login(people["coord_mil"])
    for url in ("/codebook/", "/codebook/?version=2&compare=1"):
        page = client.get(url).content.decode()
        assert live_payloads(page) == [], url
        assert "pbkdf2" not in page and "argon2" not in page
    page = client.get("/codebook/").content.decode()
    assert any(text in page.replace("&#x27;", "'") for text in LITERAL_TEMPLATE_TEXT)
