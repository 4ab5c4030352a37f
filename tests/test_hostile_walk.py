"""No request ends in a 5xx: a property-based walk (hypothesis) over every URL pattern of the URL
conf and every REDCap API content/action, as every role and anonymous, with hostile values in
the path, query string, form body and uploaded files.

A route or API content without a case below fails ``test_every_route_has_a_case``: a new view
cannot go untested. Each request runs inside a savepoint that is rolled back, so the examples
are independent; the database is compared before and after each one:

- a request carrying bytes the registry refuses (NUL, lone surrogate, control character,
  invalid UTF-8, a number beyond bigint in the path or query) must be refused (4xx) and change
  nothing but the audit trail, sessions and log-in attempt logs;
- any other request may change data only with an audit event for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote_from_bytes

import pytest
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from centers.tokens import issue_api_token
from registry.api.methods import HANDLERS, REFUSALS, ROUTED_IN_VIEWS
from registry.models import AuditEvent, Query
from registry.services.deletion import instrument_delete
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

WEB_EXAMPLES = 400
API_EXAMPLES = 200
ROLES = ("anonymous", "coordinator", "investigator", "pi", "data_manager", "monitor")
# Tables that a refused request may still change: the refusal's audit event, the session, the
# log-in attempt logs of django-axes.
LOG_TABLES = {"registry_auditevent", "django_session"}
LOG_PREFIXES = ("axes_",)
STATS = {"web": 0, "api": 0, "refused": 0, "5xx": 0}


@dataclass(frozen=True)
class Case:
    """What a route reads: form fields, file fields, query parameters."""

    fields: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    query: tuple[str, ...] = ()


INSTRUMENT_FIELDS = ("sex", "mrn", "year_of_birth", "stage_dx", "_status", "_version", "_reason")
CASES: dict[str, Case] = {
    "": Case(),
    "accounts/login/": Case(fields=("username", "password", "next"), query=("next",)),
    "accounts/logout/": Case(query=("next",)),
    "accounts/password/change/": Case(fields=("old_password", "new_password1", "new_password2")),
    "profile/": Case(fields=("date_format", "language", "email_notifications", "action")),
    "accounts/password/reset/": Case(fields=("email",)),
    "accounts/password/reset/sent/": Case(),
    "accounts/password/reset/<uidb64>/<token>/": Case(fields=("new_password1", "new_password2")),
    "accounts/password/reset/done/": Case(),
    "accounts/two-factor/": Case(fields=("action",)),
    "accounts/two-factor/verify/": Case(fields=("code", "next"), query=("next",)),
    "accounts/two-factor/setup/": Case(fields=("code", "next"), query=("next",)),
    "healthz/": Case(),
    "records/": Case(query=("center", "lock", "q", "page")),
    "records/new/": Case(fields=("center",)),
    "records/lock/": Case(fields=("records", "password", "meaning")),
    "records/<str:record_id>/": Case(),
    "records/<str:record_id>/lock/": Case(fields=("password", "meaning")),
    "records/<str:record_id>/<str:instrument>/<int:instance>/lock/": Case(
        fields=("action", "password", "reason")
    ),
    "records/<str:record_id>/unlock/": Case(fields=("reason",)),
    "records/<str:record_id>/delete/": Case(fields=("reason",)),
    "records/<str:record_id>/rename/": Case(fields=("new_id", "reason")),
    "records/<str:record_id>/<str:instrument>/<int:instance>/delete/": Case(fields=("reason",)),
    "records/<str:record_id>/acknowledge/": Case(
        fields=("rule_key", "reason", "instrument", "instance")
    ),
    "records/<str:record_id>/history/": Case(query=("page",)),
    "records/<str:record_id>/history/<str:field>/": Case(query=("instance", "instrument")),
    "records/<str:record_id>/queries/new/": Case(
        fields=("field", "instance", "text"), query=("field", "instance")
    ),
    "records/<str:record_id>/<str:instrument>/<int:instance>/": Case(
        fields=(*INSTRUMENT_FIELDS, "action")
    ),
    "audit/": Case(
        query=("center", "user", "record", "action", "date_from", "date_to", "format", "page")
    ),
    "deleted/": Case(query=("page",)),
    "deleted/<int:seq>/restore/": Case(fields=("reason",)),
    "quality/": Case(fields=("name", "logic"), query=("center",)),
    "quality/rules/<int:rule_id>/toggle/": Case(),
    "queries/": Case(query=("status", "record", "page")),
    "queries/<int:query_id>/": Case(fields=("text", "action")),
    "dictionary/": Case(fields=("csv_text", "note", "confirm_changes"), files=("csv_file",)),
    "dictionary/<int:number>/csv/": Case(),
    "dictionary/translations/": Case(fields=("language", "note"), files=("csv_file",)),
    "dictionary/<int:number>/translations/<str:language>.csv": Case(),
    "codebook/": Case(query=("version", "compare")),
    "data-import/": Case(fields=("date_format", "overwrite"), files=("csv_file",)),
    "data-import/confirm/": Case(fields=("token", "reason")),
    "data-import/template/": Case(),
    "analytics/": Case(query=("ci", "subgroup", "version")),
    "analytics/freshness/": Case(query=("version",)),
    "analytics/progress/": Case(query=("fragment", "version", "details")),
    "analytics/history/": Case(query=("a", "b")),
    "analytics/summary.json": Case(query=("version", "ci")),
    "analytics/curves.csv": Case(query=("version", "ci")),
    "analytics/analysis-dataset.csv": Case(query=("version",)),
    "analytics/table1.csv": Case(query=("version",)),
    "analytics/table1.html": Case(query=("version",)),
    "analytics/figures/v<int:version>/<slug:name>.<figfmt:fmt>": Case(query=("ci", "inline")),
    "api/": Case(fields=("token", "content", "format")),
    "exports/": Case(
        fields=(
            "which",
            "deidentify",
            "dates",
            "raw_or_label",
            "header",
            "checkbox_label",
            "language",
        )
    ),
    "exports/<str:job_id>/status/": Case(),
    "exports/<str:job_id>/download/": Case(),
    "exports/<str:job_id>/retry/": Case(),
    # The admin's own routes; each registered model's six routes are added by admin_cases().
    "admin/": Case(),
    "admin/login/": Case(fields=("username", "password")),
    "admin/logout/": Case(),
    "admin/password_change/": Case(fields=("old_password", "new_password1", "new_password2")),
    "admin/password_change/done/": Case(),
    "admin/autocomplete/": Case(query=("term", "app_label", "model_name", "field_name")),
    "admin/jsi18n/": Case(),
    "admin/r/<path:content_type_id>/<path:object_id>/": Case(),
    "admin/centers/user/<id>/password/": Case(fields=("password1", "password2", "usable_password")),
    "admin/^(?P<app_label>auth|centers|axes|registry)/$": Case(),
    "admin/(?P<url>.*)$": Case(),
}
# Every content/action pair the API knows (handled, refused the REDCap way, or routed in the
# view), taken from the API's own table: a new content is walked without an edit here.
API_PAIRS = set(HANDLERS) | set(REFUSALS) | ROUTED_IN_VIEWS
API_CASES: dict[str, tuple[str, ...]] = {
    content: ("", *sorted(action for c, action in API_PAIRS if c == content))
    for content in sorted({c for c, _ in API_PAIRS})
}
API_PARAMS = (
    "records",
    "records[0]",
    "fields",
    "fields[]",
    "forms",
    "filterLogic",
    "rawOrLabel",
    "rawOrLabelHeaders",
    "type",
    "returnFormat",
    "returnContent",
    "overwriteBehavior",
    "forceAutoNumber",
    "dateFormat",
    "reason",
    "password",
    "meaning",
    "dateRangeBegin",
    "record",
    "user",
    "beginTime",
    "field",
    "instrument",
    "repeat_instance",
    "new_record_name",
)


def admin_cases() -> dict[str, Case]:
    cases = {}
    for model in admin.site._registry:
        base = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        cases[base] = Case(query=("q", "p", "o", "_changelist_filters"))
        cases[base + "add/"] = Case(fields=("username", "name", "code", "_save"))
        for tail in ("history/", "delete/", "change/", ""):
            cases[f"{base}<path:object_id>/{tail}"] = Case(fields=("username", "post", "_save"))
    return cases


def walk(patterns, prefix: str = ""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route


def all_routes() -> list[str]:
    return sorted(set(walk(get_resolver().url_patterns)))


def all_cases() -> dict[str, Case]:
    return {**CASES, **admin_cases()}


# --- values ---------------------------------------------------------------------------------

# Bytes the boundary refuses, wherever they are (as UTF-8 text, or raw bytes).
REFUSED_TEXT = [
    "a\x00b",
    "\x00",
    "x\ud800y",
    "\udfff",
    "bell\x07",
    "esc\x1b[31m",
    "del\x7f",
    "\ufffd",
]
REFUSED_BYTES = [b"\xff\xfe", b"ok\xc3\x28", b"\xed\xa0\x80", b"\x80abc"]
# Hostile but legal text: must be handled without a 5xx (refused or stored as plain data).
NASTY_TEXT = [
    "",
    " ",
    "'; DROP TABLE registry_record; --",
    "{{ request.user.password }}",
    "{% debug %}",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "../../etc/passwd",
    "%00",
    "A" * 5000,
    "\u202eevil",
    "😀",
    "-1",
    "0",
    "9" * 18,
    "99999999999999999999999",
    "1e309",
    "NaN",
    "²",
    "١٢",
    "[]",
    '{"a": 1}',
    '=HYPERLINK("http://x")',
    "line1\nline2\ttab",
    "MIL-0001",
    "BOL-0001",
]
BIG_INTS = ["9223372036854775808", "99999999999999999999999", "-9223372036854775809"]


@dataclass
class Value:
    raw: bytes  # what goes on the wire (UTF-8, or not)
    refused: bool

    @classmethod
    def text(cls, text: str, refused: bool) -> Value:
        return cls(text.encode("utf-8", "surrogatepass"), refused)

    def as_text(self) -> str:
        """For the multipart encoder, which takes text: invalid bytes become U+FFFD, as Django
        would decode them."""
        return self.raw.decode("utf-8", "replace")


def refused_values():
    return st.one_of(
        st.sampled_from(REFUSED_TEXT).map(lambda t: Value.text(t, True)),
        st.sampled_from(REFUSED_BYTES).map(lambda b: Value(b, True)),
        st.builds(
            lambda a, bad, b: Value.text(a + bad + b, True),
            st.text(max_size=8),
            st.sampled_from(REFUSED_TEXT),
            st.text(max_size=8),
        ),
    )


def nasty_values():
    safe_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffd")
    return st.one_of(st.sampled_from(NASTY_TEXT), st.text(alphabet=safe_chars, max_size=30)).map(
        lambda t: Value.text(t, False)
    )


def any_value():
    return st.one_of(refused_values(), nasty_values())


def path_value(converter: str, plausible: list[str], bytes_too: bool):
    """A value for one path converter: plausible ids, hostile text the converter still matches
    (with bytes the registry refuses only if ``bytes_too``)."""
    plain = st.sampled_from(plausible).map(lambda t: Value.text(t, False))
    if not bytes_too:
        if converter in ("slug", "figfmt", "int"):
            return plain
        return st.one_of(
            plain, nasty_values().filter(lambda v: b"/" not in v.raw and v.raw.strip())
        )
    if converter == "int":
        return st.one_of(
            plain,
            st.sampled_from(["0", "000001", "2147483648"]).map(lambda t: Value.text(t, False)),
            st.sampled_from(BIG_INTS[:2]).map(lambda t: Value.text(t, True)),
        )
    if converter in ("slug", "figfmt"):
        return plain
    no_slash = [v for v in REFUSED_TEXT if "/" not in v]
    return st.one_of(
        plain,
        nasty_values().filter(lambda v: b"/" not in v.raw and v.raw.strip() != b""),
        st.sampled_from(no_slash).map(lambda t: Value.text(t, True)),
        st.sampled_from(REFUSED_BYTES).map(lambda b: Value(b, True)),
    )


# --- the database, before and after -----------------------------------------------------------


def table_digests() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND has_table_privilege(format('%I.%I', schemaname, tablename), 'SELECT') "
            "ORDER BY tablename"
        )
        tables = [t for (t,) in cursor.fetchall() if not is_log_table(t)]
        sql = " UNION ALL ".join(
            f"SELECT '{t}', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
            f'FROM "{t}" x'
            for t in tables
        )
        # The log tables only grow (the audit trail is append-only): their size says enough.
        sql += "".join(
            f" UNION ALL SELECT '{t}', count(*)::text FROM \"{t}\"" for t in sorted(LOG_TABLES)
        )
        cursor.execute(sql)
        return dict(cursor.fetchall())


def is_log_table(name: str) -> bool:
    return name in LOG_TABLES or name.startswith(LOG_PREFIXES)


@dataclass
class Sent:
    method: str
    url: str
    refused: bool
    status: int = 0
    error: str = ""
    changed: list[str] = field(default_factory=list)


def send(client: Client, method: str, url: str, refused: bool, **kwargs) -> Sent:
    """One request inside a savepoint that is rolled back; a response body is read in full
    (a streamed export fails while streaming, after its 200)."""
    sent = Sent(method, url, refused)
    cookies = client.cookies
    client.cookies = type(cookies)(cookies)
    savepoint = transaction.savepoint()
    try:
        response = getattr(client, method)(url, **kwargs)
        if response.streaming:
            b"".join(response.streaming_content)
        sent.status = response.status_code
    except Exception as exc:  # noqa: BLE001 - any exception is the finding
        sent.status, sent.error = 599, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        connection.needs_rollback = False
    if sent.status < 500:
        after = table_digests()
        sent.changed = sorted(t for t, d in after.items() if BASELINE.get(t) != d)
    transaction.savepoint_rollback(savepoint)
    client.cookies = cookies
    STATS["5xx"] += sent.status >= 500
    STATS["refused"] += refused
    return sent


BASELINE: dict[str, str] = {}


def problems(sent: Sent) -> list[str]:
    if sent.status >= 500:
        return [f"{sent.method} {sent.url}: {sent.status} {sent.error}"]
    if sent.refused:
        if not 400 <= sent.status < 500:
            return [f"{sent.method} {sent.url}: hostile bytes answered {sent.status}"]
        data = [t for t in sent.changed if not is_log_table(t)]
        if data:
            return [f"{sent.method} {sent.url}: refused, yet changed {data}"]
    elif sent.changed and "registry_auditevent" not in sent.changed:
        data = [t for t in sent.changed if not is_log_table(t)]
        if data:
            return [f"{sent.method} {sent.url}: changed {data} without an audit event"]
    return []


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def world(dataset, people, centers):
    query = Query.objects.create(
        record=dataset["mil1"], instrument="stage", field="stage_dx", opened_by=people["monitor"]
    )
    unfinished = dataset["mil3"].instruments.filter(deleted_at__isnull=True).first()
    deleted = instrument_delete(
        user=people["coord_mil"],
        record=dataset["mil3"],
        instrument=unfinished.instrument,
        instance=unfinished.instance,
        reason="walk",
    )
    deletion = AuditEvent.objects.get(action="instance_delete", instrument=deleted.instrument)
    who = {
        "coordinator": people["coord_mil"],
        "investigator": people["inv_mil"],
        "pi": people["pi"],
        "data_manager": people["dm"],
        "monitor": people["monitor"],
    }
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role, user in who.items():
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(user)
    tokens = {role: issue_api_token(user=user) for role, user in who.items()}
    tokens["anonymous"] = "0" * 32
    plausible = {
        "record_id": ["MIL-0001", "MIL-0003", "BOL-0001", "ROM-0099"],
        "instrument": ["stage", "enrolment", "systemic_therapy", "nope"],
        "instance": ["1", "2"],
        "field": ["stage_dx", "mrn", "nope"],
        "rule_id": ["1", "2"],
        "query_id": [str(query.pk)],
        "seq": [str(deletion.seq), "1"],
        "number": ["1", "2"],
        "language": ["it", "en-gb", "xx"],
        "job_id": ["1", "00000000-0000-0000-0000-000000000000"],
        "uidb64": [urlsafe_base64_encode(str(people["coord_mil"].pk).encode()), "MQ", "x"],
        "token": [default_token_generator.make_token(people["coord_mil"]), "set-password", "x"],
        "version": ["1"],
        "name": ["km-overall", "x"],
        "fmt": ["svg", "png", "pdf"],
        "content_type_id": ["1", "6"],
        "object_id": [str(people["coord_mil"].pk), str(dataset["mil1"].pk), "1"],
        "id": [str(people["coord_mil"].pk), "1"],
        "app_label": ["auth", "axes", "centers", "registry"],
        "url": ["nope/", "centers/"],
    }
    BASELINE.clear()
    BASELINE.update(table_digests())
    return {"clients": clients, "tokens": tokens, "plausible": plausible}


# --- the tests ------------------------------------------------------------------------------


def test_every_route_has_a_case():
    routes, cases = set(all_routes()), set(all_cases())
    assert routes - cases == set(), "routes without a case in tests/test_hostile_walk.py"
    assert cases - routes == set(), "cases for routes that no longer exist"
    assert {"record", "lock", "metadata"} <= set(API_CASES)


CONVERTER = r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>[^)]*\)"


def build_path(route: str, draw, plausible: dict, bytes_too: bool) -> tuple[str, bool]:
    import re

    refused = False
    out, last = [], 0
    route = route.replace("^", "").replace("$", "")
    for m in re.finditer(CONVERTER, route):
        out.append(route[last : m.start()])
        name = m.group("name") or m.group("rname")
        conv = m.group("conv") or ("str" if m.group("name") else "slug")
        if m.group("rname"):
            value = Value.text(draw(st.sampled_from(plausible[name])), False)
        else:
            value = draw(path_value(conv, plausible[name], bytes_too))
        refused |= value.refused
        out.append(quote_from_bytes(value.raw, safe=""))
        last = m.end()
    out.append(route[last:])
    return "/" + "".join(out), refused


def encode_pairs(pairs: list[tuple[str, Value]]) -> str:
    """Names go out as UTF-8 (a lone surrogate as its bytes), values as their raw bytes."""
    return "&".join(
        f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}={quote_from_bytes(v.raw)}"
        for k, v in pairs
    )


def hostile_name(name: str) -> bool:
    return "\x00" in name or "\ud800" in name


@settings(
    max_examples=WEB_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_web_request_ends_in_a_5xx(world, data):
    cases = all_cases()
    route = data.draw(st.sampled_from(sorted(r for r in all_routes() if r != "api/")))
    case = cases[route]
    role = data.draw(st.sampled_from(ROLES))
    method = data.draw(st.sampled_from(["get", "post"]))
    bytes_too = data.draw(st.booleans())  # else only text that is hostile yet legal
    values = any_value() if bytes_too else nasty_values()
    path, refused = build_path(route, data.draw, world["plausible"], bytes_too)
    names = st.one_of(
        st.sampled_from([*case.query, *case.fields] or ["x"]),
        st.sampled_from(["x", "page", "a\x00", "b\ud800"] if bytes_too else ["x", "page"]),
    )
    query = data.draw(st.lists(st.tuples(names, values), max_size=3))
    body = data.draw(st.lists(st.tuples(names, values), max_size=4))
    refused |= any(v.refused for _, v in query)
    refused |= any(hostile_name(k) for k, _ in query)
    url = path + ("?" + encode_pairs(query) if query else "")
    client = world["clients"][role]
    if method == "post" and case.files and data.draw(st.booleans()):
        file_name = data.draw(values)
        content = data.draw(st.one_of(refused_values(), nasty_values()))
        form = {
            k.encode("utf-8", "surrogatepass").decode("utf-8", "replace"): v.as_text()
            for k, v in body
        }
        upload_name = file_name.as_text() or "x.csv"
        form[case.files[0]] = SimpleUploadedFile(upload_name, content.raw)
        refused |= any(v.refused for _, v in body) or "\ufffd" in upload_name
        refused |= any("\ufffd" in k for k in form)
        sent = send(client, "post", url, refused, data=form)
    elif method == "post":
        refused |= any(v.refused for _, v in body) or any(hostile_name(k) for k, _ in body)
        sent = send(
            client,
            "post",
            url,
            refused,
            data=encode_pairs(body).encode("ascii"),
            content_type="application/x-www-form-urlencoded",
        )
    else:
        sent = send(client, "get", url, refused)
    STATS["web"] += 1
    assert problems(sent) == []


IMPORT_COLUMNS = ("mrn", "sex", "stage_dx", "redcap_repeat_instrument", "redcap_repeat_instance")


def import_data(draw, fmt: str, bytes_too: bool) -> tuple[Value, bool]:
    """Rows for content=record import with hostile cells, names or nesting."""
    if bytes_too and draw(st.integers(0, 5)) == 0:
        depth = draw(st.sampled_from([17, 1000, 100_000]))
        return Value.text("[" * depth + "]" * depth, False), True
    rows, refused = [], False
    for _ in range(draw(st.integers(1, 2))):
        row = {"record_id": draw(st.sampled_from(["MIL-0003", "MIL-0001", "BOL-0001", "MIL-0099"]))}
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from([*IMPORT_COLUMNS, "a\x00" if bytes_too else "x"]))
            value = draw(any_value() if bytes_too else nasty_values())
            row[name] = value.raw.decode("utf-8", "surrogatepass" if fmt == "json" else "replace")
            if "\ufffd" in row[name] and fmt == "json":
                row[name] = value.raw.decode("utf-8", "replace")
            refused |= value.refused or hostile_name(name)
        rows.append(row)
    if fmt == "json":
        return Value.text(json.dumps(rows), refused), refused
    header = sorted({k for r in rows for k in r})
    lines = [",".join(header)] + [
        ",".join('"' + str(r.get(k, "")).replace('"', '""') + '"' for k in header) for r in rows
    ]
    return Value.text("\n".join(lines), refused), refused


@settings(
    max_examples=API_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_api_call_ends_in_a_5xx(world, data):
    cache.clear()  # the per-token rate limit would answer 429 long before the walk ends
    role = data.draw(st.sampled_from(ROLES))
    content = data.draw(st.sampled_from(sorted(API_CASES)))
    action = data.draw(st.sampled_from(API_CASES[content]))
    fmt = data.draw(st.sampled_from(["json", "csv", "xml"]))
    pairs = [("token", Value.text(world["tokens"][role], False))]
    pairs += [("content", Value.text(content, False)), ("format", Value.text(fmt, False))]
    if action:
        pairs.append(("action", Value.text(action, False)))
    bytes_too = data.draw(st.booleans())  # else only text that is hostile yet legal
    names = st.sampled_from([*API_PARAMS, "a\x00"] if bytes_too else API_PARAMS)
    extra = data.draw(
        st.lists(st.tuples(names, any_value() if bytes_too else nasty_values()), max_size=4)
    )
    if bytes_too and data.draw(st.integers(0, 9)) == 0:  # a hostile content or action itself
        extra.append(
            (data.draw(st.sampled_from(["content", "action"])), data.draw(refused_values()))
        )
    pairs += extra
    refused = any(v.refused for _, v in extra) or any(hostile_name(k) for k, _ in extra)
    if content == "record" and action in ("", "import"):
        value, hostile = import_data(data.draw, fmt, bytes_too)
        pairs.append(("data", value))
        refused |= hostile and fmt in ("json", "csv")
    body = encode_pairs(pairs).encode("ascii")
    sent = send(
        world["clients"]["anonymous"],
        "post",
        "/api/",
        refused,
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    STATS["api"] += 1
    assert problems(sent) == []


def test_report_the_walk():
    """Runs after the two walks (file order): the figures for the closing note."""
    print(
        f"\nhostile walk: {STATS['web']} web requests, {STATS['api']} API calls, "
        f"{STATS['refused']} carrying refused bytes, {STATS['5xx']} answered 5xx"
    )
    assert STATS["5xx"] == 0
