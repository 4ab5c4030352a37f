"""docker-compose.yml cannot be run here (no Docker engine); check what reading can check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_images_and_health_checks():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert "noeviction" in services["redis"]["command"]
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "pgdata" in compose()["volumes"]


def test_app_services_use_the_env_file_and_wait_for_healthy_dependencies():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["env_file"] == ".env"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "migrate" in services["web"]["command"] and "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def test_env_example_names_every_required_setting():
    text = (ROOT / ".env.example").read_text()
    for key in (
        "DJANGO_MODE=production",
        "SECRET_KEY=",
        "ALLOWED_HOSTS=",
        "DATABASE_URL=",
        "MIGRATE_DATABASE_URL=",
        "CELERY_BROKER_URL=",
    ):
        assert key in text


def test_dockerfile_runs_unprivileged_and_collects_static():
    text = (ROOT / "Dockerfile").read_text()
    assert "USER registry" in text and "collectstatic" in text


def test_healthz_answers(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200 and response.content == b"ok"


def test_the_web_health_check_passes_against_production_settings(
    django_db_setup, django_db_blocker
):
    """Run compose's own health-check command against gunicorn in production mode: it must pass
    although production answers 400 to unknown hosts and redirects plain http to https."""
    import subprocess
    import sys
    import urllib.error
    import urllib.request

    from tests.live import create_live_stack, drop_live_stack

    command = compose()["services"]["web"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    production = {
        "DJANGO_MODE": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "registry.example.org,other.example.org",
        "DJANGO_TEST_FAST_HASHER": "",
    }
    with django_db_blocker.unblock():
        stack = create_live_stack()
    try:
        stack.start_server(
            env=production,
            probe_path="/healthz/",
            probe_headers={"Host": "registry.example.org", "X-Forwarded-Proto": "https"},
        )
        port = stack.url.rsplit(":", 1)[1]
        with pytest.raises(urllib.error.HTTPError) as refused:  # a bare request is refused
            urllib.request.urlopen(stack.url + "/healthz/", timeout=5)  # noqa: S310
        assert refused.value.code == 400
        code = command[3].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        result = subprocess.run(
            [sys.executable, "-c", code],
            env={"ALLOWED_HOSTS": production["ALLOWED_HOSTS"], "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
    finally:
        with django_db_blocker.unblock():
            drop_live_stack(stack)
