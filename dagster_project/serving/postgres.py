"""Publish the marts to PostgreSQL (ZENGSHOU_BI_DB_URL) for BI tools and per-prefecture access.

What the database holds after a publish:

- schema ``marts``: every warehouse mart as a table (DuckDB types mapped to PostgreSQL ones: DOUBLE ->
  double precision, VARCHAR -> text, DECIMAL(p,s) -> numeric(p,s) …), with COMMENT ON TABLE/COLUMN
  from the dbt yml descriptions (Chinese / English);
- schema ``marts_zh``: one view per mart whose columns are named in Chinese, with the same comments,
  and codes shown as their Chinese labels (status 达标 …, progress_status 进度正常 …, region_level 州市 …).
  The views are ``security_invoker``, so row-level security applies to whoever queries them;
- group roles (NOLOGIN): ``<prefix>_analyst`` and ``<prefix>_province`` read every row;
  ``<prefix>_pref_<code>`` (one per prefecture of dim_region) reads only the rows of its prefecture and
  of that prefecture's counties — never the province rows; ``<prefix>_county_<code>`` (one per county
  of dim_region) reads only that county's rows. Rows are filtered with row-level security on every
  region column a table has (region_code / prefecture_code / county_code must all match the role's
  region; a NULL region is seen by the province and analyst roles only; a county role sees nothing of
  a table that has only prefecture_code). A table with none of them is readable in full by every
  group role — and a person-level mart without one is refused (catalog.check_row_security). All
  group roles have USAGE + SELECT only;
- a restricted person list (dbt meta ``zengshou_publish: county_roles_only``) is readable by the
  province, prefecture and county roles under the same row-level security, never by the analyst role.

Publishing is one transaction: roles are created if missing, the new tables are loaded with COPY into
a staging schema, and only then are the old ``marts`` / ``marts_zh`` dropped and the staging schema
renamed. Any failure (a bad value, a lost connection, a lock timeout) rolls everything back: readers
keep the previous state, and see the new one atomically at commit.

Only the changed months (issue 12): when serving/changes.py finds that this database last took the
build before this one from this warehouse (the token in the comment of schema ``marts`` is the one
recorded), with the same catalog, regions and role prefix, the transaction instead DELETEs the rebuilt
months' rows of each month / year mart and COPYs those months in, and replaces the rows of the marts
without months (DELETE + COPY). Tables, views, comments, roles, grants and row-level-security policies
are left exactly as the last whole publish made them; still one transaction, so readers see the old
rows until COMMIT and a failure anywhere leaves them as they were. Any doubt publishes whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql
from sqlalchemy.engine import make_url

from dagster_project.serving.catalog import (
    MARTS_SCHEMA,
    MartTable,
    Regions,
    catalog_parts,
    check_personal_data,
    check_row_security,
    connect_warehouse,
    read_marts,
    read_regions,
    zh_view_columns,
)
from dagster_project.serving.changes import (
    MODE_MONTHS,
    MODE_WHOLE,
    Changes,
    catalog_digest,
    partition_filter,
    whole_reason,
)
from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT

log = logging.getLogger("zengshou.serving")

ZH_SCHEMA = "marts_zh"
STAGING_SCHEMA = "marts__publishing"
DEFAULT_ROLE_PREFIX = "zengshou"


class PublishError(RuntimeError):
    """Publishing to PostgreSQL failed; the previous state of the BI database is unchanged."""


@dataclass(frozen=True)
class RoleNames:
    prefix: str = DEFAULT_ROLE_PREFIX

    @property
    def analyst(self) -> str:
        return f"{self.prefix}_analyst"

    @property
    def province(self) -> str:
        return f"{self.prefix}_province"

    def prefecture(self, code: str) -> str:
        return f"{self.prefix}_pref_{code}"

    def county(self, code: str) -> str:
        return f"{self.prefix}_county_{code}"

    def all(self, regions: Regions) -> list[str]:
        """Every reader group role: analyst, province, one per prefecture, one per county."""
        return [self.analyst, self.province, *(self.prefecture(p) for p in regions.prefectures),
                *(self.county(c) for c in regions.counties)]


@dataclass
class PostgresPublish:
    database: str                          # URL without the password
    tables: dict[str, int]                 # mart -> rows
    rls_tables: dict[str, str]             # mart -> its first region column (RLS filters on all of them)
    unfiltered_tables: list[str]           # marts without a region column: readable in full
    roles: list[str]                       # the group roles readers are granted
    created_roles: list[str]
    dropped_dependents: list[str] = field(default_factory=list)
    restricted_tables: list[str] = field(default_factory=list)   # county_roles_only: no analyst access
    seconds: float = 0.0
    mode: str = MODE_WHOLE                 # months: only the changed months' rows replaced
    months: tuple[dt.date, ...] | None = None
    reason: str = ""                       # why whole, or which build the months come from
    rows_written: dict[str, int] = field(default_factory=dict)   # mart -> rows COPYed in
    rows_deleted: dict[str, int] = field(default_factory=dict)   # mart -> rows deleted (mode months)
    catalog: str = ""                      # serving/changes.catalog_digest (tables, regions, role prefix)
    mark: str | None = None                # the token this publish left in the comment of schema marts


# ---------------------------------------------------------------------------------------------------
# types and export

_SIMPLE_TYPES = {
    "VARCHAR": "text", "JSON": "text", "UUID": "uuid",
    "DOUBLE": "double precision", "FLOAT": "real",
    "BOOLEAN": "boolean", "DATE": "date", "TIME": "time", "INTERVAL": "interval",
    "TINYINT": "smallint", "UTINYINT": "smallint", "SMALLINT": "smallint", "USMALLINT": "integer",
    "INTEGER": "integer", "UINTEGER": "bigint", "BIGINT": "bigint",
    "UBIGINT": "numeric(20,0)", "HUGEINT": "numeric(39,0)", "UHUGEINT": "numeric(39,0)",
    "TIMESTAMP": "timestamp", "TIMESTAMP_S": "timestamp", "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp", "TIMESTAMP WITH TIME ZONE": "timestamptz", "BLOB": "bytea",
}


def pg_type(duckdb_type: str) -> str:
    """PostgreSQL type for a DuckDB column type; nested and unknown types are published as text."""
    upper = duckdb_type.upper()
    if upper in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[upper]
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", upper)
    if m:
        return f"numeric({m.group(1)},{m.group(2)})"
    return "text"


def _export_expr(name: str, duckdb_type: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    upper = duckdb_type.upper()
    if upper == "BLOB":
        return f"CASE WHEN {quoted} IS NULL THEN NULL ELSE '\\x' || hex({quoted}) END"
    if pg_type(duckdb_type) == "text" and upper not in ("VARCHAR", "JSON"):
        return f"CAST({quoted} AS VARCHAR)"
    return quoted


@dataclass
class _Snapshot:
    tables: list[MartTable]
    regions: Regions
    files: dict[str, Path]
    rows: dict[str, int]                   # mart -> rows in its CSV file
    catalog: str
    months: tuple[dt.date, ...] | None     # None: every row exported (a whole publish)
    reason: str


def _export(warehouse: Path, folder: Path, changes: Changes | None, role_prefix: str, memory_limit: str) -> _Snapshot:
    """Read the catalog and write every mart to a CSV file — only the rows of ``changes.months`` of the
    partitioned marts when a months publish is exact (serving/changes.whole_reason; the mark in
    PostgreSQL is checked later, in the transaction) — then let go of the warehouse at once (the
    PostgreSQL transaction can wait on locks; the DuckDB file must not be held meanwhile)."""
    con = connect_warehouse(warehouse, memory_limit=memory_limit)
    try:
        tables = read_marts(con)
        check_personal_data(con, tables)
        check_row_security(tables)
        regions = read_regions(con, tables)
        catalog = catalog_digest([catalog_parts(tables), regions.prefectures, regions.counties, role_prefix])
        reason = whole_reason(changes, catalog, changes.mark if changes else None)
        months = changes.months if reason is None and changes is not None else None
        files, rows = {}, {}
        for t in tables:
            where = partition_filter(t.partition, months) if months is not None and t.partition else "true"
            if where is None:   # a month mart, and no month changed: nothing to copy
                continue
            path = folder / f"{t.name}.csv"
            select = ", ".join(_export_expr(c.name, c.duckdb_type) for c in t.columns)
            rows[t.name] = int(con.execute(
                f"COPY (SELECT {select} FROM {MARTS_SCHEMA}.\"{t.name}\" WHERE {where}) TO '{path}'"
                " (FORMAT csv, HEADER true)").fetchone()[0])
            files[t.name] = path
    finally:
        con.close()
    return _Snapshot(tables, regions, files, rows, catalog, months,
                     reason if reason is not None else changes.reason if changes else "")


# ---------------------------------------------------------------------------------------------------
# connection


def libpq_dsn(url: str) -> str:
    """A libpq URI from a SQLAlchemy URL (postgresql+psycopg2://… -> postgresql://…)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise PublishError(f"ZENGSHOU_BI_DB_URL must be a PostgreSQL URL, not {parsed.drivername}://…")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _before_commit(cur) -> None:
    """Test seam: runs inside the publishing transaction, after the swap, just before COMMIT."""


# ---------------------------------------------------------------------------------------------------
# the transaction


def _ensure_roles(cur, names: list[str]) -> list[str]:
    cur.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (names,))
    existing = {r[0] for r in cur.fetchall()}
    missing = [n for n in names if n not in existing]
    if not missing:
        return []
    cur.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")
    if not cur.fetchone()[0]:
        statements = "; ".join(f"CREATE ROLE {n} NOLOGIN" for n in missing)
        raise PublishError(
            f"{len(missing)} reader role(s) do not exist and the publishing user may not create roles: "
            f"grant it CREATEROLE, or have an administrator run: {statements}")
    for name in missing:
        cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
    return missing


def _create_table(cur, schema: str, table: MartTable, csv_path: Path) -> None:
    ident = sql.Identifier(schema, table.name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(pg_type(c.duckdb_type))) for c in table.columns)
    cur.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, columns))
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(
        ident, sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns))
    with csv_path.open("rb") as f:
        cur.copy_expert(copy.as_string(cur), f, size=1 << 20)
    if table.description:
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS %s").format(ident), (table.description,))
    for c in table.columns:
        if c.description:
            cur.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS %s").format(ident, sql.Identifier(c.name)),
                        (c.description,))
    cur.execute(sql.SQL("ANALYZE {}").format(ident))


def _region_filter(columns: tuple[str, ...], visible: dict[str, list[str]]) -> sql.Composable:
    """``col = ANY(codes) AND …`` over every region column the table has: a row is the role's only when
    each of its region columns names the role's region (NULL never matches)."""
    return sql.SQL(" AND ").join(
        sql.SQL("{} = ANY ({}::text[])").format(sql.Identifier(c), sql.Literal(visible[c])) for c in columns)


def _secure_table(cur, schema: str, table: MartTable, roles: RoleNames, regions: Regions) -> str | None:
    """Row-level security on the table's region columns; returns the first of them (None: no filter).

    One permissive policy per reader role: all rows for province (and analyst, unless the table is a
    restricted list); for a prefecture its own code and its counties' codes; for a county its own code
    (and its prefecture's code in prefecture_code). A county role gets no policy — sees nothing — on a
    table that has prefecture_code only."""
    columns = table.region_columns
    if not columns:
        return None
    ident = sql.Identifier(schema, table.name)
    everything = [roles.province] if table.restricted else [roles.analyst, roles.province]
    statements = [
        sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(ident),
        sql.SQL("CREATE POLICY all_regions ON {} FOR SELECT TO {} USING (true)").format(
            ident, sql.SQL(", ").join(sql.Identifier(r) for r in everything)),
    ]
    for prefecture, codes in regions.prefectures.items():
        counties = [c for c in codes if c != prefecture]
        visible = {"region_code": list(codes), "prefecture_code": [prefecture], "county_code": counties}
        statements.append(sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
            sql.Identifier(f"prefecture_{prefecture}"), ident, sql.Identifier(roles.prefecture(prefecture)),
            _region_filter(columns, visible)))
    if "region_code" in columns or "county_code" in columns:
        for county, prefecture in regions.counties.items():
            visible = {"region_code": [county], "prefecture_code": [prefecture], "county_code": [county]}
            statements.append(sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({})").format(
                sql.Identifier(f"county_{county}"), ident, sql.Identifier(roles.county(county)),
                _region_filter(columns, visible)))
    cur.execute(sql.SQL(";\n").join(statements))   # one round trip: ~150 policies per table
    return columns[0]


def _zh_value(name: str, labels: dict[str, str] | None) -> sql.Composable:
    """A column as the Chinese view shows it: codes through their Chinese labels (SPEC §2.2)."""
    if not labels:
        return sql.Identifier(name)
    whens = sql.SQL(" ").join(sql.SQL("WHEN {} THEN {}").format(sql.Literal(code), sql.Literal(label))
                              for code, label in sorted(labels.items()))
    return sql.SQL("CASE {} {} ELSE {} END").format(sql.Identifier(name), whens, sql.Identifier(name))


def _create_zh_views(cur, tables: list[MartTable]) -> None:
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(ZH_SCHEMA)))
    cur.execute(sql.SQL("COMMENT ON SCHEMA {} IS %s").format(sql.Identifier(ZH_SCHEMA)),
                ("数据集市视图（中文列名）/ The marts with Chinese column names",))
    for t in tables:
        if t.restricted:  # SPEC §2.3: marts_zh shows the counts, never the person list
            continue
        view = sql.Identifier(ZH_SCHEMA, t.name)
        cols = sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(_zh_value(c.name, labels), sql.Identifier(c.label_zh))
            for c, labels in zh_view_columns(t))
        cur.execute(sql.SQL("CREATE VIEW {} WITH (security_invoker = true) AS SELECT {} FROM {}").format(
            view, cols, sql.Identifier(MARTS_SCHEMA, t.name)))
        if t.description:
            cur.execute(sql.SQL("COMMENT ON VIEW {} IS %s").format(view), (t.description,))
        for c in t.columns:
            if c.description:
                cur.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS %s").format(view, sql.Identifier(c.label_zh)),
                            (c.description,))


def _dependents_outside(cur) -> list[str]:
    """Views elsewhere that depend on the published tables: the swap drops them (CASCADE)."""
    cur.execute(
        """
        SELECT DISTINCT dn.nspname || '.' || dc.relname
        FROM pg_depend d
        JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
        JOIN pg_class dc ON dc.oid = r.ev_class
        JOIN pg_namespace dn ON dn.oid = dc.relnamespace
        JOIN pg_class sc ON d.refclassid = 'pg_class'::regclass AND sc.oid = d.refobjid
        JOIN pg_namespace sn ON sn.oid = sc.relnamespace
        WHERE sn.nspname = %s AND dn.nspname NOT IN (%s, %s) AND dc.oid <> sc.oid
        ORDER BY 1
        """,
        (MARTS_SCHEMA, MARTS_SCHEMA, ZH_SCHEMA),
    )
    return [r[0] for r in cur.fetchall()]


def _grant(cur, tables: list[MartTable], readers: list[str], analyst: str) -> None:
    """USAGE on both schemas for every reader; SELECT on each table and its Chinese view for every
    reader, except that a restricted list (county_roles_only) is never granted to the analyst role."""
    everyone = sql.SQL(", ").join(sql.Identifier(r) for r in readers)
    regional = sql.SQL(", ").join(sql.Identifier(r) for r in readers if r != analyst)
    for schema in (MARTS_SCHEMA, ZH_SCHEMA):
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), everyone))
    for restricted in (False, True):
        names = [t.name for t in tables if t.restricted == restricted]
        if not names:
            continue
        schemas = (MARTS_SCHEMA,) if restricted else (MARTS_SCHEMA, ZH_SCHEMA)  # no Chinese view of a list
        objects = sql.SQL(", ").join(sql.Identifier(s, n) for s in schemas for n in names)
        cur.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(objects, regional if restricted else everyone))


_MARK = re.compile(r"\(publish ([0-9a-f]+)\)")


def _published_mark(cur) -> str | None:
    """The token the last publish left in the comment of schema marts (None: no marts, or no token)."""
    cur.execute("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", (MARTS_SCHEMA,))
    row = cur.fetchone()
    m = _MARK.search(row[0] or "") if row else None
    return m.group(1) if m else None


def _copy_in(cur, table: MartTable, csv_path: Path) -> None:
    ident = sql.Identifier(MARTS_SCHEMA, table.name)
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(
        ident, sql.SQL(", ").join(sql.Identifier(c.name) for c in table.columns))
    with csv_path.open("rb") as f:
        cur.copy_expert(copy.as_string(cur), f, size=1 << 20)


def _replace_months(cur, snap: _Snapshot) -> dict[str, int]:
    """Inside the transaction: per mart, DELETE the rows of the changed months (every row of a mart
    without months) and COPY the exported rows in. Returns the rows deleted per mart."""
    assert snap.months is not None
    deleted = {}
    for t in snap.tables:
        if t.name not in snap.files:     # a month mart, and no month changed
            deleted[t.name] = 0
            continue
        where = partition_filter(t.partition, snap.months) if t.partition else "true"
        cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(MARTS_SCHEMA, t.name), sql.SQL(where)))
        deleted[t.name] = cur.rowcount
        _copy_in(cur, t, snap.files[t.name])
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(MARTS_SCHEMA, t.name)))
    return deleted


def _replace_all(cur, snap: _Snapshot, roles: RoleNames) -> tuple[dict[str, str], list[str], list[str]]:
    """Inside the transaction, a whole publish: staging schema, COPY, row security, then the old schemas
    dropped and the staging one renamed. Returns (rls tables, unfiltered tables, dropped dependents)."""
    stage = sql.Identifier(STAGING_SCHEMA)
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(stage))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(stage))
    rls, unfiltered = {}, []
    for t in snap.tables:
        _create_table(cur, STAGING_SCHEMA, t, snap.files[t.name])
        column = _secure_table(cur, STAGING_SCHEMA, t, roles, snap.regions)
        if column:
            rls[t.name] = column
        else:
            unfiltered.append(t.name)
    dependents = _dependents_outside(cur)
    if dependents:
        log.warning("publishing drops views that depend on the previous marts: %s", dependents)
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(ZH_SCHEMA)))
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(MARTS_SCHEMA)))
    cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(stage, sql.Identifier(MARTS_SCHEMA)))
    return rls, unfiltered, dependents


def publish_postgres(warehouse: Path, url: str, role_prefix: str = DEFAULT_ROLE_PREFIX,
                     lock_timeout_s: int = 60, changes: Changes | None = None,
                     memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> PostgresPublish:
    """Publish the marts of ``warehouse`` to the PostgreSQL database at ``url`` in one transaction: only
    the months of ``changes`` when that is exact (module docstring), else every mart whole."""
    started = time.monotonic()
    roles = RoleNames(role_prefix)
    token = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix=".pg_publish_", dir=warehouse.parent) as folder:
        snap = _export(warehouse, Path(folder), changes, role_prefix, memory_limit)
        readers = roles.all(snap.regions)
        try:
            conn = psycopg2.connect(libpq_dsn(url), application_name="zengshou-publish")
        except psycopg2.Error as exc:
            raise PublishError(f"cannot connect to the BI database {safe_url(url)}: {str(exc).strip()}") from exc
        try:
            with conn.cursor() as cur:
                # A BI query holding a mart open delays the swap; give up (and roll back) rather than
                # queue every other reader behind the swap for ever.
                cur.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s)}s'")
                found = _published_mark(cur) if snap.months is not None else None
                created = _ensure_roles(cur, readers)
                for name in created:
                    cur.execute(sql.SQL("COMMENT ON ROLE {} IS %s").format(sql.Identifier(name)),
                                ("zengshou BI reader group (NOLOGIN): grant it to login users",))
                if snap.months is not None and (found != changes.mark or created):
                    # Not the database this warehouse last published (or a reader role went missing, so
                    # its grants and policies did too): everything, from a whole export.
                    why = ("a reader role was missing" if created else
                           "the BI database's marts are not those this warehouse published last")
                    snap = _export(warehouse, Path(folder), None, role_prefix, memory_limit)
                    snap.reason = why
                if snap.months is None:
                    rls, unfiltered, dependents = _replace_all(cur, snap, roles)
                    deleted: dict[str, int] = {}
                else:
                    deleted = _replace_months(cur, snap)
                    rls = {t.name: t.region_columns[0] for t in snap.tables if t.region_columns}
                    unfiltered, dependents = [t.name for t in snap.tables if not t.region_columns], []
                cur.execute(sql.SQL("COMMENT ON SCHEMA {} IS %s").format(sql.Identifier(MARTS_SCHEMA)),
                            (f"zengshou 数据集市 / marts, published {time.strftime('%Y-%m-%d %H:%M:%S %z')}"
                             f" (publish {token})",))
                if snap.months is None:
                    _create_zh_views(cur, snap.tables)
                    _grant(cur, snap.tables, readers, roles.analyst)
                _before_commit(cur)
            conn.commit()
        except psycopg2.Error as exc:
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()
            raise PublishError(f"publishing to {safe_url(url)} failed and was rolled back "
                               f"(the previous marts stay readable): {str(exc).strip()}") from exc
        except BaseException:
            with contextlib.suppress(psycopg2.Error):
                conn.rollback()
            raise
        finally:
            conn.close()
    return PostgresPublish(
        database=safe_url(url), tables={t.name: t.rows for t in snap.tables}, rls_tables=rls,
        unfiltered_tables=unfiltered, roles=readers, created_roles=created, dropped_dependents=dependents,
        seconds=time.monotonic() - started, restricted_tables=[t.name for t in snap.tables if t.restricted],
        mode=MODE_WHOLE if snap.months is None else MODE_MONTHS, months=snap.months, reason=snap.reason,
        rows_written=dict(snap.rows), rows_deleted=deleted, catalog=snap.catalog, mark=token,
    )
