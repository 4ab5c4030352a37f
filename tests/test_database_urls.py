"""Connection URLs for live stacks, benchmarks and the drill come from the parsed settings, so
a newcomer's embedded PostgreSQL (a socket directory) is reached, never 127.0.0.1:5432."""

from __future__ import annotations

import environ
import psycopg
import pytest
from django.conf import settings

from config.database_urls import allow_login, database_url


@pytest.mark.parametrize(
    "url",
    [
        "postgres://postgres:@/registry?host=/work/app/.pgdata",
        "postgres://postgres@/registry?host=/tmp/sockets&port=5433",
        "postgres://app:s%40cr%2Ft@db.example.org:6543/registry?sslmode=require",
        "postgres://postgres@127.0.0.1:5432/postgres",
    ],
)
def test_a_url_built_from_parsed_settings_parses_back_to_the_same_server(url):
    parsed = environ.Env.db_url_config(url)
    rebuilt = environ.Env.db_url_config(database_url(parsed))
    for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT"):
        assert str(rebuilt[key] or "") == str(parsed[key] or ""), key
    assert rebuilt.get("OPTIONS", {}) == parsed.get("OPTIONS", {})


def test_the_embedded_servers_socket_directory_is_kept():
    parsed = environ.Env.db_url_config("postgresql://postgres:@/registry?host=/srv/x/.pgdata")
    url = database_url(parsed, user="registry_app", name="live_1")
    assert "127.0.0.1" not in url and "5432" not in url
    assert environ.Env.db_url_config(url)["OPTIONS"]["host"] == "/srv/x/.pgdata"
    assert environ.Env.db_url_config(url)["USER"] == "registry_app"


def test_another_users_url_does_not_carry_the_owners_password():
    parsed = environ.Env.db_url_config("postgres://owner:secret@db:5432/registry")
    assert "secret" not in database_url(parsed, user="registry_app")
    assert "secret" in database_url(parsed)


@pytest.mark.django_db
def test_a_nologin_application_role_is_allowed_to_log_in_for_a_live_stack():
    from tests.conftest import OWNER

    owner_url = database_url(settings.DATABASES["default"], user=OWNER["user"], name="postgres")
    role = settings.DATABASE_APP_ROLE
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f'ALTER ROLE "{role}" NOLOGIN')
        try:
            with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
                psycopg.connect(database_url(settings.DATABASES["default"], name="postgres"))
        finally:
            allow_login(owner_url, role)
    with psycopg.connect(database_url(settings.DATABASES["default"], name="postgres")) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == role
