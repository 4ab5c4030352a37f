"""docker-compose.yml cannot be run here (no Docker engine); check what reading can check."""

from __future__ import annotations

from pathlib import Path

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
