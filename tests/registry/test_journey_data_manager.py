"""The data manager's day in a real browser (Debian's chromium via Playwright): download the
import template, upload a CSV that touches a signed record and read the refusal, upload the
corrected file, read the preview (new record, old -> new values with labels), import it, check
the codebook, then build and download both exports, identified and de-identified. Every page
is checked for sideways scrolling at 1366x900 and on a 390x844 phone."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest

from tests.browser_layout import chromium
from tests.live import live_stack

pytestmark = pytest.mark.browser

PASSWORD = "a-long-demo-password-2024"
SETUP = f"""
from centers.models import Center, Membership, Role, User
from registry.services.dictionary import import_default_dictionary
from registry.services.locking import SIGNATURE_MEANINGS, lock_record
from registry.services.records import create_record
from tests.fixtures_records import COMPLETE_CASE, enter_case
mil = Center.objects.create(code="MIL", name="Istituto Nazionale dei Tumori", city="Milano")
Center.objects.create(code="BOL", name="Policlinico di Sant'Orsola", city="Bologna")
def person(username, role, center, first, last):
    user = User.objects.create_user(username, password="{PASSWORD}", first_name=first,
                                    last_name=last)
    Membership.objects.create(user=user, center=center, role=role)
    return user
dm = person("dm", Role.DATA_MANAGER, None, "Dora", "Manzoni")
coordinator = person("coordinator-mil", Role.SITE_COORDINATOR, mil, "Carla", "Rossi")
investigator = person("investigator-mil", Role.SITE_INVESTIGATOR, mil, "Ivan", "Bianchi")
version = import_default_dictionary()
signed = create_record(user=coordinator, center=mil)
enter_case(signed, coordinator, version)
lock_record(user=investigator, record=signed, password="{PASSWORD}",
            meaning=SIGNATURE_MEANINGS[0], dictionary_version=version)
started = create_record(user=coordinator, center=mil)
enter_case(started, coordinator, version,
           {{"enrolment": [{{"sex": "1", "year_of_birth": "1970", "mrn": "H-2"}}]}}, status=0)
"""
STORED = """
import json
from registry.models import InstrumentData
rows = InstrumentData.objects.filter(record__record_id__in=["MIL-0002", "MIL-0003"])
print(json.dumps({f"{r.record.record_id}/{r.instrument}": r.data for r in rows}))
"""
SIZES = [(1366, 900), (390, 844)]


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    exports = tmp_path_factory.mktemp("exports")
    env = {"EXPORT_ROOT": str(exports)}
    with live_stack(django_db_blocker, prepare=lambda s: s.shell(SETUP), extra_env=env) as live:
        yield live


@pytest.fixture
def page(stack):
    with chromium() as browser:
        context = browser.new_context(
            base_url=stack.url, viewport={"width": 1366, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page


def fits(page) -> None:
    """No sideways scrolling at either size; the page is left at the desktop size."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{page.url} scrolls sideways at {width}x{height}: {scroll}"
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def csv_text(header: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in header})
    return out.getvalue()


def upload(page, tmp_path, name: str, text: str, date_format: str = "DMY") -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    page.set_input_files('input[name="csv_file"]', str(path))
    page.select_option('select[name="date_format"]', date_format)
    page.click("#import-preview-button")
    page.wait_for_load_state()


def build_export(page, *, deidentify: bool) -> str:
    """Build one export of all records and download it; the zip's data CSV as text."""
    from playwright.sync_api import expect

    page.goto("/exports/")
    page.check('input[name="which"][value="all"]')
    if deidentify:
        page.check('input[name="deidentify"]')
    else:
        page.uncheck('input[name="deidentify"]')
    page.click('button[type="submit"]:has-text("Build export")')
    page.wait_for_load_state()
    first = page.locator("tbody tr").first
    expect(first.get_by_role("link", name="Download")).to_be_visible(timeout=60_000)
    fits(page)
    with page.expect_download() as info:
        first.get_by_role("link", name="Download").click()
    download = info.value
    with zipfile.ZipFile(download.path()) as archive:
        data = [n for n in archive.namelist() if n.endswith(".csv") and "dictionary" not in n]
        return download.suggested_filename, archive.read(sorted(data, key=len)[0]).decode()


def test_data_manager_imports_a_csv_through_the_preview_and_downloads_both_exports(
    stack, page, tmp_path
):
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill('input[name="username"]', "dm")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"], input[type="submit"]')
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/records/")
    fits(page)

    page.click('a[href="/data-import/"]')
    expect(page.get_by_role("heading", name="Data Import Tool")).to_be_visible()
    fits(page)
    with page.expect_download() as info:
        page.click("#import-template")
    header = next(csv.reader(io.StringIO(info.value.path().read_text(encoding="utf-8"))))
    assert header[:3] == ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert "sex" in header and "date_dx" in header and "enrolment_complete" in header

    # A file that also touches the signed record: refused as a whole, the record named.
    rows = [
        {"record_id": "MIL-0001", "tumour_size_mm": "81"},
        {"record_id": "MIL-0002", "sex": "2", "date_dx": "04/03/2011"},
        {"record_id": "MIL-0003", "sex": "1", "year_of_birth": "1948", "mrn": "H-3"},
    ]
    upload(page, tmp_path, "with-locked.csv", csv_text(header, rows))
    errors = page.locator("#import-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("MIL-0001")
    expect(errors).to_contain_text("locked")
    expect(page.locator("#import-apply")).to_have_count(0)
    fits(page)

    # The corrected file: a preview per record, in labels and the person's date format.
    upload(page, tmp_path, "corrected.csv", csv_text(header, rows[1:]))
    existing = page.locator('.import-record[data-record="MIL-0002"]')
    new = page.locator('.import-record[data-record="MIL-0003"]')
    expect(existing).to_contain_text("existing record")
    sex = existing.locator('tr[data-field="sex"]')
    expect(sex).to_contain_text("Sex")
    expect(sex).to_contain_text("Male (1)")
    expect(sex).to_contain_text("Female (2)")
    expect(existing.locator('tr[data-field="date_dx"]')).to_contain_text("04/03/2011")
    expect(new).to_contain_text("new record")
    expect(new.locator('tr[data-field="mrn"]')).to_contain_text("H-3")
    fits(page)
    assert "MIL-0003" not in stack.shell(STORED)  # the preview wrote nothing

    page.fill('input[name="reason"]', "Values from the pathology review")
    page.click("#import-apply")
    page.wait_for_load_state()
    expect(page.locator(".alert-success")).to_contain_text("Imported 2 record(s): 1 new")
    fits(page)
    stored = json.loads(stack.shell(STORED))
    assert stored["MIL-0002/enrolment"]["sex"] == "2"
    assert stored["MIL-0002/diagnosis_pathology"]["date_dx"] == "2011-03-04"
    assert stored["MIL-0003/enrolment"]["mrn"] == "H-3"

    # The codebook: what the columns mean, with a version switch.
    page.click('a[href="/codebook/"]')
    expect(page.locator('tr[data-field="site_other"] .branching')).to_contain_text(
        "Site of origin is Other (6)"
    )
    fits(page)

    identified_name, identified = build_export(page, deidentify=False)
    deidentified_name, deidentified = build_export(page, deidentify=True)
    assert identified_name.endswith(".zip") and deidentified_name.endswith(".zip")
    assert "deidentified" in deidentified_name and identified_name != deidentified_name
    identified_header = next(csv.reader(io.StringIO(identified)))
    deidentified_header = next(csv.reader(io.StringIO(deidentified)))
    assert "mrn" in identified_header and "H-3" in identified and "MIL-0003" in identified
    assert "mrn" not in deidentified_header and "H-3" not in deidentified
    assert "MIL-0003" not in deidentified  # the record id is replaced by a keyed hash
    assert page.errors == []
