"""One exported file = one batch: read it, stage it and flag every row against the rules of
``quality/rules.py``. Used for monitoring snapshots and relief ledgers alike; what happens next (the GE
gate, publish or reject) is the one batch pipeline of every source, ``ingest/batch_pipeline.py``.

Invariant (SPEC §4): rows read = rows loaded + rows quarantined, per batch. A rejected batch loads
nothing, so every row of it goes to quarantine — rule-breaking rows with their rule, the others with
``batch_rejected`` — and the previously published data of that partition stays as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.ingest.readers import ReadResult, UnreadableFile, file_sha256, stage_source_file
from dagster_project.quality.rules import Rule

EMPTY_FILE = "empty_file"


@dataclass(frozen=True)
class FileSource:
    """A file-shaped source: where its rows go and how a batch replaces the previous one."""

    name: str                    # e.g. monitoring.members
    raw_table: str               # e.g. raw.monitoring_members
    shape: dict[str, str]        # exported header -> raw column
    constant_types: dict[str, str]  # per-batch columns and their SQL types, e.g. as_of_month DATE
    partition_columns: tuple[str, ...]  # the constants that identify what a new batch replaces
    total_rows: bool = False     # a 合计/总计/小计 row may close the file (ledgers): skipped and counted

    @property
    def raw_columns(self) -> list[str]:
        return list(dict.fromkeys(self.shape.values()))

    def ensure_raw_table(self, con: duckdb.DuckDBPyConnection) -> None:
        cols = [f"{c} VARCHAR" for c in self.raw_columns]
        cols += ["county_code VARCHAR", "prefecture_code VARCHAR"]
        cols += [f"{c} {t}" for c, t in self.constant_types.items()]
        cols += ["batch_id VARCHAR", "source_row BIGINT", "extra_fields VARCHAR"]
        con.execute(f"CREATE TABLE IF NOT EXISTS {self.raw_table} ({', '.join(cols)})")


@dataclass
class StagedBatch:
    source: FileSource
    batch_id: str
    partition_key: str
    file_path: Path
    file_sha256: str
    constants: dict[str, object]
    rules: list[Rule]
    landing_table: str | None = None
    encoding: str | None = None
    rows_read: int = 0
    rule_counts: dict[str, int] = field(default_factory=dict)
    rows_breaking_rules: int = 0
    read: ReadResult | None = None
    blocking_reason: str | None = None   # missing column / unreadable: the batch cannot be published
    rows_skipped_blank: int = 0          # fully blank rows: not data, not counted in rows_read
    rows_skipped_total: int = 0          # 合计/总计/小计 rows of a ledger: not projects, not in rows_read

    @property
    def malformed(self) -> list[tuple[int, str]]:
        return self.read.malformed_rows if self.read else []

    @property
    def rows_to_quarantine(self) -> int:
        return self.rows_breaking_rules + len(self.malformed)

    @property
    def reject_rate(self) -> float:
        return self.rows_to_quarantine / self.rows_read if self.rows_read else 0.0


@dataclass
class BatchOutcome:
    source: str
    batch_id: str
    partition_key: str
    status: str                 # published | rejected
    reason: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rule_counts: dict[str, int]
    encoding: str | None
    extra_columns: list[str]
    header_row: int | None = None
    delimiter: str | None = None
    rows_skipped_blank: int = 0
    rows_skipped_total: int = 0

    @property
    def published(self) -> bool:
        return self.status == "published"


def _ident(text: str) -> str:
    return re.sub(r"[^0-9a-zA-Z_]", "_", text)


def sql_literal(value: object) -> str:
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def stage_file(
    con: duckdb.DuckDBPyConnection,
    source: FileSource,
    path: Path,
    partition_key: str,
    constants: dict[str, object],
    rules: list[Rule],
) -> StagedBatch:
    """Read ``path`` into a landing table, resolve counties, and flag each row with each rule."""
    sha = file_sha256(path)
    batch = StagedBatch(source, f"{source.name}:{partition_key}:{sha[:12]}", partition_key, path, sha,
                        constants, rules)
    base = f"landing.{_ident(source.name)}__{_ident(partition_key)}"
    try:
        staged = stage_source_file(con, path, source.shape, f"{base}__read")
    except UnreadableFile as exc:
        batch.blocking_reason = f"文件无法读取: {exc}"
        return batch
    read = staged.read
    batch.read, batch.encoding = read, read.encoding
    blank, total = _skip_predicates(read, source.total_rows)
    row = con.execute(f"SELECT count(*), count_if({blank}), count_if(NOT ({blank}) AND {total})"
                      f" FROM ({staged.select_sql})").fetchone()
    batch.rows_skipped_blank, batch.rows_skipped_total = int(row[1] or 0), int(row[2] or 0)
    batch.rows_read = read.rows_read - batch.rows_skipped_blank - batch.rows_skipped_total
    shaped = f"SELECT * FROM ({staged.select_sql}) WHERE NOT ({blank} OR {total})"
    if read.duplicate_columns:
        batch.blocking_reason = ("重复列（同一表头出现多次，无法确定用哪一列）: "
                                 + "、".join(read.duplicate_columns))
    elif read.missing_columns:
        batch.blocking_reason = "缺少必需列: " + "、".join(read.missing_columns)
    elif batch.rows_read == 0:
        batch.blocking_reason = f"{EMPTY_FILE}: 文件只有表头，没有数据行（上次发布的数据保持不变）"
    if batch.blocking_reason:
        con.execute(f"CREATE OR REPLACE TABLE {read.table} AS {shaped}")
        con.execute(f"DROP TABLE {staged.staging}")
        batch.landing_table = read.table
        return batch
    # One statement from the parsed file to the flagged landing table: shaping (trim, rename), the county
    # join and the rule flags. Every full copy of a province file costs tens of seconds to write, so
    # the intermediate steps stay inside the query. ``_batch`` is what the rules' {batch} means: the
    # shaped rows with county codes and constants (not materialised: the duplicate rules scan it again).
    consts = ", ".join(f"CAST({sql_literal(v)} AS {source.constant_types[k]}) AS {k}"
                       for k, v in constants.items())
    flags = ", ".join(f"{rule.sql('_batch')} AS \"rule:{rule.name}\"" for rule in rules)
    first = " ".join(f"WHEN \"rule:{r.name}\" THEN '{r.name}'" for r in rules)
    con.execute(
        f"""CREATE OR REPLACE TABLE {base} AS
            WITH _read AS NOT MATERIALIZED ({shaped}),
            _batch AS NOT MATERIALIZED (
                SELECT r.*, c.county_code, c.prefecture_code, {consts}
                FROM _read r LEFT JOIN meta.counties c
                  ON c.county_name_zh = r.county_name AND c.prefecture_name_zh = r.prefecture_name)
            SELECT *, CASE {first} END AS _rule FROM (SELECT *, {flags} FROM _batch)"""
    )
    con.execute(f"DROP TABLE {staged.staging}")
    batch.landing_table = base
    counts = ", ".join(f"count_if(\"rule:{r.name}\")" for r in rules)
    row = con.execute(f"SELECT count_if(_rule IS NOT NULL), {counts} FROM {base}").fetchone()
    # (count_if over no rows is NULL: a file of only malformed lines has no parsed rows)
    batch.rows_breaking_rules = int(row[0] or 0)
    batch.rule_counts = {r.name: int(n or 0) for r, n in zip(rules, row[1:], strict=True)}
    return batch


_TOTAL_LABEL = r"'(合计|总计|小计)[:：]?'"


def _skip_predicates(read: ReadResult, total_rows: bool) -> tuple[str, str]:
    """(blank, total) SQL over the shaped rows. Blank: every cell empty. Total (ledgers only): no 项目编号
    (or 项目编号 itself says 合计) and some cell reads 合计, 总计 or 小计, spaces ignored."""
    cols = [f'"{c}"' for c in read.headers]
    blank = " AND ".join(f"{c} IS NULL" for c in cols) if cols else "false"
    if not total_rows or "project_id" not in read.columns:
        return f"({blank})", "false"
    said = [f"coalesce(regexp_full_match(regexp_replace({c}, '[\\s\u3000]', '', 'g'), {_TOTAL_LABEL}), false)"
            for c in cols]
    total = f"((project_id IS NULL OR {said[list(read.headers).index('project_id')]}) AND ({' OR '.join(said)}))"
    return f"({blank})", total


def json_of(columns: list[str], headers: dict[str, str]) -> str:
    """The row as the file had it, keyed by the exported headers. Staging turned empty cells into
    NULL; here they are empty strings again, as an engineer fixing the file would see them."""
    pairs = ", ".join(f"{sql_literal(headers.get(c, c))}, coalesce(\"{c}\", '')" for c in columns)
    return f"json_object({pairs})" if pairs else "NULL"
