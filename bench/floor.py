"""(a) The floor: read every source of the landing dir into DuckDB tables of a fresh database file, and
nothing else — no header mapping, no trimming, no rules, no hashing.

Readers, each the fastest available here: CSV through DuckDB's native parallel ``read_csv``
(GB18030 files are first transcoded to UTF-8 in 16 MiB chunks, as DuckDB reads UTF-8 only and its
encodings extension cannot be downloaded here); xlsx through python-calamine into Arrow, then DuckDB
(DuckDB's excel extension cannot be downloaded here); the HR platform's SQLite file through Python's
sqlite3 in 100,000-row chunks into Arrow, then DuckDB (the sqlite extension cannot be downloaded
either).

Run: ``python -m bench.floor --landing DIR --db FILE --json OUT``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dagster_project.ingest.readers import detect_encoding, transcode_to_utf8


def _csv(con: duckdb.DuckDBPyConnection, path: Path, table: str, tmp: Path) -> None:
    # The loader's own encoding sniffing and GB18030 -> UTF-8 transcoding (DuckDB reads UTF-8 only).
    encoding = detect_encoding(path)
    source = path if encoding in ("utf-8", "utf-8-sig") else transcode_to_utf8(path, encoding, tmp)
    con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_csv(?, header = true, all_varchar = true)',
                [str(source)])


def _xlsx(con: duckdb.DuckDBPyConnection, path: Path, table: str) -> None:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    header = [str(h) for h in rows[0]]
    columns = list(zip(*rows[1:], strict=True)) if len(rows) > 1 else [() for _ in header]
    arrow = pa.table({f"c{i}": pa.array([None if v in ("", None) else str(v) for v in col], pa.string())
                      for i, col in enumerate(columns)})
    arrow = arrow.rename_columns(header)
    con.register("_frame", arrow)
    con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _frame')
    con.unregister("_frame")


def _arrow(values: tuple) -> pa.Array:
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        array = None
    if array is None or pa.types.is_null(array.type):
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    return array


def _sqlite(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = 0
    try:
        tables = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in tables:
            cur = src.execute(f'SELECT * FROM "{name}"')
            names = [d[0] for d in cur.description]
            first = True
            while chunk := cur.fetchmany(100_000):
                cols = list(zip(*chunk, strict=True))
                arrow = pa.table({n: _arrow(c) for n, c in zip(names, cols, strict=True)})
                con.register("_chunk", arrow)
                if first:
                    con.execute(f'CREATE TABLE "hr_{name}" AS SELECT * FROM _chunk')
                    first = False
                else:
                    con.execute(f'INSERT INTO "hr_{name}" SELECT * FROM _chunk')
                con.unregister("_chunk")
                rows += len(chunk)
    finally:
        src.close()
    return rows


def read_all(landing: Path, db: Path) -> dict:
    seconds = {"monitoring": 0.0, "relief": 0.0, "hr": 0.0}
    rows = {}
    con = duckdb.connect(str(db))
    with tempfile.TemporaryDirectory(prefix="zengshou-floor-") as tmp:
        files = sorted((landing / "monitoring").glob("*/*.*")) + sorted((landing / "relief").glob("*/*.*"))
        for path in files:
            if path.suffix.lower() not in (".csv", ".xlsx", ".xlsm"):
                continue
            kind = "monitoring" if "monitoring" in path.parts else "relief"
            table = f"{kind}_{path.parent.name}_{path.stem}".replace("-", "_")
            t = time.perf_counter()
            if path.suffix.lower() == ".csv":
                _csv(con, path, table, Path(tmp))
            else:
                _xlsx(con, path, table)
            con.execute("CHECKPOINT")
            seconds[kind] += time.perf_counter() - t
            rows[str(path.relative_to(landing))] = con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]
    hr = landing / "hr_platform.sqlite"
    if hr.exists():
        t = time.perf_counter()
        rows["hr_platform.sqlite"] = _sqlite(con, hr)
        con.execute("CHECKPOINT")
        seconds["hr"] += time.perf_counter() - t
    con.close()
    return {"seconds": {k: round(v, 3) for k, v in seconds.items()}, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.db.unlink(missing_ok=True)
    result = read_all(args.landing, args.db)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
