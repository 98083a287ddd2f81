"""The row-security proof shared by the serving tests (hand-made marts) and the HR known-answer suite
(the real dbt marts): log in as a reader, read EVERY table and view of marts and marts_zh, and check
each visible row's region against the role's region set — and that the role sees exactly the rows of
its region the publisher (the owner, who bypasses row-level security) counts there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg2
from psycopg2 import sql

from dagster_project.serving.catalog import MartTable, read_marts


@dataclass(frozen=True)
class Reach:
    """What a role may see: None = every row; else the allowed codes per region column. A table with
    none of the role's filterable columns is invisible (``needs`` lists the columns it must have)."""

    codes: dict[str, set[str]] | None
    needs: tuple[str, ...] = ()
    restricted: bool = True          # may read restricted lists (county_roles_only)

    def allows(self, row: dict[str, str | None]) -> bool:
        if self.codes is None:
            return True
        if self.needs and not any(c in row for c in self.needs):
            return False
        return all(value is not None and value in self.codes[col] for col, value in row.items())


def analyst() -> Reach:
    return Reach(None, restricted=False)


def province() -> Reach:
    return Reach(None)


def prefecture(code: str, counties: set[str]) -> Reach:
    return Reach({"region_code": {code, *counties}, "prefecture_code": {code}, "county_code": set(counties)})


def county(code: str, prefecture_code: str) -> Reach:
    return Reach({"region_code": {code}, "prefecture_code": {prefecture_code}, "county_code": {code}},
                 needs=("region_code", "county_code"))


def published_marts(warehouse: Path) -> dict[str, MartTable]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t.name: t for t in read_marts(con)}
    finally:
        con.close()


def _relations(conn) -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname IN ('marts', 'marts_zh') AND c.relkind IN ('r', 'v', 'm') ORDER BY 1, 2")
        return cur.fetchall()


def _region_select(schema: str, table: MartTable) -> tuple[sql.Composable, list[str]]:
    """SELECT of the relation's region columns (Chinese labels in marts_zh), and their English names."""
    names = list(table.region_columns)
    label = {c.name: c.label_zh for c in table.columns}
    cols = [sql.Identifier(label[n] if schema == "marts_zh" else n) for n in names]
    select = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(cols) if cols else sql.SQL("1"),
                                                  sql.Identifier(schema, table.name))
    return select, names


def assert_sees_only_its_region(owner, reader, reach: Reach, marts: dict[str, MartTable]) -> dict[str, int]:
    """For every relation of marts / marts_zh: the reader sees exactly the rows ``reach`` allows, none
    of another region. Returns relation -> rows the reader saw (for known-answer checks on top)."""
    seen: dict[str, int] = {}
    relations = _relations(owner)
    assert {n for _, n in relations} == set(marts), "a published relation is not a mart, or one is missing"
    for schema, name in relations:
        table = marts[name]
        select, names = _region_select(schema, table)
        with owner.cursor() as cur:
            cur.execute(select)
            # A table without a region column is readable in full by every reader (never a person-level one).
            expected = [r for r in cur.fetchall() if not names or reach.allows(dict(zip(names, r, strict=True)))]
        where = f"{schema}.{name}"
        if table.restricted and not reach.restricted:
            with reader.cursor() as cur:
                try:
                    cur.execute(select)
                except psycopg2.errors.InsufficientPrivilege:
                    reader.rollback()
                    seen[where] = 0
                    continue
            raise AssertionError(f"{where} is a restricted list, yet this role may read it")
        if not names:
            assert not table.is_person_level, f"{where} is person-level and has no region column"
        with reader.cursor() as cur:
            cur.execute(select)
            visible = cur.fetchall()
        leaked = [r for r in visible if not reach.allows(dict(zip(names, r, strict=True)))] if names else []
        assert not leaked, f"{where}: rows of another region are visible: {leaked[:5]}"
        assert sorted(visible, key=repr) == sorted(expected, key=repr), f"{where}: not exactly the role's rows"
        seen[where] = len(visible)
    return seen


__all__ = ["Reach", "analyst", "assert_sees_only_its_region", "county", "prefecture",
           "province", "published_marts"]
