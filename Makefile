# Two commands for a newcomer: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EMBEDDED := $(PY) -m config.embedded_db run --
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench drill stop-db clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Without DATABASE_URL the app runs on an embedded PostgreSQL it starts and stops itself.
run: $(STAMP)
ifdef DATABASE_URL
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST):$(PORT)
else
	$(EMBEDDED) sh -c '$(PY) manage.py migrate --noinput && $(PY) manage.py seed_demo && exec $(PY) manage.py runserver $(HOST):$(PORT)'
endif

# pytest-xdist: one process per core (at most four); a module's tests stay on one process, so a
# live stack a module starts is started once. `make test XDIST=` runs in one process.
XDIST ?= -n auto --maxprocesses=4 --dist loadfile

test: $(STAMP)
ifdef DATABASE_URL
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)
else
	$(EMBEDDED) $(PY) -m pytest $(XDIST) $(PYTEST_ARGS)
endif

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
ifdef DATABASE_URL
	$(PY) bench/run_all.py $(BENCH_ARGS)
else
	$(EMBEDDED) $(PY) bench/run_all.py $(BENCH_ARGS)
endif

# Fault drill (RELIABILITY.md): a live stack with its own redis-server, faults injected one by
# one. DRILL_ARGS=--fast shortens the sweep and grace periods.
drill: $(STAMP)
ifdef DATABASE_URL
	$(PY) bench/drill.py $(DRILL_ARGS)
else
	$(EMBEDDED) $(PY) bench/drill.py $(DRILL_ARGS)
endif

stop-db: $(STAMP)
	$(PY) -m config.embedded_db stop

clean: stop-db
	rm -rf .pgdata staticfiles exports
