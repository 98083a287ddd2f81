"""dbt/models/staging/sources.yml, generated from the source shapes (source_shapes.py: the exported
headers of the monitoring and relief files) and the HR platform's tables (hr_schema.py), the way the
GE suites are generated from the rules: a header or HR column is added in one place and dbt follows.

    python -m dagster_project.dbt_sources      # or: make sources

rewrites the committed file; tests/test_dbt_sources.py fails when the file and this code drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_project.hr_schema import metadata as hr_metadata
from dagster_project.serving.catalog import PERSONAL_DATA_COLUMNS
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.source_shapes import HOUSEHOLD_COLUMNS, HR_TABLES, MEMBER_COLUMNS, RELIEF_COLUMNS

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "sources.yml"
REGENERATE = "python -m dagster_project.dbt_sources (make sources)"

SOURCE_DESCRIPTION = (
    "Landing tables written by the Dagster loaders (docs/architecture.md). File sources are VARCHAR\n"
    "exactly as exported (trimmed, empty -> NULL); HR tables keep native types, newest updated_at wins."
)
PERSONAL_NOTE = "personal data: hashed or dropped in staging"

# Columns the monitoring loader adds to every exported row.
MONITORING_LOADER_COLUMNS = (
    ("county_code", "县 code resolved by the loader from 市/县 names via seeds/yunnan_counties.csv"),
    ("prefecture_code", "市 code resolved by the loader"),
    ("as_of_month", "DATE, first day of the snapshot month"),
    ("batch_id", "meta.load_batches.batch_id of the published batch"),
    ("source_row", "1-based data row in the exported file"),
    ("extra_fields", "JSON of unknown columns, NULL if none"),
)
# Columns the relief loader adds to every ledger row.
RELIEF_LOADER_COLUMNS = (
    ("county_code", "县 code resolved by the loader"),
    ("prefecture_code", "市 code resolved by the loader"),
    ("report_file", "ledger file name, e.g. 2023-06.xlsx (carries the report date)"),
    ("report_year", "the <YYYY> folder of the ledger file"),
    ("batch_id", "load batch"),
    ("source_row", "1-based data row"),
)
HR_LOADER_COLUMNS = (("_loaded_at", "TIMESTAMP the loader wrote the row"),)

FILE_TABLES = (  # raw table, description, exported headers, loader columns
    ("monitoring_members",
     "Monitoring system members export (SPEC §3.1), accepted rows of the last published batch of every month.",
     MEMBER_COLUMNS, MONITORING_LOADER_COLUMNS),
    ("monitoring_households", "Monitoring system households export (SPEC §3.1).",
     HOUSEHOLD_COLUMNS, MONITORING_LOADER_COLUMNS),
    ("relief_projects",
     "Work-for-relief ledgers (SPEC §3.3), every accepted row of every file; restatements resolved in staging.",
     RELIEF_COLUMNS, RELIEF_LOADER_COLUMNS),
)


def _exported(header: str, column: str) -> str:
    """A file column: its Chinese export header, and whether it is personal data."""
    text = f"{header} (as exported, VARCHAR)"
    return f"{text} — {PERSONAL_NOTE}, never beyond" if column in PERSONAL_DATA_COLUMNS else text


def _hr_column(column: str, primary_key: set[str]) -> str:
    if column in primary_key:
        return "primary key"
    return PERSONAL_NOTE if column in PERSONAL_DATA_COLUMNS else column


def _table(lines: list[str], name: str, description: str, columns: list[tuple[str, str]]) -> None:
    lines += [f"      - name: {name}", f"        description: {_quoted(description)}", "        columns:"]
    for column, text in columns:
        lines += [f"          - name: {column}", f"            description: {_quoted(text)}"]


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (descriptions hold ':', '—' and '<YYYY>')."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sources_yml() -> str:
    """The text of sources.yml: source ``raw`` with the file tables, then the HR tables."""
    lines = ["version: 2", "", "sources:", "  - name: raw", "    schema: raw", "    description: >"]
    lines += [f"      {line}" for line in SOURCE_DESCRIPTION.splitlines()]
    lines.append("    tables:")
    for table, description, headers, loader in FILE_TABLES:
        columns = [(column, _exported(header, column)) for header, column in headers.items()]
        _table(lines, table, description, [*columns, *loader])
    for name in HR_TABLES:
        table = hr_metadata.tables[name]
        primary_key = {c.name for c in table.primary_key.columns}
        columns = [(c.name, _hr_column(c.name, primary_key)) for c in table.columns]
        _table(lines, f"hr_{name}",
               f"HR platform table {name} (SPEC §3.2), one row per primary key, newest updated_at wins.",
               [*columns, *HR_LOADER_COLUMNS])
    return "\n".join(lines) + "\n"


def drift(path: Path = SOURCES_YML) -> str | None:
    """None when ``path`` holds what the generator writes, else the problem and the command that fixes it."""
    if path.exists() and path.read_text("utf-8") == sources_yml():
        return None
    state = "differs from" if path.exists() else "is missing, unlike"
    return f"{path} {state} what source_shapes.py / hr_schema.py generate: run `{REGENERATE}`"


def write_sources_yml(path: Path = SOURCES_YML) -> bool:
    """Rewrite sources.yml when it differs from the generated text; True when it was written."""
    text = sources_yml()
    if path.exists() and path.read_text("utf-8") == text:
        return False
    path.write_text(text, "utf-8")
    return True


if __name__ == "__main__":
    print(f"{SOURCES_YML}: {'written' if write_sources_yml() else 'up to date'}")
    sys.exit(0)
