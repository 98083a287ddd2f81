"""Read one exported file (CSV in any of the encodings the national system emits, or xlsx) into a
DuckDB table of VARCHAR columns, with headers normalised and every data row numbered.

CSV goes through DuckDB's native reader. DuckDB reads only UTF-8 natively (the extension that reads
GBK is downloaded at run time, which this network does not allow), so GB18030/GBK files are transcoded
to a temporary UTF-8 file in large chunks first — still no Python work per row.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.source_shapes import canonical_map, normalise_header

_CHUNK = 16 * 1024 * 1024
_SNIFF = 4 * 1024 * 1024


class UnreadableFile(Exception):
    """The file cannot be decoded or parsed at all: the batch is blocked with this reason."""


@dataclass
class ReadResult:
    """What was read: the table name holds columns ``source_row`` + raw column names + extras."""

    table: str
    encoding: str
    rows_read: int
    columns: list[str]                      # raw column names found
    missing_columns: list[str]              # canonical headers required but absent
    extra_columns: list[str]                # original headers not in the source shape
    malformed_rows: list[tuple[int, str]] = field(default_factory=list)  # (source_row, line) DuckDB rejected
    headers: dict[str, str] = field(default_factory=dict)  # column in `table` -> header as exported


_SHA_CACHE: dict[tuple, str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's content. A run asks twice per file (is it new? which batch is it?), so the
    digest is remembered for the same file (device, inode, size, modification time in ns)."""
    st = path.stat()
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key in _SHA_CACHE:
        return _SHA_CACHE[key]
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    if len(_SHA_CACHE) > 4096:
        _SHA_CACHE.clear()
    _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def detect_encoding(path: Path) -> str:
    """Return 'utf-8-sig', 'utf-8' or 'gb18030' from the file's first bytes.

    GB18030 decodes any byte sequence, so UTF-8 is tried first; a UTF-8 sample that fails to decode
    (outside a cut multi-byte tail) means a GBK-family export.
    """
    with path.open("rb") as fh:
        sample = fh.read(_SNIFF)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name}: neither UTF-8 nor GB18030 ({exc.reason})") from exc
    return "gb18030"


def transcode_to_utf8(path: Path, encoding: str, out_dir: Path) -> Path:
    """A UTF-8 copy of a GB18030 export in out_dir (DuckDB's read_csv reads UTF-8 only), 16 MiB at a time."""
    target = out_dir / (path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as src, target.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name}: not valid {encoding} ({exc.reason} at byte {exc.start})") from exc
    return target


def _cell_text(value: object) -> str | None:
    """Spreadsheet cell -> the text the export meant (IDs typed as numbers keep every digit)."""
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value)
    return text


def _load_xlsx(con: duckdb.DuckDBPyConnection, path: Path, staging: str) -> list[str]:
    from python_calamine import CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken archives
        raise UnreadableFile(f"{path.name}: not a readable xlsx workbook ({exc})") from exc
    if not rows:
        raise UnreadableFile(f"{path.name}: the workbook's first sheet is empty")
    header = [str(h) if h not in (None, "") else f"column{i}" for i, h in enumerate(rows[0])]
    body = [[_cell_text(v) for v in r] for r in rows[1:]]
    frame = pd.DataFrame(body, columns=_dedupe(header), dtype=object)
    con.register("_xlsx_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {staging} AS SELECT * FROM _xlsx_frame")
    finally:
        con.unregister("_xlsx_frame")
    return header


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}_{n}")
    return out


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, staging: str, tmp: Path) -> tuple[str, list]:
    encoding = detect_encoding(path)
    source = path if encoding in ("utf-8", "utf-8-sig") else transcode_to_utf8(path, encoding, tmp)
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE {staging} AS SELECT * FROM read_csv(?, header = true,
                all_varchar = true, delim = ',', quote = '"', escape = '"', null_padding = true,
                store_rejects = true, rejects_scan = '_rejects_scan', rejects_table = '_rejects_errors',
                max_line_size = 10000000, encoding = 'utf-8')""",
            [str(source)],
        )
    except duckdb.Error as exc:
        raise UnreadableFile(f"{path.name}: {str(exc).splitlines()[0]}") from exc
    malformed = con.execute(
        "SELECT line - 1, csv_line FROM _rejects_errors ORDER BY line"
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS _rejects_errors; DROP TABLE IF EXISTS _rejects_scan")
    return encoding, malformed


def _source_row_expr(malformed: list[tuple[int, str]]) -> str:
    """1-based data row of each parsed row, skipping the rows DuckDB rejected as malformed.

    With rejected data rows m_1 < … < m_k, the r-th parsed row is data row r + #{i : m_i - i < r}.
    """
    if not malformed:
        return "CAST(rowid + 1 AS BIGINT) AS source_row"
    shifts = ", ".join(str(m - i) for i, (m, _) in enumerate(sorted(malformed), start=1))
    return (f"CAST(rowid + 1 + len(list_filter([{shifts}], lambda s: s < rowid + 1)) AS BIGINT)"
            " AS source_row")


@dataclass
class StagedRead:
    """A file parsed into a staging table, not yet shaped: ``select_sql`` selects the shaped rows
    (``source_row`` + raw column names + extras) from ``staging``. Callers that go on transforming the
    rows use the query in their own statement instead of materialising one more full copy; they must
    drop ``staging`` afterwards."""

    read: ReadResult
    select_sql: str
    staging: str


def stage_source_file(
    con: duckdb.DuckDBPyConnection, path: Path, shape: dict[str, str], table: str
) -> StagedRead:
    """Parse ``path`` into a staging table and return the query that shapes its rows into ``table``'s
    columns (see ``read_source_file``); ``read.table`` is the name the shaped rows are meant for."""
    staging = f"{table}__file"
    with tempfile.TemporaryDirectory(prefix="zengshou-read-") as tmp:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            encoding, malformed = "xlsx", []
            original = _load_xlsx(con, path, staging)
        else:
            encoding, malformed = _load_csv(con, path, staging, Path(tmp))
        file_columns = [r[0] for r in con.execute(f"DESCRIBE {staging}").fetchall()]
    if not file_columns:
        con.execute(f"DROP TABLE IF EXISTS {staging}")
        raise UnreadableFile(f"{path.name}: no header row")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        file_columns = _dedupe(original)
    lookup = canonical_map(shape)
    selects, found, extras = [_source_row_expr(malformed)], [], []
    headers: dict[str, str] = {}
    for col in file_columns:
        raw = lookup.get(normalise_header(col))
        quoted = '"' + col.replace('"', '""') + '"'
        if raw and raw not in found:
            found.append(raw)
            headers[raw] = col
            selects.append(f"NULLIF(TRIM({quoted}), '') AS {raw}")
        else:
            extras.append(col)
            alias = "extra:" + col.replace('"', "")
            headers[alias] = col
            selects.append(f'NULLIF(TRIM({quoted}), \'\') AS "{alias}"')
    missing = [h for h, raw in shape.items() if raw not in found]
    rows = con.execute(f"SELECT count(*) FROM {staging}").fetchone()[0]
    # Lines DuckDB could not parse are rows too: they are counted and quarantined, never lost.
    read = ReadResult(table, encoding, rows + len(malformed), found, missing, extras, malformed, headers)
    return StagedRead(read, f"SELECT {', '.join(selects)} FROM {staging}", staging)


def read_source_file(
    con: duckdb.DuckDBPyConnection, path: Path, shape: dict[str, str], table: str
) -> ReadResult:
    """Read ``path`` into ``table`` with raw column names from ``shape`` and a 1-based ``source_row``.

    Unknown headers are kept as columns named by their original header (their values are folded into
    ``extra_fields`` by the loader). Required headers that are absent are reported, not invented.
    """
    staged = stage_source_file(con, path, shape, table)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {staged.select_sql}")
    con.execute(f"DROP TABLE {staged.staging}")
    return staged.read
