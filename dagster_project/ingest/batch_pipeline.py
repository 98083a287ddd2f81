"""The one batch pipeline of every source: stage → flag → Great Expectations → publish or reject.

Exported files (monitoring members and households, relief ledgers) and the HR platform tables all go
through the same four steps, each recorded in ``meta.load_batches`` with rows read = rows loaded + rows
quarantined (SPEC §4):

1. **stage**: the source's reader puts the rows in a ``landing.*`` table of the warehouse
   (``file_batch.stage_file`` for a file, ``hr_platform.HrPlatformReader`` for an HR table);
2. **flag**: every row is judged by the rules of ``quality/rules.py``; the first rule a row breaks is
   the reason it will be quarantined with, and the pipeline counts each rule's rows;
3. **validate**: the GE suite generated from the same rules (``quality/suites.py``) runs on the
   staged rows. Great Expectations counts each rule's rows independently of the loader; if GE cannot
   run, or its counts differ from the pipeline's, the batch is not published (a disagreement means a
   bug or a stale stored suite, not bad data);
4. **publish or reject**: rule-breaking rows go to ``quarantine.rejected_rows`` either way. A batch is
   rejected when it is unreadable/structurally broken, fails the GE gate, or quarantines more than
   ZENGSHOU_MAX_REJECT_RATE of its rows; a rejected batch changes no raw table (the last good data
   stays, and for HR the watermark stays, so the rows are read again once the source is fixed).

What differs per source is only how a batch replaces what came before: a file replaces its partition
(a month's snapshot, a ledger file); an HR pull upserts by primary key (newest ``updated_at`` wins,
both ways: a source row older than the warehouse's copy is never applied), applies the deletions a key
comparison found, and advances the table's watermark.

GE opens its own connection to the warehouse file, so no warehouse connection is held across step 3
(DuckDB refuses a second, differently configured connection to an open file). The staged rows
therefore live in ``landing.*`` tables, not temp tables; HR pulls hold the warehouse lock across the
steps so no other writer slips in between.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import types
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlalchemy as sa

from dagster_project import hr_schema
from dagster_project.ingest.file_batch import BatchOutcome, StagedBatch, json_of, sql_literal, stage_file
from dagster_project.ingest.file_sources import RULES, SUITE_OF, LandedFile
from dagster_project.ingest.hr_platform import (
    DEFAULT_CHUNK_ROWS,
    SOURCE_PREFIX,
    HrPlatformReader,
    HrRead,
    deleted_keys,
    open_hr_platform,
    raw_table,
)
from dagster_project.ingest.warehouse import connect, ensure_counties, ensure_hr_tables
from dagster_project.ingest.warehouse_lock import warehouse_lock
from dagster_project.quality.data_docs import record_batch_verdict
from dagster_project.quality.ge_runner import SuiteOutcome, validate
from dagster_project.quality.rules import BATCH_REJECTED, MALFORMED_ROW, Rule, hr_rules
from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, DEFAULT_WAREHOUSE_LOCK_TIMEOUT
from dagster_project.source_shapes import HR_TABLES

log = logging.getLogger(__name__)

DEFAULT_MAX_REJECT_RATE = 0.02

# --------------------------------------------------------------------------------------------------
# Step 3, shared: the GE gate
# --------------------------------------------------------------------------------------------------


def validation_failure(staged_counts: dict[str, int], ge: SuiteOutcome) -> str | None:
    """Why GE does not let the batch pass, or None: GE could not run, or its per-rule counts differ."""
    if ge.errors:
        first = ge.errors[0]
        return f"Great Expectations 校验无法执行: {first.expectation}({first.target}): {first.error}"
    ge_counts = ge.rule_counts()
    if ge_counts != staged_counts:
        diff = {k: (staged_counts.get(k), ge_counts.get(k)) for k in staged_counts.keys() | ge_counts.keys()
                if staged_counts.get(k) != ge_counts.get(k)}
        return f"隔离规则计数与 Great Expectations 不一致 (loader, GE): {diff}"
    return None


def ge_gate(warehouse: Path, suite: str, landing_table: str, staged_counts: dict[str, int], *,
            memory_limit: str, lock_timeout: float, data_docs_dir: Path | None) -> tuple[SuiteOutcome, str | None]:
    """Validate the staged rows with the stored suite; (GE's outcome, the reason it blocks or None).
    No warehouse connection may be open in this process while it runs."""
    ge = validate(warehouse, suite, f"SELECT * FROM {landing_table}", memory_limit=memory_limit,
                  lock_timeout=lock_timeout, data_docs_dir=data_docs_dir)
    return ge, validation_failure(staged_counts, ge)


# --------------------------------------------------------------------------------------------------
# Files: one landed file = one batch
# --------------------------------------------------------------------------------------------------


@dataclass
class FileLoad:
    landed: LandedFile
    outcome: BatchOutcome
    validation: SuiteOutcome | None


def load_landed_file(landed: LandedFile, warehouse: Path, *, max_reject_rate: float,
                     memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
                     lock_timeout: float = DEFAULT_WAREHOUSE_LOCK_TIMEOUT,
                     data_docs_dir: Path | None = None) -> FileLoad:
    """Stage and flag the file, validate it with GE, then publish or reject it (one batch).

    What it needs of the settings comes as parameters (the assets pass ``WarehouseResource``'s values):
    the warehouse file, the reject rate, the memory cap and lock timeout of every connection it opens,
    and the Data Docs folder of its validation (None: ``<warehouse dir>/data_docs``)."""
    source = landed.source
    opened = {"memory_limit": memory_limit, "lock_timeout": lock_timeout}
    with connect(warehouse, **opened) as con:
        ensure_counties(con)
        staged = stage_file(con, source, landed.path, landed.partition_key, landed.constants, RULES[source.name])
    ge, failure = None, None
    if staged.landing_table and not staged.blocking_reason:
        # The warehouse connection is closed here: GE opens its own.
        ge, failure = ge_gate(warehouse, SUITE_OF[source.name], staged.landing_table, staged.rule_counts,
                              **opened, data_docs_dir=data_docs_dir)
    with connect(warehouse, **opened) as con:
        outcome = finish_batch(con, staged, max_reject_rate, failure)
    if ge is not None:  # the batch's Data Docs page states this verdict (GE alone says "Failed")
        record_batch_verdict(ge.data_docs, outcome, max_reject_rate)
    return FileLoad(landed, outcome, ge)


def finish_batch(
    con: duckdb.DuckDBPyConnection,
    batch: StagedBatch,
    max_reject_rate: float,
    validation_failure: str | None = None,
) -> BatchOutcome:
    """Publish the batch's good rows (replacing the partition) or reject it; quarantine either way.

    ``validation_failure`` is the reason Great Expectations could not pass the batch (for example the
    validation itself errored); it blocks publication like any other blocking rule.
    """
    source = batch.source
    reason = batch.blocking_reason or validation_failure
    if reason is None and batch.reject_rate > max_reject_rate:
        reason = (f"隔离比例 {batch.reject_rate:.2%} 超过上限 {max_reject_rate:.2%}"
                  f"（{batch.rows_to_quarantine}/{batch.rows_read} 行）")
    status = "rejected" if reason else "published"
    read = batch.read
    headers = read.headers if read else {}
    table = batch.landing_table
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM quarantine.rejected_rows WHERE batch_id = ?", [batch.batch_id])
        loaded = 0
        if table is not None:
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            file_cols = [c for c in cols if c in source.raw_columns or c.startswith("extra:")]
            has_rule = "_rule" in cols
            rule_of = "_rule" if has_rule else "NULL"
            reason_case = " ".join(f"WHEN '{r.name}' THEN {sql_literal(r.reason)}" for r in batch.rules)
            batch_reason = sql_literal(f"{BATCH_REJECTED.reason}：{reason}") if reason else "NULL"
            where = "" if status == "rejected" else "WHERE _rule IS NOT NULL"
            con.execute(
                f"""INSERT INTO quarantine.rejected_rows
                    (source, batch_id, source_row, rule, reason, original_values)
                    SELECT ?, ?, source_row, coalesce({rule_of}, '{BATCH_REJECTED.name}'),
                           {f"CASE _rule {reason_case} ELSE {batch_reason} END" if has_rule else batch_reason},
                           {json_of(file_cols, headers)}
                    FROM {table} {where}""",
                [source.name, batch.batch_id],
            )
            if status == "published":
                source.ensure_raw_table(con)
                extras = [c for c in cols if c.startswith("extra:")]
                extra_json = json_of(extras, headers)
                keep = [*source.raw_columns, "county_code", "prefecture_code", *source.constant_types]
                where_partition = " AND ".join(f"{c} = ?" for c in source.partition_columns)
                con.execute(f"DELETE FROM {source.raw_table} WHERE {where_partition}",
                            [batch.constants[c] for c in source.partition_columns])
                con.execute(
                    f"""INSERT INTO {source.raw_table} ({', '.join(keep)}, batch_id, source_row, extra_fields)
                        SELECT {', '.join(keep)}, ?, source_row, {extra_json}
                        FROM {table} WHERE _rule IS NULL""",
                    [batch.batch_id],
                )
                loaded = con.execute(f"SELECT count(*) FROM {table} WHERE _rule IS NULL").fetchone()[0]
        if batch.malformed:
            con.executemany(
                "INSERT INTO quarantine.rejected_rows (source, batch_id, source_row, rule, reason, original_values)"
                " VALUES (?, ?, ?, ?, ?, json_object('line', ?))",
                [[source.name, batch.batch_id, row, MALFORMED_ROW.name, MALFORMED_ROW.reason, line]
                 for row, line in batch.malformed],
            )
        quarantined = con.execute(
            "SELECT count(*) FROM quarantine.rejected_rows WHERE batch_id = ?", [batch.batch_id]
        ).fetchone()[0]
        con.execute(
            """INSERT INTO meta.load_batches (batch_id, source, partition_key, file_path, file_sha256, encoding,
               rows_read, rows_loaded, rows_quarantined, status, reason, header_row, delimiter, rows_skipped_blank,
               rows_skipped_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [batch.batch_id, source.name, batch.partition_key, str(batch.file_path), batch.file_sha256,
             batch.encoding, batch.rows_read, loaded, quarantined, status, reason,
             read.header_row if read else None, read.delimiter_name if read else None,
             batch.rows_skipped_blank, batch.rows_skipped_total],
        )
        if table is not None:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return BatchOutcome(source.name, batch.batch_id, batch.partition_key, status, reason, batch.rows_read,
                        loaded, quarantined, dict(batch.rule_counts), batch.encoding,
                        read.extra_columns if read else [], read.header_row if read else None,
                        read.delimiter_name if read else None, batch.rows_skipped_blank, batch.rows_skipped_total)


# --------------------------------------------------------------------------------------------------
# HR platform: one table's pull = one batch
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HrTablePull:
    """What one table's pull did; mirrors its ``meta.load_batches`` row.

    ``rows_upserted`` counts the rows that passed the rules (``rows_read = rows_upserted +
    rows_quarantined`` always); with status ``rejected`` none of them was applied to raw.
    """

    table: str
    rows_read: int
    rows_upserted: int
    rows_quarantined: int
    watermark_before: dt.datetime | None
    watermark_after: dt.datetime | None
    batch_id: str
    status: str  # published | rejected | unchanged (nothing new: no batch recorded)
    reason: str | None
    # What the pull changed in raw (all 0 when rejected or unchanged). inserted: keys new to the
    # warehouse at or after the previous watermark; late: new keys behind it (committed late, found by
    # the look-back or the key comparison); corrected: keys already held whose row changed; deleted:
    # keys gone from the source (key comparison only).
    rows_inserted: int = 0
    rows_late: int = 0
    rows_corrected: int = 0
    rows_deleted: int = 0
    full_compare: bool = False  # whether this pull compared every key with the source
    reader: str = "sqlalchemy"  # how the rows were read: adbc-sqlite | adbc-postgresql | sqlalchemy
    validation: SuiteOutcome | None = field(default=None, compare=False, repr=False)


@dataclass
class _HrBatch:
    """One table's staged and flagged pull: what step 4 decides on."""

    read: HrRead
    landing: str                    # the flagged rows: typed columns, _source_row, _rule, _original_values
    batch_id: str
    now: dt.datetime                # the warehouse's clock, one value for the whole table pull
    watermark_before: dt.datetime | None
    full_compare: bool
    rules: list[Rule]
    rule_counts: dict[str, int]     # rows breaking each rule, counted independently (what GE counts)
    rows_quarantined: int           # rows breaking some rule
    repeats: int                    # of those, rows quarantined before with the same values
    max_read: dt.datetime | None
    deleted: list[tuple[str, dt.datetime]]
    emptied: bool
    kinds: dict[str, int]           # what publishing would change: inserted / late / corrected

    @property
    def table(self) -> str:
        return self.read.table

    @property
    def nothing_new(self) -> bool:
        """Only boundary rows and already-quarantined rows were re-read: there is nothing to publish."""
        moves = self.max_read is not None and (self.watermark_before is None or self.max_read > self.watermark_before)
        return (not sum(self.kinds.values()) and not self.deleted and self.rows_quarantined == self.repeats
                and not moves)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextlib.contextmanager
def _warehouse(warehouse: Path | duckdb.DuckDBPyConnection, memory_limit: str,
               lock_timeout: float) -> Iterator[duckdb.DuckDBPyConnection]:
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        yield warehouse
    else:
        with connect(warehouse, memory_limit=memory_limit, lock_timeout=lock_timeout) as con:
            yield con


def pull_hr_platform(
    url: str,
    warehouse: Path | duckdb.DuckDBPyConnection,
    tables: Iterable[str] | None = None,
    max_reject_rate: float = DEFAULT_MAX_REJECT_RATE,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    lookback: dt.timedelta = dt.timedelta(0),
    full_compare_every: dt.timedelta | None = None,
    memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT,
    lock_timeout: float = DEFAULT_WAREHOUSE_LOCK_TIMEOUT,
    data_docs_dir: Path | None = None,
    reader: str = "auto",
) -> dict[str, HrTablePull]:
    """Pull every (or the named) HR platform table incrementally into the warehouse, each table one
    batch through stage → flag → GE → publish or reject.

    ``warehouse`` is the warehouse file (what ``zengshou`` passes: every table goes through the GE
    gate) or an open DuckDB connection (a caller that holds its own connection, e.g. an in-memory
    warehouse in the loader's tests: GE cannot open that, so the gate is skipped and the rules,
    reject rate and accounting apply alone). ``lookback`` re-reads that much behind the watermark;
    ``full_compare_every`` compares every key with the source when the table's last comparison is
    at least that old (``timedelta(0)``: on every pull; None: never). ``memory_limit``,
    ``lock_timeout`` and ``data_docs_dir`` are the settings' (passed by the HR asset from
    ``WarehouseResource``): how the warehouse file is opened and where GE's pages go. ``reader``
    ("auto", "adbc", "sqlalchemy") is ``open_hr_platform``'s: Arrow-native through ADBC for SQLite
    and PostgreSQL.

    Returns one ``HrTablePull`` per table, in SPEC order. Raises ``HrPlatformUnavailable`` when the
    database cannot be reached, ``HrPlatformSchemaError`` when a table or column is missing at the
    source (before anything is written), ``ValueError`` for an unknown table name. Each table commits
    on its own, so a failure on a later table keeps the earlier tables' progress.
    """
    names = list(HR_TABLES) if tables is None else list(tables)
    unknown = [t for t in names if t not in HR_TABLES]
    if unknown:
        raise ValueError(f"unknown HR platform table(s): {', '.join(unknown)}; known: {', '.join(HR_TABLES)}")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    if lookback < dt.timedelta(0):
        raise ValueError("lookback must not be negative")

    gated = isinstance(warehouse, Path)
    held = (warehouse_lock(warehouse, timeout=lock_timeout, purpose="pulling the HR platform") if gated
            else contextlib.nullcontext())
    opened = {"memory_limit": memory_limit, "lock_timeout": lock_timeout}
    results: dict[str, HrTablePull] = {}
    with held, open_hr_platform(url, names, chunk_rows, reader) as reader:
        # Only once the source answers: an outage leaves the warehouse exactly as it was.
        with _warehouse(warehouse, **opened) as con:
            ensure_hr_tables(con, names)
        for name in names:
            try:
                ge, failure, pull = None, None, None
                with _warehouse(warehouse, **opened) as con:
                    batch = _stage_hr(con, reader, name, lookback, full_compare_every)
                    if not gated or batch.nothing_new:  # nothing to publish: no gate, no second connection
                        pull = _publish_hr(con, batch, max_reject_rate, reader.shown_url, None, None)
                if pull is None:
                    assert isinstance(warehouse, Path)
                    ge, failure = ge_gate(warehouse, f"raw.hr_{name}", batch.landing, batch.rule_counts,
                                          **opened, data_docs_dir=data_docs_dir)
                    with _warehouse(warehouse, **opened) as con:
                        pull = _publish_hr(con, batch, max_reject_rate, reader.shown_url, failure, ge)
                if ge is not None:
                    record_batch_verdict(ge.data_docs, types.SimpleNamespace(
                        status=pull.status, reason=pull.reason, rows_read=pull.rows_read,
                        rows_loaded=pull.rows_upserted, rows_quarantined=pull.rows_quarantined,
                        batch_id=pull.batch_id, partition_key=None), max_reject_rate)
                results[name] = pull
                log.info("HR pull %s (read with %s): %s", name, pull.reader, pull)
            finally:
                reader.end_table()
    return results


def _stage_hr(
    con: duckdb.DuckDBPyConnection,
    reader: HrPlatformReader,
    table: str,
    lookback: dt.timedelta,
    full_compare_every: dt.timedelta | None,
) -> _HrBatch:
    """Steps 1 and 2 for one HR table, in one DuckDB transaction: read what changed into landing,
    number the rows, flag them with ``hr_rules``, and work out what publishing would change."""
    sa_table = hr_schema.metadata.tables[table]
    columns = list(sa_table.columns)
    col_names = [c.name for c in columns]
    pk_names = [c.name for c in sa_table.primary_key.columns]
    landing = f"landing.hr_{table}"
    rules = hr_rules(table)
    con.begin()
    try:
        now_row = con.execute("SELECT current_localtimestamp()").fetchone()
        assert now_row is not None
        now: dt.datetime = now_row[0]
        batch_id = f"{SOURCE_PREFIX}.{table}:{now:%Y%m%dT%H%M%S}:{uuid.uuid4().hex[:8]}"
        row = con.execute("SELECT max_updated_at FROM meta.hr_watermarks WHERE table_name = ?", [table]).fetchone()
        watermark_before: dt.datetime | None = row[0] if row else None
        row = con.execute("SELECT compared_at FROM meta.hr_full_compares WHERE table_name = ?", [table]).fetchone()
        full_compare = full_compare_every is not None and (row is None or now - row[0] >= full_compare_every)
        since = None if watermark_before is None else watermark_before - lookback

        read = reader.read(con, table, since, full_compare, landing)

        # Number the rows in a reproducible order (updated_at, NULLs last, then the key): _source_row is
        # what the quarantine reports as the row of the pull, so it must not depend on the order a
        # backend happens to return rows in; fetch order only breaks ties between copies of a key with
        # the same updated_at (a source without an enforced key). Then flag: the first rule broken.
        order = ", ".join(["updated_at ASC NULLS LAST", *(_quote(c) for c in pk_names), "_source_row"])
        first = "CASE " + " ".join(f"WHEN {r.sql(landing)} THEN {_sql_str(r.name)}" for r in rules) + " END"
        # Original values as JSON with the platform's column names; decimals as text so 12.50 stays 12.50.
        json_fields = ", ".join(
            f"{_sql_str(c.name)}: "
            + (f"CAST({_quote(c.name)} AS VARCHAR)" if isinstance(c.type, sa.Numeric) else _quote(c.name))
            for c in columns
        )
        con.execute(
            f"CREATE OR REPLACE TABLE {landing} AS "
            f"SELECT *, CASE WHEN _rule IS NULL THEN NULL ELSE CAST(to_json({{{json_fields}}}) AS VARCHAR) END"
            f" AS _original_values FROM (SELECT * REPLACE (row_number() OVER (ORDER BY {order}) AS _source_row),"
            f" {first} AS _rule FROM {read.read_table})"
        )
        con.execute(f"DROP TABLE {read.read_table}")
        per_rule = ", ".join(f"count_if({r.sql(landing)})" for r in rules)
        counts = con.execute(
            f"""
            SELECT count(*) FILTER (WHERE s._rule IS NOT NULL),
                   count(*) FILTER (WHERE s._rule IS NOT NULL AND EXISTS (
                       SELECT 1 FROM quarantine.rejected_rows q
                       WHERE q.source = ? AND q.rule = s._rule AND q.original_values = s._original_values)),
                   max(s.updated_at), {per_rule}
            FROM {landing} s
            """,
            [f"{SOURCE_PREFIX}.{table}"],
        ).fetchone()
        assert counts is not None
        deleted, emptied = deleted_keys(con, read)
        kinds = _classify(con, table, landing, col_names, pk_names, watermark_before)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return _HrBatch(read, landing, batch_id, now, watermark_before, full_compare, rules,
                    {r.name: int(n or 0) for r, n in zip(rules, counts[3:], strict=True)},
                    int(counts[0]), int(counts[1]), counts[2], deleted, emptied, kinds)


def _publish_hr(
    con: duckdb.DuckDBPyConnection,
    batch: _HrBatch,
    max_reject_rate: float,
    file_path: str,
    validation_failure: str | None,
    validation: SuiteOutcome | None,
) -> HrTablePull:
    """Step 4 for one HR table, in one DuckDB transaction: the rows, the quarantine, the batch log and
    the watermark all land together, or nothing does.

    A rejected table (emptied at the source, failing the GE gate, or above ``max_reject_rate``) is not
    applied: its rule-breaking rows and the batch log are written so the engineer can see why, but raw
    and the watermark stay where they were, so the next pull reads the same rows again. A rejected row
    re-read unchanged (NULL updated_at, or a bad row on the boundary timestamp) is quarantined again for
    the batch's own accounting, but does not count towards the reject rate: it was judged before, and
    counting it again would fail every no-change pull.
    """
    table, rows_read = batch.table, batch.read.rows_read
    rows_quarantined, repeats = batch.rows_quarantined, batch.repeats
    rows_upserted = rows_read - rows_quarantined
    judged = rows_read - repeats
    reject_rate = (rows_quarantined - repeats) / judged if judged else 0.0
    sa_table = hr_schema.metadata.tables[table]
    col_names = [c.name for c in sa_table.columns]
    pk_names = [c.name for c in sa_table.primary_key.columns]
    watermark_before, now, batch_id = batch.watermark_before, batch.now, batch.batch_id
    deleted = batch.deleted
    kinds = {"inserted": 0, "late": 0, "corrected": 0}
    changed = 0  # rows inserted or updated in raw (stays 0 for a rejected pull)
    con.begin()
    try:
        if batch.emptied or validation_failure or reject_rate > max_reject_rate:
            status = "rejected"
            if batch.emptied:
                reason = (
                    f"源表 {table} 已无任何行，而仓库中有 {len(deleted)} 行：疑为表被清空或连错了数据库，"
                    "本批未应用（含删除），水位线保持不变；若确为删除，请人工清理 raw 表"
                )
            elif validation_failure:
                reason = f"{validation_failure}：本批未写入 raw，水位线保持不变"
            else:
                reason = (
                    f"隔离 {rows_quarantined - repeats}/{judged} 行（{reject_rate:.1%}），超过上限 "
                    f"{max_reject_rate:.1%}：本批未写入 raw，水位线保持不变"
                )
            watermark_after = watermark_before
            deleted = []
        else:
            status = "published"
            reason = None
            if rows_quarantined:
                reason = f"隔离 {rows_quarantined} 行"
                if repeats:
                    reason += f"（其中 {repeats} 行此前已隔离）"
            kinds = batch.kinds
            changed = _upsert(con, table, batch.landing, col_names, pk_names, now)
            assert changed == sum(kinds.values()), (changed, kinds)
            if deleted:
                _delete(con, table, pk_names[0], deleted, batch_id, now)
                note = f"源端已删除 {len(deleted)} 行，已从 raw 删除（记录于 meta.hr_deleted_rows）"
                reason = f"{reason}；{note}" if reason else note
            watermark_after = watermark_before
            if batch.max_read is not None and (watermark_before is None or batch.max_read > watermark_before):
                watermark_after = batch.max_read
                con.execute(
                    "INSERT INTO meta.hr_watermarks VALUES (?, ?) "
                    "ON CONFLICT (table_name) DO UPDATE SET max_updated_at = excluded.max_updated_at",
                    [table, watermark_after],
                )
            if batch.full_compare:
                con.execute(
                    "INSERT INTO meta.hr_full_compares VALUES (?, ?) "
                    "ON CONFLICT (table_name) DO UPDATE SET compared_at = excluded.compared_at",
                    [table, now],
                )
        nothing_new = (not changed and not deleted and rows_quarantined == repeats
                       and watermark_after == watermark_before)
        if status == "published" and nothing_new:
            # Nothing new: only boundary rows and already-quarantined rows were re-read. Record nothing,
            # so a pull over an unchanged platform leaves the warehouse exactly as it was.
            status, reason, rows_upserted = "unchanged", None, 0
        else:
            reason_case = ("CASE _rule " + " ".join(f"WHEN {_sql_str(r.name)} THEN {_sql_str(r.reason)}"
                                                    for r in batch.rules) + " END")
            con.execute(
                "INSERT INTO quarantine.rejected_rows (source, batch_id, source_row, rule, reason,"
                " original_values, quarantined_at) "
                f"SELECT ?, ?, _source_row, _rule, {reason_case}, _original_values, ? "
                f"FROM {batch.landing} WHERE _rule IS NOT NULL ORDER BY _source_row",
                [f"{SOURCE_PREFIX}.{table}", batch_id, now],
            )
            con.execute(
                "INSERT INTO meta.load_batches (batch_id, source, file_path, rows_read, rows_loaded,"
                " rows_quarantined, status, reason, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [batch_id, f"{SOURCE_PREFIX}.{table}", file_path, rows_read, rows_upserted, rows_quarantined,
                 status, reason, now],
            )
        for scratch in (batch.landing, batch.read.keys_table):
            if scratch:
                con.execute(f"DROP TABLE IF EXISTS {scratch}")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return HrTablePull(
        table=table, rows_read=rows_read, rows_upserted=rows_upserted, rows_quarantined=rows_quarantined,
        watermark_before=watermark_before, watermark_after=watermark_after, batch_id=batch_id,
        status=status, reason=reason, rows_inserted=kinds["inserted"], rows_late=kinds["late"],
        rows_corrected=kinds["corrected"], rows_deleted=len(deleted), full_compare=batch.full_compare,
        reader=batch.read.reader, validation=validation,
    )


def _accepted(stage: str, pks: str) -> str:
    """The staged rows that would be applied: rule-clean, newest copy per key."""
    return (f"SELECT * FROM {stage} WHERE _rule IS NULL "
            f"QUALIFY row_number() OVER (PARTITION BY {pks} ORDER BY updated_at DESC, _source_row DESC) = 1")



def _classify(
    con: duckdb.DuckDBPyConnection,
    table: str,
    stage: str,
    col_names: list[str],
    pk_names: list[str],
    watermark_before: dt.datetime | None,
) -> dict[str, int]:
    """How many of the rows ``_upsert`` is about to apply are new keys (at/after the previous watermark,
    or late: behind it) and how many change a row already held; same conditions as ``_upsert``."""
    target = raw_table(table)
    pks = ", ".join(_quote(c) for c in pk_names)
    on = " AND ".join(f"r.{_quote(c)} = a.{_quote(c)}" for c in pk_names)
    non_pk = [c for c in col_names if c not in pk_names]
    differs = " OR ".join(f"a.{_quote(c)} IS DISTINCT FROM r.{_quote(c)}" for c in non_pk)
    row = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE r.{_quote(pk_names[0])} IS NULL AND (?::TIMESTAMP IS NULL
                                                                          OR a.updated_at >= ?::TIMESTAMP)),
               count(*) FILTER (WHERE r.{_quote(pk_names[0])} IS NULL AND a.updated_at < ?::TIMESTAMP),
               count(*) FILTER (WHERE r.{_quote(pk_names[0])} IS NOT NULL AND (a.updated_at > r.updated_at
                                OR (a.updated_at = r.updated_at AND ({differs}))))
        FROM ({_accepted(stage, pks)}) a LEFT JOIN {target} r ON {on}
        """,
        [watermark_before] * 3,
    ).fetchone()
    assert row is not None
    return {"inserted": int(row[0]), "late": int(row[1]), "corrected": int(row[2])}



def _delete(
    con: duckdb.DuckDBPyConnection,
    table: str,
    pk: str,
    deleted: list[tuple[str, dt.datetime]],
    batch_id: str,
    now: dt.datetime,
) -> None:
    """Apply deletions found by the key comparison, keeping each deleted key in meta.hr_deleted_rows."""
    con.executemany(
        "INSERT INTO meta.hr_deleted_rows VALUES (?, ?, ?, ?, ?)",
        [[table, key, updated_at, batch_id, now] for key, updated_at in deleted],
    )
    con.execute(
        f"DELETE FROM {raw_table(table)} WHERE {_quote(pk)} IN "
        f"(SELECT primary_key FROM meta.hr_deleted_rows WHERE batch_id = ?)",
        [batch_id],
    )



def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    stage: str,
    col_names: list[str],
    pk_names: list[str],
    loaded_at: dt.datetime,
) -> int:
    """Apply the accepted staged rows to raw: newer-or-equal updated_at wins, an older copy never does.
    Returns how many rows were inserted or changed.

    An identical re-read (boundary rows) is left untouched, ``_loaded_at`` included, so a no-change
    pull changes nothing. Duplicate keys inside one pull (a source without an enforced key) resolve
    to the newest copy, as separate pulls would.
    """
    target = raw_table(table)
    cols = ", ".join(_quote(c) for c in col_names)
    pks = ", ".join(_quote(c) for c in pk_names)
    non_pk = [c for c in col_names if c not in pk_names]
    sets = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in [*non_pk, "_loaded_at"])
    differs = " OR ".join(f"excluded.{_quote(c)} IS DISTINCT FROM {target}.{_quote(c)}" for c in non_pk)
    result = con.execute(
        f"""
        INSERT INTO {target} ({cols}, _loaded_at)
        SELECT {cols}, ? FROM ({_accepted(stage, pks)})
        ON CONFLICT ({pks}) DO UPDATE SET {sets}
        WHERE excluded.updated_at > {target}.updated_at
           OR (excluded.updated_at = {target}.updated_at AND ({differs}))
        """,
        [loaded_at],
    )
    return int(result.fetchone()[0])
