"""Dictionary text is data: labels, notes, section headers and choice labels are sanitized by
one function, never compiled as a template, and the uploaded file is kept byte for byte."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.dictionary import gi_lms_project
from registry.dictionary_text import dictionary_plain_text, render_dictionary_text
from registry.forms.instrument import InstrumentForm
from registry.models import DictionaryVersion
from registry.services.dictionary import import_dictionary
from registry.services.locking import SIGNATURE_MEANINGS, lock_record
from registry.services.queries import query_open
from registry.services.records import create_record
from tests.fixtures_records import PASSWORD, enter_case
from tests.registry.hostile_dictionary import (
    LITERAL_TEMPLATE_TEXT,
    PAYLOAD,
    hostile_dictionary_csv,
    live_payloads,
)

# ---------------------------------------------------------------------------- the sanitizer


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<b onmouseover=alert(1)>bold</b>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<span style="background:url(javascript:alert(1))">x</span>',
        '<span style="color: expression(alert(1))">x</span>',
        "<iframe src=https://example.org></iframe>",
        "<style>body{display:none}</style>",
        "<form action=https://evil.example><input name=password></form>",
    ],
)
def test_sanitizer_leaves_nothing_that_runs(text):
    rendered = render_dictionary_text(text)
    assert live_payloads(f"<div>{rendered}</div>") == []
    for word in ("script", "onerror", "onload", "onmouseover", "javascript", "expression", "url("):
        assert word not in rendered.lower()
    assert "<iframe" not in rendered and "<form" not in rendered and "<input" not in rendered


def test_sanitizer_keeps_the_markup_redcap_users_write():
    text = (
        "<b>Bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> H<sub>2</sub>O m<sup>2</sup>"
        "<br><p>para</p><ul><li>one</li></ul><ol><li>two</li></ol>"
        '<span style="color: red; position: fixed">red</span>'
        '<a href="https://example.org/x">web</a> <a href="mailto:dm@example.org">mail</a>'
    )
    rendered = render_dictionary_text(text)
    for kept in ("<b>Bold</b>", "<strong>s</strong>", "<i>i</i>", "<em>e</em>", "<u>u</u>"):
        assert kept in rendered
    assert "<sub>2</sub>" in rendered and "<sup>2</sup>" in rendered
    assert "<br>" in rendered and "<p>para</p>" in rendered
    assert "<ul><li>one</li></ul>" in rendered and "<ol><li>two</li></ol>" in rendered
    assert '<span style="color:red">red</span>' in rendered  # position: dropped
    assert '<a href="https://example.org/x" rel="noopener noreferrer">web</a>' in rendered
    assert '<a href="mailto:dm@example.org" rel="noopener noreferrer">mail</a>' in rendered


def test_relative_and_protocol_relative_links_are_dropped():
    for href in ("/admin/", "//evil.example/", "../records/"):
        assert "href" not in render_dictionary_text(f'<a href="{href}">x</a>')


def test_template_syntax_and_piping_stay_literal_text():
    text = "{{ request.user.password }} {% debug %} {% now 'Y' %} [sex] a < b & c"
    rendered = render_dictionary_text(text)
    assert "{{ request.user.password }}" in rendered
    assert "{% debug %}" in rendered and "{% now 'Y' %}" in rendered and "[sex]" in rendered
    assert "a &lt; b &amp; c" in rendered


def test_unclosed_markup_cannot_swallow_the_page():
    assert render_dictionary_text("<b>bold <i>italic") == "<b>bold <i>italic</i></b>"
    assert render_dictionary_text("</div></form><p>x") == "<p>x</p>"


def test_plain_text_for_options_and_attributes():
    assert dictionary_plain_text("<b>Sex</b> &amp; gender<script>x()</script>") == "Sex & gender"
    assert dictionary_plain_text(None) == "" and render_dictionary_text(None) == ""


# -------------------------------------------------------------------- pages with the payloads


@pytest.fixture
def hostile(db, centers, people):
    version = import_dictionary(csv_text=hostile_dictionary_csv(), project=gi_lms_project())
    record = create_record(user=people["coord_mil"], center=centers["MIL"])
    enter_case(record, people["coord_mil"], version)
    return version, record


@pytest.fixture
def hostile_locked(hostile, people, django_capture_on_commit_callbacks):
    version, record = hostile
    lock_record(
        user=people["inv_mil"],
        record=record,
        password=PASSWORD,
        meaning=SIGNATURE_MEANINGS[0],
        dictionary_version=version,
    )
    record.refresh_from_db()
    return version, record


def debug_output(body: str) -> bool:
    """{% debug %} prints the template context (its builtins first) and sys.modules."""
    return "&#x27;True&#x27;: True" in body or "&lt;module &#x27;" in body


def assert_inert(body: str, user, *, shows_template_text: bool = True) -> None:
    """No payload is live, no template was evaluated, the literal text is what people see."""
    assert live_payloads(body) == []
    assert user.password not in body
    assert settings.SECRET_KEY not in body
    assert not debug_output(body)
    if shows_template_text:
        for literal in LITERAL_TEMPLATE_TEXT:
            assert literal in body


def instrument_urls(version, record):
    return [
        reverse("registry:instrument", args=[record.record_id, form, 1])
        for form in version.dictionary.form_names
    ]


@pytest.mark.parametrize("who", ["coord_mil", "inv_mil", "monitor", "pi", "dm"])
def test_every_form_renders_the_payloads_inert(client, hostile, people, who):
    version, record = hostile
    client.force_login(people[who])
    for url in instrument_urls(version, record):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.content.decode(), people[who])


@pytest.mark.parametrize("who", ["coord_mil", "monitor", "pi", "dm"])
def test_a_locked_record_renders_the_payloads_inert(client, hostile_locked, people, who):
    version, record = hostile_locked
    client.force_login(people[who])
    for url in instrument_urls(version, record):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "This record is locked" in response.content.decode()
        assert_inert(response.content.decode(), people[who])


def test_every_text_column_reaches_the_form_sanitized(client, hostile, people):
    """Section header, label, note, choice label, descriptive text and file label each show
    the literal template text, and the allowed markup around the payload stays markup."""
    version, record = hostile
    client.force_login(people["coord_mil"])
    body = client.get(instrument_urls(version, record)[0]).content.decode()  # enrolment
    year = str(__import__("datetime").date.today().year)
    assert body.count("{% now &#x27;Y&#x27; %}") + body.count("{% now 'Y' %}") >= 1
    assert f" {year} [record_id]" not in body
    rendered = render_dictionary_text(PAYLOAD)
    assert f'<h3 class="h5 mt-4 border-bottom pb-1">Section {rendered}</h3>' in body
    assert f"Note {rendered}" in body  # the field note (help text)
    assert f"Male {rendered}" in body  # a radio choice label
    assert f"<strong>hostile_file {rendered}</strong>" in body  # a file field's label
    not_eligible = version.dictionary.field("not_eligible").label.split(" <script>")[0]
    assert f"{not_eligible} {rendered}" in body  # descriptive text


@pytest.mark.parametrize(
    "where", ["section_header", "label", "note", "choice", "descriptive", "file"]
)
@pytest.mark.parametrize("template", ["{{ request.user.password }}", "{% debug %}"])
def test_template_text_in_any_column_is_never_evaluated(rf, people, where, template):
    """Rendered with the viewer in the context, as the instrument page does."""
    from django.template import RequestContext, Template

    from registry.dictionary import Choice, Dictionary, FieldDef

    text = f"before {template} after"
    fields = [FieldDef(name="record_id", form="f", label="Record ID")]
    if where in ("descriptive", "file"):
        fields.append(FieldDef(name="x", form="f", field_type=where, label=text))
    else:
        fields.append(
            FieldDef(
                name="x",
                form="f",
                field_type="radio",
                section_header=text if where == "section_header" else "Section",
                label=text if where == "label" else "Label",
                note=text if where == "note" else "",
                choices=(Choice("1", text if where == "choice" else "One"),),
            )
        )
    form = InstrumentForm(
        dictionary=Dictionary(tuple(fields)), instrument="f", context={}, missing_codes=[]
    )
    request = rf.get("/")
    request.user = people["dm"]
    body = Template("{% load crispy_forms_tags %}{% crispy form %}").render(
        RequestContext(request, {"form": form})
    )
    assert f"before {template} after" in body
    assert people["dm"].password not in body
    assert not debug_output(body)


def test_other_pages_that_show_dictionary_text(client, hostile, people):
    version, record = hostile
    query = query_open(
        user=people["monitor"],
        record=record,
        instrument="enrolment",
        instance=1,
        field="sex",
        text="Please check",
    )
    pages = {
        "monitor": [
            reverse("registry:query_open", args=[record.record_id]) + "?field=sex&instance=1",
            reverse("registry:query", args=[query.pk]),
            reverse("registry:queries"),
            reverse("registry:record", args=[record.record_id]),
            reverse("registry:field_history", args=[record.record_id, "sex"]),
            reverse("registry:record_history", args=[record.record_id]),
        ],
        "coord_mil": [
            reverse("registry:dashboard"),
            reverse("registry:quality"),
            reverse("registry:record", args=[record.record_id]),
        ],
        "dm": [reverse("registry:dictionary"), reverse("registry:audit")],
    }
    for who, urls in pages.items():
        client.force_login(people[who])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert_inert(response.content.decode(), people[who], shows_template_text=False)
    client.force_login(people["monitor"])
    page = client.get(pages["monitor"][0]).content.decode()
    # The field list is plain text: the markup is gone, the template text literal.
    assert re.search(r"Enrolment: Sex\s+js link data link styled \{\{ request.user.password", page)


# ------------------------------------------------------------------------ the stored bytes


@pytest.mark.parametrize(
    "encoded",
    [
        hostile_dictionary_csv("\r\n").encode(),
        b"\xef\xbb\xbf" + hostile_dictionary_csv("\n").encode(),  # Excel's UTF-8 BOM
    ],
    ids=["crlf", "bom-lf"],
)
def test_stored_dictionary_and_download_are_the_uploaded_bytes(client, db, people, encoded):
    client.force_login(people["dm"])
    upload = SimpleUploadedFile("dd.csv", encoded, content_type="text/csv")
    response = client.post("/dictionary/", {"csv_file": upload, "note": "payloads"})
    assert response.status_code == 302
    version = DictionaryVersion.objects.current()
    assert version.source_csv.encode("utf-8") == encoded
    assert client.get(f"/dictionary/{version.number}/csv/").content == encoded
    page = client.get("/dictionary/").content.decode()
    assert live_payloads(page) == []


def test_a_confirmed_upload_is_stored_byte_for_byte(client, hostile, people):
    """The confirmation round trip carries the file in base64: line endings and BOM survive."""
    client.force_login(people["dm"])
    lines = hostile_dictionary_csv("\n").splitlines(keepends=True)
    encoded = b"\xef\xbb\xbf" + "".join(x for x in lines if not x.startswith("rupture,")).encode()
    upload = SimpleUploadedFile("dd.csv", encoded, content_type="text/csv")
    response = client.post("/dictionary/", {"csv_file": upload, "note": "drop rupture"})
    assert response.status_code == 409
    assert live_payloads(response.content.decode()) == []
    carried = response.context["form"]["csv_base64"].value()
    response = client.post(
        "/dictionary/", {"csv_base64": carried, "confirm_changes": "on", "note": "drop rupture"}
    )
    assert response.status_code == 302
    current = DictionaryVersion.objects.current()
    assert current.number == 2 and current.source_csv.encode("utf-8") == encoded
    assert client.get("/dictionary/2/csv/").content == encoded


def test_a_file_that_is_not_utf8_is_refused_by_name(client, db, people):
    client.force_login(people["dm"])
    encoded = hostile_dictionary_csv().replace("Sex", "Sesso è").encode("cp1252")
    upload = SimpleUploadedFile("dd.csv", encoded, content_type="text/csv")
    response = client.post("/dictionary/", {"csv_file": upload, "note": "latin-1"})
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()
    assert not DictionaryVersion.objects.exists()


def test_no_template_source_is_built_at_run_time():
    """crispy's HTML() compiles its string as a template and `|safe` trusts whatever it gets:
    neither appears in the registry's code or templates (dictionary text goes through
    render_dictionary_text and fixed templates instead)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [*(root / "registry").rglob("*.py"), *(root / "analytics").rglob("*.py")]
    templates = list((root / "templates").rglob("*.html"))
    assert [
        p.name
        for p in sources
        if "from crispy_forms.layout import HTML" in p.read_text()
        or "layout.HTML(" in p.read_text()
        or " HTML(" in p.read_text()
    ] == []
    assert [p.name for p in templates if "|safe" in p.read_text()] == []
    assert [p.name for p in sources if "Template(" in p.read_text()] == []


def test_a_form_title_is_sanitised_once_per_dictionary(monkeypatch):
    """The "Saved" message of every save names its form: the title's plain text is derived once
    per (immutable) dictionary, and stays the sanitizer's."""
    from registry import display
    from registry.dictionary import Dictionary, gi_lms_dictionary

    base = gi_lms_dictionary()
    dictionary = Dictionary(fields=base.fields, form_titles={"enrolment": "<b>Arruolamento</b>"})
    calls = []

    def counted(text):
        calls.append(text)
        return dictionary_plain_text(text)

    monkeypatch.setattr(display, "dictionary_plain_text", counted)
    for _ in range(3):
        assert display.form_label(dictionary, "enrolment") == "Arruolamento"
        assert display.form_label(dictionary, "primary_surgery") == "Primary Surgery"
        assert display.form_label(dictionary, "nowhere") == "nowhere"
    assert len(calls) == len(dictionary.forms)
