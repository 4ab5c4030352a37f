"""Configuration: production mode passes check --deploy with zero warnings; the embedded
PostgreSQL starts from the wheel and keeps the database-level guarantees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env_extra):
    env = dict(os.environ, **env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_MODE": "production",
            "SECRET_KEY": "x" * 64 + "-a-long-random-production-key",
            "ALLOWED_HOSTS": "registry.example.org",
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
            ),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(
        DJANGO_MODE="production",
        ALLOWED_HOSTS="x.org",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_demo_data():
    result = run_manage(
        "seed_demo",
        env_extra={
            "DJANGO_MODE": "production",
            "SECRET_KEY": "y" * 70,
            "ALLOWED_HOSTS": "x.org",
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
            ),
        },
    )
    assert result.returncode != 0 and "refused in production" in result.stderr


def test_embedded_postgres_starts_with_triggers_and_jsonb(tmp_path):
    code = (
        "import psycopg, config.embedded_db as e; url = e.ensure_running(); "
        "c = psycopg.connect(url, autocommit=True); "
        "print(c.execute(\"select current_setting('server_version_num')::int >= 160000, "
        "'{\\\"a\\\": 1}'::jsonb ->> 'a'\").fetchone()); c.close(); e.stop(); "
        "print('running after stop:', e.is_running())"
    )
    env = dict(os.environ, EMBEDDED_PG_DIR=str(tmp_path / "pg"))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "(True, '1')" in result.stdout
    assert "running after stop: False" in result.stdout


def test_with_a_shared_cache_the_api_rate_limit_counts_across_processes():
    """Two server processes share one count through CACHE_URL (Redis): the fourth call of a
    three-per-minute limit is refused although each process has seen only two."""
    import redis

    from tests.tools import require_redis

    url = "redis://127.0.0.1:6379/14"
    require_redis(url)
    code = (
        "from registry.api.ratelimit import over_limit; "
        "print(over_limit('shared-token'), over_limit('shared-token'))"
    )
    env = {"CACHE_URL": url, "API_RATE_LIMIT_PER_MINUTE": "3"}
    first = run_manage("shell", "-v", "0", "-c", code, env_extra=env)
    second = run_manage("shell", "-v", "0", "-c", code, env_extra=env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.split() == ["0", "0"]
    allowed, refused = (int(n) for n in second.stdout.split())
    if refused == 0:  # the calendar minute turned between the runs: the count restarted
        return test_with_a_shared_cache_the_api_rate_limit_counts_across_processes()
    assert allowed == 0 and 1 <= refused <= 60
    redis.Redis.from_url(url).flushdb()


def test_production_forces_debug_off_and_refuses_the_demo_password():
    code = (
        "from django.conf import settings; from django.contrib.auth import authenticate; "
        "from centers.backends import password_is_valid; "
        "from centers.models import User; u = User(username='x'); "
        "u.set_password(settings.DEMO_PASSWORD); "
        "print(settings.DEBUG, password_is_valid(u, settings.DEMO_PASSWORD), "
        "u.check_password(settings.DEMO_PASSWORD))"
    )
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        env_extra={
            "DJANGO_MODE": "production",
            "DEBUG": "true",
            "SECRET_KEY": "x" * 64,
            "ALLOWED_HOSTS": "registry.example.org",
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
            ),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == ["False", "False", "True"]


def test_production_always_enforces_two_factor_and_reads_smtp_from_email_url():
    code = (
        "from django.conf import settings as s; "
        "print(s.TWO_FACTOR_ENFORCED, s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, "
        "s.EMAIL_USE_TLS, s.EMAIL_HOST_USER)"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        env_extra={
            "DJANGO_MODE": "production",
            "SECRET_KEY": "x" * 64,
            "ALLOWED_HOSTS": "registry.example.org",
            "TWO_FACTOR_ENFORCED": "false",  # ignored in production
            "EMAIL_URL": "smtp+tls://registry:secret@smtp.example.org:587",
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
            ),
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "True",
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.org",
        "587",
        "True",
        "registry",
    ]


def test_development_prints_e_mail_to_the_console_and_leaves_two_factor_off():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "TWO_FACTOR"))}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings as s; print(s.TWO_FACTOR_ENFORCED, s.EMAIL_BACKEND)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_MODE": "development"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "False",
        "django.core.mail.backends.console.EmailBackend",
    ]


def test_with_a_shared_cache_sessions_are_read_from_it_and_kept_in_the_database():
    code = "from django.conf import settings; print(settings.SESSION_ENGINE)"
    shared = run_manage("shell", "-v", "0", "-c", code, env_extra={"CACHE_URL": "redis://x:1/0"})
    alone = run_manage("shell", "-v", "0", "-c", code, env_extra={"CACHE_URL": ""})
    assert shared.stdout.strip() == "django.contrib.sessions.backends.cached_db", shared.stderr
    assert alone.stdout.strip() == "django.contrib.sessions.backends.db", alone.stderr
