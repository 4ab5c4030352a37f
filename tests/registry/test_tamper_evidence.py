"""What the table owner can do behind the application's back, and what catches it (a live stack:
the owner needs its own connection to committed data).

- A dictionary version: the triggers refuse UPDATE, DELETE and TRUNCATE even to the owner; with
  the triggers disabled, a rewritten version is named by `verify_audit`, also when its stored
  hash is rewritten too (the hash recorded in the audit chain disagrees).
- The audit chain: cutting its newest events, or editing one event and re-computing every later
  hash, leaves a chain that verifies. Only an anchor kept outside the database (a chain head
  printed earlier) shows it: both attacks pass `verify_audit` without one and fail with one."""

from __future__ import annotations

import json
import re

import psycopg
import pytest

from tests.live import live_stack

SETUP = """
from centers.models import Center, Membership, Role, User
from registry.services.dictionary import import_default_dictionary
from registry.services.records import create_record
import_default_dictionary()
mil = Center.objects.create(code="MIL", name="Milano", city="Milano")
u = User.objects.create_user("coord", password="pw-for-tests-123", first_name="C", last_name="O")
Membership.objects.create(user=u, center=mil, role=Role.SITE_COORDINATOR)
for _ in range(3):
    create_record(user=u, center=mil)
"""

MORE_EVENTS = """
from centers.models import Center, User
from registry.services.records import create_record
for _ in range(3):
    create_record(user=User.objects.get(username="coord"), center=Center.objects.get(code="MIL"))
"""

# verify_audit, once per argument list, in one process: [exit status, output or error].
VERIFY = """
import io, json
from django.core.management import CommandError, call_command
results = []
for args in {runs!r}:
    out = io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out)
        results.append([0, out.getvalue()])
    except CommandError as exc:
        results.append([1, str(exc)])
print("RESULTS " + json.dumps(results))
"""

# The owner re-computes the chain from event X on, as an attacker who knows the hash function.
REHASH_FROM = """
DO $$
DECLARE
  r registry_auditevent;
  prev text;
BEGIN
  SELECT hash INTO prev FROM registry_auditevent WHERE seq < {seq} ORDER BY seq DESC LIMIT 1;
  FOR r IN SELECT * FROM registry_auditevent WHERE seq >= {seq} ORDER BY seq LOOP
    r.prev_hash := prev;
    r.hash := registry_audit_event_hash(r);
    UPDATE registry_auditevent SET prev_hash = r.prev_hash, hash = r.hash WHERE seq = r.seq;
    prev := r.hash;
  END LOOP;
END $$
"""


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with live_stack(django_db_blocker, prepare=lambda live: live.shell(SETUP), serve=False) as live:
        yield live


def as_owner(stack, *statements: str | tuple[str, tuple]) -> list:
    """Run statements on one owner connection; the rows of the last one."""
    rows: list = []
    with psycopg.connect(stack.owner_url, autocommit=True) as conn:
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, None)
            cursor = conn.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
    return rows


def verify(stack, *runs: list[str], before: str = "") -> list[tuple[int, str]]:
    """Run `before` (Python, in the app), then verify_audit with each argument list."""
    output = stack.shell(before + VERIFY.format(runs=[list(r) for r in runs]))
    return [tuple(r) for r in json.loads(output.split("RESULTS ", 1)[1])]


def head(output: str) -> str:
    return re.search(r"chain head: (\d+:[0-9a-f]{64})", output).group(1)


def test_the_owner_cannot_change_a_dictionary_version_while_the_triggers_stand(stack):
    for statement in (
        "UPDATE registry_dictionaryversion SET note = 'x'",
        "DELETE FROM registry_dictionaryversion",
        "TRUNCATE registry_dictionaryversion CASCADE",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="immutable"):
            as_owner(stack, statement)


def test_a_rewritten_dictionary_version_is_named_by_verify_audit(stack):
    original = as_owner(
        stack, "SELECT fields::text, content_sha256 FROM registry_dictionaryversion"
    )
    as_owner(
        stack,
        """ALTER TABLE registry_dictionaryversion DISABLE TRIGGER USER;
        UPDATE registry_dictionaryversion SET fields = replace(fields::text,
          '1, Male | 2, Female', '1, Female | 2, Male')::jsonb;
        ALTER TABLE registry_dictionaryversion ENABLE TRIGGER USER;""",
    )
    [(status, message)] = verify(stack, [])
    assert status == 1
    assert message.startswith("dictionary version 1: its content does not match its hash")

    # The owner re-computes the stored hash as well: the hash in the audit chain disagrees.
    as_owner(
        stack,
        """ALTER TABLE registry_dictionaryversion DISABLE TRIGGER USER;
        UPDATE registry_dictionaryversion d SET content_sha256 =
          registry_dictionary_content_hash(d);
        ALTER TABLE registry_dictionaryversion ENABLE TRIGGER USER;""",
    )
    [(status, message)] = verify(stack, [])
    assert status == 1
    assert "dictionary version 1: its hash is not the one the audit trail recorded" in message

    as_owner(
        stack,
        "ALTER TABLE registry_dictionaryversion DISABLE TRIGGER USER",
        (
            "UPDATE registry_dictionaryversion SET fields = %s::jsonb, content_sha256 = %s",
            original[0],
        ),
        "ALTER TABLE registry_dictionaryversion ENABLE TRIGGER USER",
    )
    assert verify(stack, [])[0][0] == 0  # put back as it was, the version verifies again


def test_cutting_the_tail_of_the_trail_is_found_only_with_an_anchor(stack):
    anchor = head(verify(stack, [], before=MORE_EVENTS)[0][1])
    seq = int(anchor.split(":")[0])
    as_owner(
        stack,
        f"""ALTER TABLE registry_auditevent DISABLE TRIGGER USER;
        DELETE FROM registry_auditevent WHERE seq >= {seq - 2};
        ALTER TABLE registry_auditevent ENABLE TRIGGER USER;""",
    )
    plain, anchored = verify(stack, [], ["--anchor", anchor])
    assert plain[0] == 0  # the shortened chain is still a valid chain
    assert anchored[0] == 1
    assert f"before the anchored event #{seq}; events were removed from its end" in anchored[1]

    # New events after the cut hide it from a look at the newest sequence number; not from
    # the anchor. This one runs as a real process: a break is a non-zero exit.
    stack.shell(MORE_EVENTS)
    assert stack.manage("verify_audit").returncode == 0
    result = stack.manage("verify_audit", "--anchor", anchor, check=False)
    assert result.returncode != 0
    assert f"event #{seq} is missing from the audit trail" in result.stderr


def test_rewriting_and_rehashing_the_trail_is_found_only_with_an_anchor(stack, tmp_path):
    early = head(verify(stack, [], before=MORE_EVENTS)[0][1])  # before the rewritten events
    anchor = head(verify(stack, [], before=MORE_EVENTS)[0][1])
    target = as_owner(
        stack,
        (
            "SELECT min(seq) FROM registry_auditevent WHERE action = 'record_create' AND seq > %s",
            (int(early.split(":")[0]),),
        ),
    )[0][0]
    assert target < int(anchor.split(":")[0])
    as_owner(
        stack,
        "ALTER TABLE registry_auditevent DISABLE TRIGGER USER;"
        f"UPDATE registry_auditevent SET actor_name = 'Somebody Else' WHERE seq = {target};"
        + REHASH_FROM.format(seq=target)
        + ";ALTER TABLE registry_auditevent ENABLE TRIGGER USER;",
    )
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(f"# printed with the exports\n{early}\n{anchor}  # last export\n")
    plain, from_file, older = verify(stack, [], ["--anchors", str(anchors)], ["--anchor", early])
    assert plain[0] == 0  # a consistently re-computed chain verifies
    assert from_file[0] == 1
    assert from_file[1].startswith(f"anchor {anchor}: event #{anchor.split(':')[0]} now has hash")
    assert "rewritten" in from_file[1]
    assert older[0] == 0  # the older head is untouched
