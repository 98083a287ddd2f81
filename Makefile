# zengshou — the two commands of the README: `make demo` and `make test`.
# The virtual environment is built at .venv from uv.lock (exact pins); nothing else is needed but
# Python 3.11 and pip.
# Bytecode is compiled once at install (--compile-bytecode) and for the project's own modules before each
# demo and test run: with PYTHONDONTWRITEBYTECODE=1 (set on this machine image) Python never writes a .pyc,
# so every process (each `zengshou run`, each dbt subprocess, each Dagster run worker) compiled ≈ 4,000
# modules from source again: 5.6 s of a 60 s known-answer run (cProfile, 2026-12-02).

PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy

.PHONY: setup bytecode demo test lint dev expectations sources docs docs-serve clean

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VENV)/bin/uv sync --frozen --inexact --compile-bytecode --python $(VENV)/bin/python
	touch $@

setup: $(VENV)/.installed

# The project's own modules (a stale .pyc is ignored by Python, which checks the source's mtime).
bytecode: setup
	$(VENV)/bin/python -m compileall -q dagster_project bench tests >/dev/null

# Demo runs and `make dev` share one Dagster instance, so the demo's runs (and alert links) are in the UI.
DAGSTER_HOME_DIR := $(abspath data/dagster_home)

$(DAGSTER_HOME_DIR)/dagster.yaml: dagster_home.yaml
	mkdir -p $(DAGSTER_HOME_DIR) && cp dagster_home.yaml $@

demo: bytecode $(DAGSTER_HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(VENV)/bin/zengshou demo

# The tests' files (warehouses, Dagster instances, landing dirs, the PostgreSQL cluster) go to RAM when
# /dev/shm has >= 4 GiB free: the pipeline commits (DuckDB, SQLite event log) then wait for no disk. A known-
# answer `zengshou run` took 157-218 s there against 253-261 s on disk (loaded machine, 2026-12-02). The
# folder is per checkout and removed afterwards; `make test TEST_TMP=/some/dir` keeps it on disk.
TEST_TMP ?= $(if $(shell df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 && $$4 > 4194304'),/dev/shm/zengshou-tests-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1))

test: bytecode
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder $(if $(TEST_TMP),--basetemp=$(TEST_TMP)); \
	  status=$$?; $(if $(findstring /dev/shm/,$(TEST_TMP)),rm -rf $(TEST_TMP);) exit $$status

lint: setup
	$(VENV)/bin/ruff check .

dev: bytecode $(DAGSTER_HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

expectations: setup
	$(VENV)/bin/python -m dagster_project.quality.suites

# dbt/models/staging/sources.yml from source_shapes.py and hr_schema.py (tests/test_dbt_sources.py checks it).
sources: setup
	$(VENV)/bin/python -m dagster_project.dbt_sources

docs: setup
	$(VENV)/bin/python -m dagster_project.dbt_cli docs generate

docs-serve: docs
	$(VENV)/bin/python -m dagster_project.dbt_cli docs serve --host 127.0.0.1 --port 8081

clean:
	rm -rf data dbt/target dbt/logs .pytest_cache
bench: setup
	$(VENV)/bin/python bench/run.py --scale province --repeat 3 --notes bench/NOTES.md
