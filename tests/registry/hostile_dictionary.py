"""The GI-LMS dictionary with attack payloads in every text column, and a check that finds any
payload left live in a page.

Each payload marks the window (`window.__pwned`) and opens a dialog if it ever runs; template
payloads show whether the text was compiled as a Django template (it then prints the viewer's
password hash, the secret key or the year).
"""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from registry.dictionary import COLUMNS, gi_lms_dictionary_csv

SCRIPT = "<script>window.__pwned='script';alert('script')</script>"
IMG = "<img src=x onerror=\"window.__pwned='img';alert('img')\">"
SVG = "<svg onload=\"window.__pwned='svg';alert('svg')\"></svg>"
JS_LINK = "<a href=\"javascript:window.__pwned='js-link';alert('js-link')\">js link</a>"
DATA_LINK = '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>'
STYLE = '<span style="background-image: url(javascript:alert(1)); color: expression(alert(1))">'
STYLE += "styled</span>"
TEMPLATE_TAGS = "{{ request.user.password }} {{ settings.SECRET_KEY }} {% debug %} {% now 'Y' %}"
PIPING = "[record_id]"
PAYLOADS = {
    "script": SCRIPT,
    "img onerror": IMG,
    "svg onload": SVG,
    "javascript: link": JS_LINK,
    "data: link": DATA_LINK,
    "style url/expression": STYLE,
    "template {{ }} {% %}": TEMPLATE_TAGS,
    "piping": PIPING,
}
PAYLOAD = " ".join(PAYLOADS.values())
# The literal text that must be visible wherever the payload is shown: never evaluated.
LITERAL_TEMPLATE_TEXT = ("{{ request.user.password }}", "{% debug %}")

SECTION, LABEL, CHOICES, NOTE, ANNOTATION = (
    COLUMNS[2],
    COLUMNS[4],
    COLUMNS[5],
    COLUMNS[6],
    COLUMNS[17],
)
TEXT_COLUMNS = (SECTION, LABEL, CHOICES, NOTE, ANNOTATION)
EXTRA_FIELDS = [  # the field types the GI-LMS dictionary lacks, each with its text columns
    {COLUMNS[0]: "hostile_file", COLUMNS[1]: "enrolment", COLUMNS[3]: "file"},
    {
        COLUMNS[0]: "hostile_slider",
        COLUMNS[1]: "enrolment",
        COLUMNS[3]: "slider",
        CHOICES: f"none {PAYLOAD} | some {PAYLOAD} | all {PAYLOAD}",
    },
    {COLUMNS[0]: "hostile_descriptive", COLUMNS[1]: "stage", COLUMNS[3]: "descriptive"},
]


def _poison(row: dict[str, str]) -> dict[str, str]:
    row = dict(row)
    row[SECTION] = f"Section {PAYLOAD}"
    row[LABEL] = f"{row[LABEL] or row[COLUMNS[0]]} {PAYLOAD}"
    row[NOTE] = f"Note {PAYLOAD}"
    row[ANNOTATION] = f"{row[ANNOTATION]} {PAYLOAD}".strip()
    kind = row[COLUMNS[3]]
    if kind in ("radio", "checkbox", "dropdown"):  # choice labels may hold anything but "|"
        row[CHOICES] = " | ".join(f"{c.strip()} {PAYLOAD}" for c in row[CHOICES].split("|"))
    return row


def hostile_dictionary_csv(newline: str = "\r\n") -> str:
    """Every text column of every field carries every payload; codes and logic are unchanged."""
    rows = list(csv.DictReader(io.StringIO(gi_lms_dictionary_csv(), newline="")))
    extra = [{c: "" for c in COLUMNS} | f for f in EXTRA_FIELDS]
    out = []
    for row in rows:
        out.append(row)
        for f in extra:
            if f[COLUMNS[1]] == row[COLUMNS[1]] and not any(
                r[COLUMNS[1]] == row[COLUMNS[1]] for r in rows[rows.index(row) + 1 :]
            ):
                out.append(f)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator=newline)
    writer.writeheader()
    writer.writerows(_poison(r) for r in out)
    return buffer.getvalue()


class _LivePayloads(HTMLParser):
    """Elements and attributes that would run code in a browser and come from a payload."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._script = tag == "script"
        if tag in ("iframe", "object", "embed") or (tag == "img" and ("src", "x") in attrs):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name in ("href", "src", "action", "formaction") and value.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.found.append(f"<{tag} {name}={value[:20]}...>")
            elif name == "style" and ("url(" in value or "expression(" in value):
                self.found.append(f"<{tag} style={value[:30]}...>")

    def handle_endtag(self, tag: str) -> None:
        self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and "__pwned" in data:
            self.found.append("<script>__pwned</script>")


def live_payloads(html: str) -> list[str]:
    parser = _LivePayloads()
    parser.feed(html)
    parser.close()
    return parser.found
