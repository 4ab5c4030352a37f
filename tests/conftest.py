"""Shared fixtures. Every test runs as the application's database role (which does not own the
tables), so the database-level guarantees tested here are the ones production relies on."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings
from django.db import connections

from config.database_urls import allow_login, database_url
from tests import factories

pytest_plugins = ["tests.fixtures_records"]

OWNER: dict[str, str] = {}  # the database owner's user name, for tests/live.py


def pytest_configure(config):
    # One id per test run, inherited by xdist's workers (started after this): the live stacks'
    # template databases are named by it (tests/live.py) and dropped when the run ends.
    os.environ.setdefault("LIVE_TEMPLATE_RUN", uuid.uuid4().hex[:10])
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # In-process tests run Celery tasks eagerly even when CI exports a broker URL; the tests that
    # need a real worker start one on their own stack (tests/live.py).
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = True
    if os.environ.get("REQUIRE_EXTERNAL_SERVICES") and settings.EMBEDDED_DATABASE:
        raise pytest.UsageError("CI must run on the external PostgreSQL (DATABASE_URL unset)")


@pytest.fixture(autouse=True)
def _base_language_after_each_test():
    """A request by a person who chose Italian leaves Italian active in the thread (as a worker
    thread would until its next request, whose middleware chooses again); the next test in this
    process must not inherit it."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


def pytest_sessionfinish(session):
    """The run's template databases, once every worker is done (xdist's controller, or the one
    process without xdist)."""
    if hasattr(session.config, "workerinput"):
        return
    from tests.live import drop_live_templates

    drop_live_templates(os.environ["LIVE_TEMPLATE_RUN"])


def pytest_collection_modifyitems(items):
    """Tests in modules that build a live stack are marked `live`, so that `.ci/run` can run them
    again on the embedded PostgreSQL (the newcomer's path) without a list to keep up to date.
    A module builds one when it imports tests.live's `live_stack` or `create_live_stack`.
    """
    from tests.live import live_stack

    for item in items:
        module = getattr(item, "module", None)
        if getattr(module, "live_stack", None) is live_stack or (
            getattr(module, "create_live_stack", None) is not None
        ):
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After migrating as the owner, log in as the application role, as production does.

    pytest-django sets up only the databases the selected tests ask for; a selection of live
    tests alone (`-m live`, CI's second run) asks for none, yet their stacks need the migrated
    application role, so the test database is set up here then."""
    own_setup = None
    test_name = connections["default"].settings_dict["TEST"]["NAME"]  # xdist adds _gwN
    if not connections["default"].settings_dict["NAME"].startswith(test_name):
        from django.test.utils import setup_databases

        with django_db_blocker.unblock():
            own_setup = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    role = settings.DATABASE_APP_ROLE
    owner = {
        alias: (
            connections[alias].settings_dict["USER"],
            connections[alias].settings_dict["PASSWORD"],
        )
        for alias in connections
    }
    OWNER["user"] = owner["default"][0]
    with django_db_blocker.unblock():
        allow_login(database_url(connections["default"].settings_dict), role)
    for alias in connections:
        connections[alias].close()
        for target in (connections[alias].settings_dict, settings.DATABASES[alias]):
            target["USER"] = role
            target["PASSWORD"] = ""
    yield
    for alias in connections:  # the owner drops the test database
        connections[alias].close()
        for target in (connections[alias].settings_dict, settings.DATABASES[alias]):
            target["USER"], target["PASSWORD"] = owner[alias]
    if own_setup is not None:
        from django.test.utils import teardown_databases

        with django_db_blocker.unblock():
            teardown_databases(own_setup, verbosity=0)


@pytest.fixture
def centers(db):
    return factories.six_centers()


@pytest.fixture
def dictionary(db):
    return factories.gi_lms_dictionary()
