"""What gets published: every table of the warehouse's ``marts`` schema, read generically, with the
descriptions and publishing rule of its dbt model from the dbt manifest (dagster_project/marts.py), a
Chinese label per column, the region hierarchy that
row-level security needs, and a personal-data guard that refuses to publish 证件号码 / 姓名 / phones.

Both publishers (the serving DuckDB file and PostgreSQL) read the marts through this module, so they
publish the same tables with the same labels and refuse the same things.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.ingest.warehouse_lock import open_read_only
from dagster_project.marts import MARTS_SCHEMA, MONTH, PUBLISH_META_KEY, YEAR, MartColumnDoc, MartModel, mart_models
from dagster_project.settings import DEFAULT_DUCKDB_MEMORY_LIMIT, SEEDS_DIR

PROVINCE_CODE = "530000"

# Chinese column labels of the contract columns (SPEC §4). A model's yml can set or override one with
# `meta: {label_zh: ...}` on the column; columns of new marts without either get a label derived from
# the Chinese part of their description, else keep their English name.
ZH_LABELS = {
    "region_code": "地区代码",
    "region_level": "地区层级",
    "region_name": "地区名称",
    "parent_code": "上级地区代码",
    "is_former_poverty_county": "是否原国家扶贫开发重点县",
    "is_key_assistance_county": "是否国家乡村振兴重点帮扶县",
    "person_key": "人员键",
    "household_key": "户键",
    "year": "年度",
    "as_of_month": "快照月份",
    "county_code": "县级代码",
    "prefecture_code": "州市代码",
    "household_type": "户类型",
    "months_worked": "务工时间（月）",
    "is_employed": "是否务工",
    "work_region": "务工地域",
    "household_size": "家庭人口数",
    "wage_income_yuan": "工资性收入（元）",
    "prior_year_wage_income_yuan": "上年同期工资性收入（元）",
    "prior_year_household_size": "上年同期家庭人口数",
    "project_id": "项目编号",
    "fund_source": "资金来源",
    "central_funds_wan": "中央资金（万元）",
    "labor_remuneration_wan": "劳务报酬发放金额（万元）",
    "remuneration_ratio": "劳务报酬占比",
    "required_ratio": "要求占比",
    "is_compliant": "是否达标",
    "kpi_code": "指标代码",
    "actual_value": "实际值",
    "numerator": "分子",
    "denominator": "分母",
    "target_value": "目标值",
    "comparator": "比较符",
    "status": "状态",
}

# Column names that carry personal data in the sources (SPEC §3, source_shapes): never published.
PERSONAL_DATA_COLUMNS = frozenset({
    "id_number", "head_id_number", "name", "head_name", "phone", "phone_number", "mobile", "telephone",
    "id_card", "idcard", "id_no", "person_name", "full_name",
    "证件号码", "户主证件号码", "姓名", "户主姓名", "户联系电话", "联系电话", "手机号码", "身份证号",
})
# An 18-character resident ID (GB 11643 layout: area, birth date, sequence, check character).
RESIDENT_ID_PATTERN = r"[1-9][0-9]{5}(18|19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]"

# Columns row-level security filters on, in order of preference.
REGION_COLUMNS = ("region_code", "prefecture_code", "county_code")
# A mart with one of these columns holds rows about single people or households (issue 13 #6): it must
# carry a region column, or row-level security could not filter it and every reader would see it all.
PERSON_LEVEL_COLUMNS = frozenset({"person_key", "household_key", "person_no", "household_no"})

# Publishing rule of a mart, from its dbt yml: `config: {meta: {zengshou_publish: county_roles_only}}`
# (or `meta:` on the model), read from the manifest (PUBLISH_META_KEY, dagster_project/marts.py).
# county_roles_only = a restricted person list (SPEC §2.3 worklist):
# PostgreSQL only, SELECT for the county / prefecture / province roles under row-level security on
# county_code, never for the analyst role, and never copied into the serving DuckDB file.
PUBLISH_ALL = "all"
PUBLISH_COUNTY_ROLES_ONLY = "county_roles_only"
PUBLISH_RULES = (PUBLISH_ALL, PUBLISH_COUNTY_ROLES_ONLY)


class PersonalDataError(RuntimeError):
    """A mart carries a personal-data column or value: nothing is published."""


class RowSecurityError(RuntimeError):
    """A mart cannot be filtered by region (or has an unknown publishing rule): nothing is published."""


@dataclass(frozen=True)
class MartColumn:
    name: str
    duckdb_type: str
    description: str | None
    label_zh: str


@dataclass(frozen=True)
class MartTable:
    name: str
    columns: tuple[MartColumn, ...]
    description: str | None
    rows: int
    publish: str = PUBLISH_ALL      # PUBLISH_RULES; from the model's meta zengshou_publish
    # (column, marts.MONTH | marts.YEAR) when dbt rebuilds the mart by month (marts.MartModel.partition)
    # and the table has that column with the expected type; None: published whole every time
    partition: tuple[str, str] | None = None

    @property
    def region_column(self) -> str | None:
        names = {c.name for c in self.columns}
        return next((c for c in REGION_COLUMNS if c in names), None)

    @property
    def region_columns(self) -> tuple[str, ...]:
        names = {c.name for c in self.columns}
        return tuple(c for c in REGION_COLUMNS if c in names)

    @property
    def is_person_level(self) -> bool:
        return any(c.name in PERSON_LEVEL_COLUMNS for c in self.columns)

    @property
    def restricted(self) -> bool:
        """A restricted person list: county / prefecture / province roles only, not in the serving file."""
        return self.publish == PUBLISH_COUNTY_ROLES_ONLY


@dataclass(frozen=True)
class Regions:
    """Prefecture code -> the codes a prefecture's role may see (the prefecture and its counties)."""

    prefectures: dict[str, tuple[str, ...]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    counties: dict[str, str] = field(default_factory=dict)   # county code -> its prefecture code


# ---------------------------------------------------------------------------------------------------
# dbt descriptions (from the manifest: dagster_project/marts.py)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _derived_label(description: str | None) -> str | None:
    """The leading Chinese phrase of a bilingual description: '地区代码（…）/ Region code' -> '地区代码'."""
    if not description or not _CJK.search(description):
        return None
    head = re.split(r"[（(/，,：:;；。]", description, maxsplit=1)[0].strip()
    return head if head and _CJK.search(head) and len(head.encode("utf-8")) <= 63 else None


def _labels(names: list[str], docs: dict[str, MartColumnDoc]) -> list[str]:
    labels, seen = [], set()
    for name in names:
        doc = docs.get(name, MartColumnDoc(None, None))
        label = doc.label_zh or ZH_LABELS.get(name) or _derived_label(doc.description) or name
        if label in seen:
            label = f"{label}_{name}"
        seen.add(label)
        labels.append(label)
    return labels


# ---------------------------------------------------------------------------------------------------
# reading the warehouse


def connect_warehouse(warehouse: Path, timeout_s: float = 60.0,
                      memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only, waiting up to ``timeout_s`` while another process holds DuckDB's
    lock (a GE check or a loader of a parallel step): publishing must never fail only because DuckDB has
    one writer. Capped by ``memory_limit`` (ZENGSHOU_DUCKDB_MEMORY_LIMIT, passed down from the
    resources) like every warehouse connection: the serving copy is built inside it."""
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} does not exist: nothing to publish")
    return open_read_only(warehouse, memory_limit, wait=timeout_s)


def read_marts(con: duckdb.DuckDBPyConnection, database: str | None = None,
               models: Iterable[MartModel] | None = None) -> list[MartTable]:
    """Every table and view of schema marts with its columns (in order), descriptions and row count.

    Descriptions, labels and the publishing rule are those of the dbt model of the same name in the
    manifest (``models``: the manifest's marts unless given); a table no model describes is still read,
    so the personal-data and row-security guards see everything the schema holds."""
    database = database or con.execute("SELECT current_database()").fetchone()[0]
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns()"
        " WHERE database_name = ? AND schema_name = ? ORDER BY table_name, column_index",
        [database, MARTS_SCHEMA],
    ).fetchall()
    by_table: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        by_table.setdefault(table, []).append((column, dtype))
    docs = {m.name: m for m in (mart_models() if models is None else models)}
    tables = []
    for name, cols in sorted(by_table.items()):
        model = docs.get(name) or MartModel(name, None, {}, None)
        labels = _labels([c for c, _ in cols], model.columns)
        columns = tuple(
            MartColumn(c, dtype, model.columns[c].description if c in model.columns else None, label)
            for (c, dtype), label in zip(cols, labels, strict=True)
        )
        count = con.execute(f'SELECT count(*) FROM "{database}".{MARTS_SCHEMA}."{name}"').fetchone()[0]
        tables.append(MartTable(name, columns, model.description, int(count), publish=model.publish or PUBLISH_ALL,
                                partition=_partition(model.partition, cols)))
    return tables


_PARTITION_TYPES = {MONTH: {"DATE"}, YEAR: {"INTEGER", "BIGINT", "SMALLINT"}}


def _partition(partition: tuple[str, str] | None, cols: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The model's partition when the table really has that column, of a date (month) or integer (year)
    type: a table that drifted from its model is published whole rather than filtered on a wrong column."""
    if partition is None:
        return None
    column, kind = partition
    return partition if any(c == column and t in _PARTITION_TYPES[kind] for c, t in cols) else None


def catalog_parts(tables: list[MartTable]) -> list:
    """What a publish lays out besides the rows, as plain data (serving/changes.catalog_digest): a
    target whose last publish had other parts is published whole."""
    return [[t.name, t.publish, t.description, t.partition,
             [[c.name, c.duckdb_type, c.description, c.label_zh, labels]
              for c, labels in zh_view_columns(t)]] for t in tables]


def check_personal_data(con: duckdb.DuckDBPyConnection, tables: list[MartTable], database: str | None = None) -> None:
    """Raise PersonalDataError when a mart has a personal-data column, or a text column holding
    resident ID numbers (SPEC §4: 证件号码, 姓名, phones never reach marts)."""
    database = database or con.execute("SELECT current_database()").fetchone()[0]
    for table in tables:
        bad = [c.name for c in table.columns if c.name.lower() in PERSONAL_DATA_COLUMNS]
        if bad:
            raise PersonalDataError(f"marts.{table.name} has personal-data column(s) {bad}: not published")
        text_cols = [c.name for c in table.columns if c.duckdb_type == "VARCHAR"]
        if not text_cols or not table.rows:
            continue
        probes = ", ".join(
            f"count(*) FILTER (WHERE regexp_full_match(\"{c}\", '{RESIDENT_ID_PATTERN}'))" for c in text_cols)
        counts = con.execute(f'SELECT {probes} FROM "{database}".{MARTS_SCHEMA}."{table.name}"').fetchone()
        hits = [c for c, n in zip(text_cols, counts, strict=True) if n]
        if hits:
            raise PersonalDataError(
                f"marts.{table.name} column(s) {hits} hold values shaped like resident ID numbers: not published")


def read_regions(con: duckdb.DuckDBPyConnection, tables: list[MartTable], database: str | None = None) -> Regions:
    """The prefecture -> counties hierarchy from marts.dim_region (parent_code), else from the seed."""
    database = database or con.execute("SELECT current_database()").fetchone()[0]
    if any(t.name == "dim_region" for t in tables):
        rows = con.execute(
            f"SELECT region_code, region_level, region_name, parent_code FROM \"{database}\".{MARTS_SCHEMA}.dim_region"
        ).fetchall()
    else:
        rows = _seed_regions()
    prefectures: dict[str, list[str]] = {}
    names = {}
    for code, level, name, _parent in rows:
        names[code] = name
        if level == "prefecture":
            prefectures.setdefault(code, [code])
    counties = {}
    for code, level, _name, parent in rows:
        if level == "county" and parent in prefectures:
            prefectures[parent].append(code)
            counties[code] = parent
    return Regions({p: tuple(codes) for p, codes in sorted(prefectures.items())}, names, dict(sorted(counties.items())))


def _seed_regions() -> list[tuple[str, str, str, str | None]]:
    rows: list[tuple[str, str, str, str | None]] = []
    seen = set()
    with (SEEDS_DIR / "yunnan_counties.csv").open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["prefecture_code"] not in seen:
                seen.add(r["prefecture_code"])
                rows.append((r["prefecture_code"], "prefecture", r["prefecture_name_zh"], PROVINCE_CODE))
            rows.append((r["county_code"], "county", r["county_name_zh"], r["prefecture_code"]))
    return rows


def check_row_security(tables: list[MartTable]) -> None:
    """Raise RowSecurityError unless every mart can be filtered as its rows require (issue 13 #6):
    a person-level mart (person_key / household_key / person_no / household_no) needs a region column,
    a restricted list (county_roles_only) needs county_code, and the publishing rule must be known —
    a typo in it must not publish a restricted list to every reader."""
    for table in tables:
        if table.publish not in PUBLISH_RULES:
            raise RowSecurityError(
                f"marts.{table.name}: unknown meta {PUBLISH_META_KEY}: {table.publish!r} in its dbt yml "
                f"(known: {', '.join(PUBLISH_RULES)}): not published")
        if table.is_person_level and not table.region_columns:
            raise RowSecurityError(
                f"marts.{table.name} holds rows of single people or households but has none of the region "
                f"columns {list(REGION_COLUMNS)}: row-level security could not filter it, so nothing is "
                "published. Add county_code and prefecture_code to the model.")
        if table.restricted and "county_code" not in {c.name for c in table.columns}:
            raise RowSecurityError(
                f"marts.{table.name} is {PUBLISH_COUNTY_ROLES_ONLY} but has no county_code column for the "
                "county roles' row-level security: not published")


# ---------------------------------------------------------------------------------------------------
# Chinese values in the marts_zh views (SPEC §2.2)

CODE_LABELS_SEED = "code_labels.csv"
KPI_TARGETS_SEED = "kpi_targets.csv"
KPI_CODE_COLUMN = "kpi_code"


@functools.lru_cache(maxsize=4)
def _code_labels(seeds_dir: Path, mtimes: tuple[int, ...]) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    path = seeds_dir / CODE_LABELS_SEED
    if path.exists():
        with path.open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                labels.setdefault(r["code_type"], {})[r["code"]] = r["label_zh"]
    path = seeds_dir / KPI_TARGETS_SEED
    if path.exists():
        with path.open(encoding="utf-8") as f:
            labels[KPI_CODE_COLUMN] = {r["kpi_code"]: r["kpi_label_zh"]
                                       for r in csv.DictReader(f) if r.get("kpi_label_zh")}
    return labels


def code_labels(seeds_dir: Path = SEEDS_DIR) -> dict[str, dict[str, str]]:
    """Mart column name -> {code: Chinese label}, from seeds/code_labels.csv (code_type = column name:
    status, progress_status, region_level …) and kpi_code -> kpi_label_zh from seeds/kpi_targets.csv.
    The seeds are the one definition; dbt loads the same files into schema reference."""
    mtimes = tuple(p.stat().st_mtime_ns if p.exists() else 0
                   for p in (seeds_dir / CODE_LABELS_SEED, seeds_dir / KPI_TARGETS_SEED))
    return _code_labels(seeds_dir, mtimes)


def zh_view_columns(table: MartTable, labels: dict[str, dict[str, str]] | None = None,
                    ) -> list[tuple[MartColumn, dict[str, str] | None]]:
    """The columns of a table's marts_zh view, each with the code -> label map its values are shown
    through (None: shown as stored), so no English code is a value in a Chinese view. kpi_code shows
    the KPI's Chinese name (the view keeps its columns, so dashboards built on it keep working). A code
    without a label stays as stored: visible, so a missing label is caught by the tests, not hidden."""
    labels = code_labels() if labels is None else labels
    return [(c, (labels.get(c.name) or None) if c.duckdb_type == "VARCHAR" else None) for c in table.columns]
