# zengshou — the two commands of the README: `make demo` and `make test`.
# The virtual environment is built at .venv from uv.lock (exact pins); nothing else is needed but
# Python 3.11 and pip.

PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy

.PHONY: setup demo test lint dev expectations sources docs docs-serve clean

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(VENV)/bin/uv sync --frozen --inexact --python $(VENV)/bin/python
	touch $@

setup: $(VENV)/.installed

# Demo runs and `make dev` share one Dagster instance, so the demo's runs (and alert links) are in the UI.
DAGSTER_HOME_DIR := $(abspath data/dagster_home)

$(DAGSTER_HOME_DIR)/dagster.yaml: dagster_home.yaml
	mkdir -p $(DAGSTER_HOME_DIR) && cp dagster_home.yaml $@

demo: setup $(DAGSTER_HOME_DIR)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(VENV)/bin/zengshou demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 --dist loadfile --no-loadscope-reorder

lint: setup
	$(VENV)/bin/ruff check .

dev: setup $(DAGSTER_HOME_DIR)/dagster.yaml
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
	$(VENV)/bin/python bench/run.py --scale province --repeat 3
