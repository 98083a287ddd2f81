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
  of that prefecture's counties — never the province rows. Rows are filtered with row-level security
  on the first column of region_code / prefecture_code / county_code a table has; a table with none
  of them is readable in full by every group role. All group roles have USAGE + SELECT only.

Publishing is one transaction: roles are created if missing, the new tables are loaded with COPY into
a staging schema, and only then are the old ``marts`` / ``marts_zh`` dropped and the staging schema
renamed. Any failure (a bad value, a lost connection, a lock timeout) rolls everything back: readers
keep the previous state, and see the new one atomically at commit.
"""

from __future__ import annotations

import contextlib
import logging
import re
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
    check_personal_data,
    connect_warehouse,
    read_marts,
    read_regions,
    zh_view_columns,
)

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


@dataclass
class PostgresPublish:
    database: str                          # URL without the password
    tables: dict[str, int]                 # mart -> rows
    rls_tables: dict[str, str]             # mart -> the column its row-level security filters on
    unfiltered_tables: list[str]           # marts without a region column: readable in full
    roles: list[str]                       # the group roles readers are granted
    created_roles: list[str]
    dropped_dependents: list[str] = field(default_factory=list)
    seconds: float = 0.0


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


def _export(warehouse: Path, folder: Path) -> _Snapshot:
    """Read the catalog and write every mart to a CSV file, then let go of the warehouse at once (the
    PostgreSQL transaction can wait on locks; the DuckDB file must not be held meanwhile)."""
    con = connect_warehouse(warehouse)
    try:
        tables = read_marts(con)
        check_personal_data(con, tables)
        regions = read_regions(con, tables)
        files = {}
        for t in tables:
            path = folder / f"{t.name}.csv"
            select = ", ".join(_export_expr(c.name, c.duckdb_type) for c in t.columns)
            con.execute(f"COPY (SELECT {select} FROM {MARTS_SCHEMA}.\"{t.name}\") TO '{path}'"
                        " (FORMAT csv, HEADER true)")
            files[t.name] = path
    finally:
        con.close()
    return _Snapshot(tables, regions, files)


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


def _secure_table(cur, schema: str, table: MartTable, roles: RoleNames, regions: Regions) -> str | None:
    """Row-level security on the table's region column; returns that column (None: no filter)."""
    column = table.region_column
    if column is None:
        return None
    ident = sql.Identifier(schema, table.name)
    cur.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(ident))
    cur.execute(sql.SQL("CREATE POLICY all_regions ON {} FOR SELECT TO {}, {} USING (true)").format(
        ident, sql.Identifier(roles.analyst), sql.Identifier(roles.province)))
    for prefecture, codes in regions.prefectures.items():
        visible = [prefecture] if column == "prefecture_code" else list(codes)
        cur.execute(sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING ({} = ANY (%s::text[]))").format(
            sql.Identifier(f"prefecture_{prefecture}"), ident, sql.Identifier(roles.prefecture(prefecture)),
            sql.Identifier(column)), (visible,))
    return column


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


def _grant(cur, readers: list[str]) -> None:
    roles = sql.SQL(", ").join(sql.Identifier(r) for r in readers)
    for schema in (MARTS_SCHEMA, ZH_SCHEMA):
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), roles))
        cur.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema), roles))


def publish_postgres(warehouse: Path, url: str, role_prefix: str = DEFAULT_ROLE_PREFIX,
                     lock_timeout_s: int = 60) -> PostgresPublish:
    """Publish every mart of ``warehouse`` to the PostgreSQL database at ``url`` in one transaction."""
    started = time.monotonic()
    roles = RoleNames(role_prefix)
    with tempfile.TemporaryDirectory(prefix=".pg_publish_", dir=warehouse.parent) as folder:
        snap = _export(warehouse, Path(folder))
        readers = [roles.analyst, roles.province, *(roles.prefecture(p) for p in snap.regions.prefectures)]
        try:
            conn = psycopg2.connect(libpq_dsn(url), application_name="zengshou-publish")
        except psycopg2.Error as exc:
            raise PublishError(f"cannot connect to the BI database {safe_url(url)}: {str(exc).strip()}") from exc
        try:
            with conn.cursor() as cur:
                # A BI query holding a mart open delays the swap; give up (and roll back) rather than
                # queue every other reader behind the swap for ever.
                cur.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s)}s'")
                created = _ensure_roles(cur, readers)
                for name in created:
                    cur.execute(sql.SQL("COMMENT ON ROLE {} IS %s").format(sql.Identifier(name)),
                                ("zengshou BI reader group (NOLOGIN): grant it to login users",))
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
                cur.execute(sql.SQL("COMMENT ON SCHEMA {} IS %s").format(sql.Identifier(MARTS_SCHEMA)),
                            (f"zengshou 数据集市 / marts, published {time.strftime('%Y-%m-%d %H:%M:%S %z')}",))
                _create_zh_views(cur, snap.tables)
                _grant(cur, readers)
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
        seconds=time.monotonic() - started,
    )
