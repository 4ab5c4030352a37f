"""The audit chain's head is printed by verify_audit, the nightly check and every export manifest,
and `verify_audit --anchor/--anchors` checks the trail against heads kept outside the database.
The attacks an anchor exists for (cutting the tail, rewriting and re-hashing) need the table
owner: they are in test_tamper_evidence.py."""

from __future__ import annotations

import io
import json
import logging
import zipfile

import pytest
from django.core.management import CommandError, call_command

from registry.audit import record_event
from registry.exports.build import build_export
from registry.exports.jobs import jobs_of
from registry.exports.options import ExportOptions
from registry.models import AuditEvent
from registry.tasks import verify_integrity
from tests.registry.golden.dataset import dataset_fixture  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def head() -> str:
    event = AuditEvent.objects.latest("seq")
    return f"{event.seq}:{event.hash}"


def verify(capsys, *args: str) -> str:
    call_command("verify_audit", *args)
    return capsys.readouterr().out


def test_verify_audit_prints_the_chain_head_and_accepts_it_later(capsys, dictionary):
    anchor = head()
    assert f"chain head: {anchor}" in verify(capsys)
    record_event("test_event", details={"n": 1})
    out = verify(capsys, "--anchor", anchor)
    assert "1 anchor(s) held" in out and f"chain head: {head()}" in out
    assert head() != anchor


def test_an_anchor_beyond_the_end_of_the_trail_is_a_cut_trail(dictionary):
    seq, digest = head().split(":")
    with pytest.raises(CommandError, match=rf"ends at event #{seq}, before the anchored event"):
        call_command("verify_audit", "--anchor", f"{int(seq) + 5}:{digest}")


def test_an_anchor_with_another_hash_is_a_rewritten_trail(dictionary):
    seq = head().split(":")[0]
    with pytest.raises(CommandError, match=rf"event #{seq} now has hash"):
        call_command("verify_audit", "--anchor", f"{seq}:{'ab' * 32}")


def test_anchors_file_with_comments(tmp_path, capsys, dictionary):
    first = head()
    record_event("test_event")
    second = head()
    path = tmp_path / "anchors.txt"
    path.write_text(f"# kept by the data manager\n{first}  # export of Monday\n\n{second}\n")
    assert "2 anchor(s) held" in verify(capsys, "--anchors", str(path))
    path.write_text(f"{first}\nnot-an-anchor\n")
    with pytest.raises(CommandError, match=r"anchors.txt, line 2: 'not-an-anchor' is not an"):
        call_command("verify_audit", "--anchors", str(path))


@pytest.mark.parametrize("bad", ["12", "0:" + "a" * 64, "5:" + "g" * 64, "5:abc", "x:y"])
def test_a_malformed_anchor_is_refused_clearly(dictionary, bad):
    with pytest.raises(CommandError, match="expected SEQ:HASH"):
        call_command("verify_audit", "--anchor", bad)


def test_the_nightly_check_reports_the_chain_head(dictionary, caplog):
    anchor = head()
    with caplog.at_level(logging.INFO, logger="registry.tasks"):
        assert verify_integrity() is True
    assert f"audit chain head {anchor}" in caplog.text
    event = AuditEvent.objects.filter(action="integrity_check").latest("seq")
    assert event.details["chain_head"] == anchor


def test_each_export_manifest_carries_the_chain_head(dataset, people, tmp_path, capsys):
    result = build_export(
        user=people["dm"], options=ExportOptions(formats=("csv",)), directory=tmp_path / "x"
    )
    with zipfile.ZipFile(result.zip_path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    export_event = AuditEvent.objects.filter(action="export").latest("seq")
    assert manifest["audit_chain_head"] == f"{export_event.seq}:{export_event.hash}"
    assert "verify_audit --anchor" in manifest["audit_chain_head_use"]
    assert "1 anchor(s) held" in verify(capsys, "--anchor", manifest["audit_chain_head"])


def test_the_export_page_shows_the_chain_head_to_keep(
    client, dataset, people, django_capture_on_commit_callbacks
):
    client.force_login(people["dm"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/exports/",
            {
                "which": "locked",
                "dates": "shift",
                "raw_or_label": "raw",
                "header": "raw",
                "formats": ["csv"],
            },
        )
    assert response.status_code == 302
    job = jobs_of(people["dm"])[0]
    status = client.get(f"/exports/{job['id']}/status/").content.decode()
    download = client.get(f"/exports/{job['id']}/download/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    manifest = json.loads(archive.read("manifest.json"))
    assert f"audit chain head {manifest['audit_chain_head']}" in status
