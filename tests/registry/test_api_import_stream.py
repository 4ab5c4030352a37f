"""A large import is read twice and never held whole (registry.api.import_source,
registry.api.import_batches, registry.api.import_ids): the memory an import holds does not grow
with its number of records, the ids it answers with are every id written (with the bytes the
answer had when it was built in memory), a record's rows
may be anywhere in the body, an error anywhere still writes nothing, and `data` sent as a file
in a multipart body is read from disk in pieces, past the limit of a form body."""

from __future__ import annotations

import gc
import json
import tempfile
import tracemalloc

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import JsonResponse, QueryDict
from django.utils.datastructures import MultiValueDict

from centers.tokens import issue_api_token
from registry.api import import_batches, import_ids, import_source, record_import
from registry.api.params import Params
from registry.api.record_import import import_records
from registry.api.responses import ids_response, rows_response
from registry.models import InstrumentData, Record
from tests.registry.api_calls import read
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, dataset, people):
    cache.clear()
    token = issue_api_token(user=people["coord_mil"])

    def call(data: str, **params):
        params |= {"token": token, "content": "record", "data": data}
        params.setdefault("format", "json")
        params.setdefault("returnFormat", "json")
        return read(client.post("/api/", params))

    return call


def new_rows(first: int, n: int) -> list[dict]:
    return [
        {
            "record_id": f"MIL-{i:04d}",
            "sex": str(1 + i % 2),
            "year_of_birth": str(1940 + i % 50),
            "date_dx": f"2012-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "tumour_size_mm": str(10 + i % 200),
            "site_of_origin": str(1 + i % 4),
        }
        for i in range(first, first + n)
    ]


NOT_THE_DRIVER = [tracemalloc.Filter(False, "*/psycopg/*")]


class Upload:
    """What Django gives for a file part of a multipart body: its file on disk."""

    def __init__(self, file) -> None:
        self.file = file


def held_bytes(user, rows: list[dict], *, as_file: bool, monkeypatch) -> int:
    """The most memory (Python allocations) one import call held beyond its body, sampled
    after a full collection (which also empties the interpreter's free lists) at each group of
    records cleaned and at each batch written. The database driver's own statement cache (at
    most 100 statements) is left out: its size follows the statements' text, not the import."""
    params, files = QueryDict(mutable=True), MultiValueDict()
    params["format"] = "json"
    if as_file:
        spooled = tempfile.TemporaryFile()
        spooled.write(json.dumps(rows).encode())
        files["data"] = Upload(spooled)
    else:
        params["data"] = json.dumps(rows)
    samples = []

    def sample() -> None:
        gc.collect()
        snapshot = tracemalloc.take_snapshot().filter_traces(NOT_THE_DRIVER)
        samples.append(sum(trace.size for trace in snapshot.traces))

    complete_records, read_batch = record_import._complete_records, import_batches._read_batch

    def sampled_groups(*args, **kwargs):
        for group in complete_records(*args, **kwargs):
            sample()
            yield group

    def sampled_batch(*args, **kwargs):
        sample()
        return read_batch(*args, **kwargs)

    monkeypatch.setattr(record_import, "_complete_records", sampled_groups)
    monkeypatch.setattr(import_batches, "_read_batch", sampled_batch)
    tracemalloc.start(1)
    try:
        sample()
        with import_records(user, Params(params, files)) as written:
            assert written.count == len(rows)
            assert list(written.ids()) == [row["record_id"] for row in rows]
    finally:
        tracemalloc.stop()
        monkeypatch.undo()
    return max(samples) - samples[0]


@pytest.mark.parametrize("as_file", [False, True], ids=["form field", "file"])
def test_the_memory_an_import_holds_does_not_grow_with_its_records(
    dataset, people, monkeypatch, as_file
):
    def bounded(patch: pytest.MonkeyPatch) -> None:
        # What is held a piece or a group at a time (text read, rows noted, ids read back,
        # records cleaned, ids kept for the audit) is bounded by these; set small, both imports
        # pass them.
        patch.setattr(import_source, "READ_CHARS", 4000)
        patch.setattr(import_ids, "NOTE_ROWS", 100)
        patch.setattr(import_ids, "READ_IDS", 100)
        patch.setattr(import_ids, "KEEP_FIRST", 100)
        patch.setattr(record_import, "PLAN_GROUP_RECORDS", 100)

    user = people["coord_mil"]
    with pytest.MonkeyPatch.context() as patch:
        bounded(patch)
        small = held_bytes(user, new_rows(4, 300), as_file=as_file, monkeypatch=patch)
    with pytest.MonkeyPatch.context() as patch:
        bounded(patch)
        large = held_bytes(user, new_rows(304, 1200), as_file=as_file, monkeypatch=patch)
    per_record = (large - small) / 900
    # Holding every parsed row, record and plan took about 4.3 KB a record; keeping each id
    # in memory (its last row, what it resolved to, the answer) about 0.3 KB. The ids are now
    # in a PostgreSQL temporary table (held by the server, not by this process).
    assert per_record < 60, f"{per_record:.0f} bytes a record"
    assert Record.objects.filter(record_id="MIL-1503").exists()


def test_a_records_rows_may_be_anywhere_in_the_body(api, monkeypatch):
    monkeypatch.setattr(record_import, "PLAN_GROUP_RECORDS", 1)  # each record planned alone
    monkeypatch.setattr(import_batches, "IMPORT_BATCH_RECORDS", 2)
    rows = [
        {"record_id": "MIL-0004", "sex": "1"},
        {"record_id": "MIL-0003", "tumour_size_mm": "44"},
        {"record_id": "MIL-0005", "sex": "2"},  # complete before MIL-0004 and MIL-0003
        {
            "record_id": "MIL-0004",
            "redcap_repeat_instrument": "relapse",
            "redcap_repeat_instance": "1",
            "relapse_date": "2015-01-01",
            "relapse_type": "2",
        },
        {"record_id": "MIL-0003", "site_of_origin": "2"},
    ]
    response = api(json.dumps(rows), returnContent="ids")
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == ["MIL-0004", "MIL-0003", "MIL-0005"]
    assert Record.objects.get(record_id="MIL-0005").sequence == 5
    relapse = InstrumentData.objects.get(record__record_id="MIL-0004", instrument="relapse")
    assert relapse.data["relapse_type"] == "2"
    stored = InstrumentData.objects.get(
        record__record_id="MIL-0003", instrument="diagnosis_pathology"
    ).data
    assert (stored["tumour_size_mm"], stored["site_of_origin"]) == ("44", "2")


def snapshot() -> tuple:
    rows = InstrumentData.objects.order_by("pk").values_list("pk", "version", "data")
    return list(rows), Record.objects.count()


def test_an_error_in_the_last_row_or_the_last_byte_writes_nothing(api, monkeypatch):
    monkeypatch.setattr(record_import, "PLAN_GROUP_RECORDS", 3)
    monkeypatch.setattr(import_batches, "IMPORT_BATCH_RECORDS", 2)
    before = snapshot()
    rows = new_rows(4, 30)
    rows[-1]["tumour_size_mm"] = "huge"
    invalid = api(json.dumps(rows))
    assert invalid.status_code == 400
    details = json.loads(invalid.content)["details"]
    assert [(d["record"], d["field_name"], d["value"]) for d in details] == [
        ("MIL-0033", "tumour_size_mm", "huge")
    ]
    cut = api(json.dumps(new_rows(4, 30))[:-1])
    assert cut.status_code == 400
    assert "The data are not valid JSON" in json.loads(cut.content)["error"]
    not_objects = api(json.dumps([*new_rows(4, 30), "MIL-0034"]))
    assert "must be a list of objects" in json.loads(not_objects.content)["error"]
    header = "record_id,sex,tumour_size_mm\n"
    csv_rows = "".join(f"MIL-{i:04d},1,20\n" for i in range(4, 30)) + "MIL-0030,1,big\n"
    in_csv = api(header + csv_rows, format="csv")
    assert in_csv.status_code == 400
    assert '"MIL-0030","tumour_size_mm","big"' in json.loads(in_csv.content)["error"]
    assert snapshot() == before
    ok = api(header + csv_rows.replace("big", "21"), format="csv")
    assert ok.status_code == 200 and json.loads(ok.content) == {"count": 27}


def test_a_data_file_in_a_multipart_body_passes_the_form_limit(
    client, dataset, people, settings, monkeypatch
):
    cache.clear()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10_000  # Django spools the file to disk
    monkeypatch.setattr(import_source, "READ_CHARS", 1000)  # rows straddle the pieces read
    token = issue_api_token(user=people["coord_mil"])

    def call(data, **more):
        params = {"token": token, "content": "record", "format": "json", "returnFormat": "json"}
        return read(client.post("/api/", {**params, "data": data, **more}))

    body = json.dumps(new_rows(4, 400)).encode()
    too_big = call(body.decode())  # the same text as a form field
    assert too_big.status_code == 413
    assert "several calls" in json.loads(too_big.content)["error"]
    assert "as a file in a multipart/form-data body" in json.loads(too_big.content)["error"]
    before = snapshot()
    cut = call(SimpleUploadedFile("rows.json", body[:-5000]))
    assert cut.status_code == 400
    assert "The data are not valid JSON" in json.loads(cut.content)["error"]
    latin1 = call(SimpleUploadedFile("rows.csv", b"record_id,sex\nMIL-0004,\xe9\n"), format="csv")
    assert "not UTF-8 text" in json.loads(latin1.content)["error"]
    deep = call(SimpleUploadedFile("rows.json", body[:-1] + b"," + b"[" * 40 + b"]" * 40 + b"]"))
    assert "nested deeper than" in json.loads(deep.content)["error"]
    assert snapshot() == before
    ok = call(SimpleUploadedFile("rows.json", body))
    assert ok.status_code == 200, ok.content
    assert json.loads(ok.content) == {"count": 400}
    header = "\ufeffrecord_id,sex,tumour_size_mm\n"
    text = header + "".join(f"MIL-{i:04d},2,{i % 90 + 10}\n" for i in range(4, 404))
    in_csv = call(SimpleUploadedFile("rows.csv", text.encode()), format="csv")
    assert in_csv.status_code == 200, in_csv.content
    stored = InstrumentData.objects.get(
        record__record_id="MIL-0403", instrument="diagnosis_pathology"
    )
    assert stored.data["tumour_size_mm"] == "53"
    assert Record.objects.filter(record_id__startswith="MIL-").count() == 403


@pytest.mark.parametrize("fmt", ["json", "csv", "xml"])
@pytest.mark.parametrize("count", [0, 3, 20_000], ids=["none", "few", "sent from its file"])
def test_the_ids_answer_has_the_bytes_it_had_when_built_in_memory(fmt, count):
    ids = [f"MIL-{n:04d}" for n in range(count)]
    if count:
        ids[1:3] = ["=cmd|' /C calc'!A0", "MIL-ü]]>"]  # a formula, non-ASCII, CDATA's end
    old = (
        JsonResponse(ids, safe=False)
        if fmt == "json"
        else rows_response([{"id": i} for i in ids], fmt)
    )
    new = read(ids_response(iter(ids), fmt))
    assert new.content == old.content
    assert new["Content-Type"] == old["Content-Type"]
