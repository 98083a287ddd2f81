"""Read one exported file (CSV in any of the encodings the national system emits, or xlsx) into a
DuckDB table of VARCHAR columns, with headers normalised and every data row numbered.

CSV goes through DuckDB's native reader. DuckDB reads only UTF-8 natively (the extension that reads
GBK is downloaded at run time, which this network does not allow), so GB18030/GBK files are transcoded
to a temporary UTF-8 file in large chunks first — still no Python work per row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import itertools
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.source_shapes import EXCEL_NUMERIC_ID, ID_NUMBER_COLUMNS, canonical_map, normalise_header

_CHUNK = 16 * 1024 * 1024
_SNIFF = 4 * 1024 * 1024
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls")


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
    header_row: int = 1                     # 1-based line / sheet row of the header (title rows above it)
    delimiter: str | None = None            # CSV only: the field separator found
    duplicate_columns: list[str] = field(default_factory=list)  # headers that name two columns

    @property
    def delimiter_name(self) -> str | None:
        return _DELIMITER_NAMES.get(self.delimiter, self.delimiter) if self.delimiter else None


@dataclass(frozen=True)
class FileStamp:
    """What says, without reading it, that a file still has the content it had: size, modification and
    status-change times (ns), inode and device. Writing to a file, or putting another file in its place
    (a copy, a rename over it), changes its ctime — which no tool can set back, unlike the mtime that
    ``cp -p``, ``rsync -a`` or unzip restore — so a file whose stamp is unchanged is not read again: the
    sensors' cursors and ``meta.file_hashes`` (`zengshou run`) keep each file's hash under its stamp."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


@dataclass(frozen=True)
class HashedFile:
    """A file's sha256 and the stamp it had when read (None: it changed while it was read)."""

    stamp: FileStamp | None
    sha256: str


_SHA_CACHE: dict[FileStamp, str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's content. A run asks twice per file (is it new? which batch is it?), so the
    digest is remembered for the same file (its stamp) in this process."""
    key = FileStamp.of(path)
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


def hash_file(path: Path, known: HashedFile | None = None,
              sha256: Callable[[Path], str] = file_sha256) -> HashedFile:
    """The file's sha256 with its stamp: ``known`` (what was recorded for this path) when the file's stamp
    is the one recorded there, else read with ``sha256``. Without this every `zengshou run` read every
    export ever landed — at province scale ≈ 3.5 GB a month, 6.5 s a month of history (0.54 GB/s
    measured), so month 60 would spend 6 minutes hashing files that had not changed."""
    before = FileStamp.of(path)
    if known is not None and known.stamp == before:
        return known
    digest = sha256(path)
    return HashedFile(before if FileStamp.of(path) == before else None, digest)


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
    """Spreadsheet cell -> the text the export meant (a whole number typed as a number: its digits)."""
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


def _is_number_cell(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_as_excel_shows(value: int | float) -> str:
    """A number cell in an ID column, written as the 15 significant digits Excel kept (e.g.
    5.30627199101019e+17): the digits it lost are gone, and the text must not look like a real ID."""
    return format(float(value), ".15g")


# Title rows (「XX县脱贫人口信息表」, an export date) may stand above the header: it is looked for in
# the first rows, as the row naming the most known headers, with each delimiter exports use.
HEADER_SCAN_ROWS = 10
_DELIMITERS = (",", "\t", ";", "|")
_DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}


def _header_score(cells: list[str], lookup: dict[str, str]) -> int:
    return len({lookup[n] for c in cells if (n := normalise_header(c)) in lookup})


def _best_header_row(rows: list[list[str]], lookup: dict[str, str]) -> int:
    """Index of the row that names the most known headers (the first such row); 0 when none does."""
    scores = [_header_score(r, lookup) for r in rows[:HEADER_SCAN_ROWS]]
    return scores.index(max(scores)) if scores and max(scores) > 0 else 0


def _text_column(values: tuple[object, ...]) -> pa.Array:
    """One sheet column -> Arrow text. Most columns are text cells only (an empty cell is ""), which
    Arrow takes as they are; a column holding numbers or dates goes through ``_cell_text`` cell by cell."""
    if all(type(v) is str for v in values):
        return pa.array(values, pa.string())
    return pa.array([_cell_text(v) for v in values], pa.string())


def _load_sheet(con: duckdb.DuckDBPyConnection, path: Path, staging: str,
                lookup: dict[str, str]) -> tuple[list[str], int]:
    """xlsx / xlsm / xls (calamine reads the old BIFF format too) -> staging columns c0..cN.
    Returns (headers as exported, 1-based sheet row of the header). Built column by column into Arrow:
    a county's households sheet (92k rows) cell by cell through pandas took ≈ 2 s on top of calamine's
    own parse."""
    from python_calamine import CalamineWorkbook

    kind = path.suffix.lower().lstrip(".")
    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken archives
        raise UnreadableFile(f"{path.name}: not a readable {kind} workbook ({exc})") from exc
    if not rows:
        raise UnreadableFile(f"{path.name}: the workbook's first sheet is empty")
    at = _best_header_row([[_cell_text(v) or "" for v in r] for r in rows[:HEADER_SCAN_ROWS]], lookup)
    header = [_cell_text(h) or "" for h in rows[at]]
    body = rows[at + 1:]
    columns = list(itertools.zip_longest(*body, fillvalue=None))[:len(header)] if body else []
    columns += [(None,) * len(body)] * (len(header) - len(columns))
    id_cols = {i for i, h in enumerate(header) if lookup.get(normalise_header(h)) in ID_NUMBER_COLUMNS}
    numeric_id = [False] * len(body)
    for i in id_cols:
        if all(type(v) is str for v in columns[i]):
            continue
        cells = list(columns[i])
        for row, value in enumerate(cells):
            if _is_number_cell(value):
                cells[row], numeric_id[row] = _number_as_excel_shows(value), True
        columns[i] = tuple(cells)
    frame = pa.table({**{f"c{i}": _text_column(col) for i, col in enumerate(columns)},
                      EXCEL_NUMERIC_ID: pa.array(numeric_id, pa.bool_())})
    con.register("_sheet_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {staging} AS SELECT * FROM _sheet_frame")
    finally:
        con.unregister("_sheet_frame")
    return header, at + 1


@dataclass
class CsvLayout:
    """Where the header of a CSV export is and how its fields are separated."""

    delimiter: str
    header_row: int        # 1-based line of the header (title lines above it are skipped)
    lines_through_header: int  # physical lines up to and including the header
    headers: list[str]


def _lines(text: str) -> list[str]:
    return [ln for ln in re.split(r"(?<=\n)", text) if ln]


def sniff_csv_layout(utf8_path: Path, lookup: dict[str, str]) -> CsvLayout:
    """Delimiter and header row of a UTF-8 CSV: of every (delimiter, row among the first rows), the one
    whose fields name the most known headers; comma and the first row when nothing matches."""
    with utf8_path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        text = fh.read(1024 * 1024)
    lines = _lines(text)
    best: tuple[int, int, int, CsvLayout] | None = None
    for rank, delim in enumerate(_DELIMITERS):
        reader = csv.reader(iter(lines), delimiter=delim)
        for index in range(HEADER_SCAN_ROWS):
            before = reader.line_num
            try:
                row = next(reader)
            except (StopIteration, csv.Error):
                break
            score = _header_score(row, lookup)
            key = (score, -rank, -index)
            if best is None or key > best[:3]:
                best = (*key, CsvLayout(delim, before + 1, reader.line_num, row))
    if best is None or (best[0] == 0 and best[3].delimiter != ","):
        reader = csv.reader(iter(lines))
        row = next(reader, None)
        if row is None:
            raise UnreadableFile(f"{utf8_path.name}: no header row")
        return CsvLayout(",", 1, reader.line_num, row)
    return best[3]


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, staging: str, tmp: Path,
              lookup: dict[str, str]) -> tuple[str, list, CsvLayout]:
    """Rows with a field count other than the header's are not padded or truncated: DuckDB rejects
    them and they are quarantined as malformed (a file cut off mid-copy ends in such a row)."""
    encoding = detect_encoding(path)
    source = path if encoding in ("utf-8", "utf-8-sig") else transcode_to_utf8(path, encoding, tmp)
    layout = sniff_csv_layout(source, lookup)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(layout.headers))) + "}"
    delim = layout.delimiter.replace("'", "''")
    try:
        con.execute(
            f"""CREATE OR REPLACE TABLE {staging} AS SELECT * FROM read_csv(?, header = false,
                skip = {layout.lines_through_header}, columns = {columns}, auto_detect = false,
                delim = '{delim}', quote = '"', escape = '"', null_padding = false,
                store_rejects = true, rejects_scan = '_rejects_scan', rejects_table = '_rejects_errors',
                max_line_size = 10000000, encoding = 'utf-8')""",
            [str(source)],
        )
    except duckdb.Error as exc:
        raise UnreadableFile(f"{path.name}: {str(exc).splitlines()[0]}") from exc
    # DuckDB numbers a rejected line from the top of the file: data row = line - lines through the header.
    malformed = [(int(line) - layout.lines_through_header, str(text).strip("\r\n")) for line, text in con.execute(
        "SELECT line, csv_line FROM _rejects_errors ORDER BY line").fetchall()]
    con.execute("DROP TABLE IF EXISTS _rejects_errors; DROP TABLE IF EXISTS _rejects_scan")
    return encoding, malformed, layout


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


def _duplicates(headers: list[str]) -> list[str]:
    """Headers (after normalising width and spaces) that name more than one column, with positions."""
    where: dict[str, list[int]] = {}
    for i, h in enumerate(headers):
        if (n := normalise_header(h)) != "":
            where.setdefault(n, []).append(i + 1)
    return [f"{headers[cols[0] - 1].strip()}（第{'、'.join(map(str, cols))}列）"
            for n, cols in where.items() if len(cols) > 1]


def stage_source_file(
    con: duckdb.DuckDBPyConnection, path: Path, shape: dict[str, str], table: str
) -> StagedRead:
    """Parse ``path`` into a staging table and return the query that shapes its rows into ``table``'s
    columns (see ``read_source_file``); ``read.table`` is the name the shaped rows are meant for."""
    staging = f"{table}__file"
    lookup = canonical_map(shape)
    with tempfile.TemporaryDirectory(prefix="zengshou-read-") as tmp:
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            encoding, malformed, delimiter = path.suffix.lower().lstrip("."), [], None
            headers, header_row = _load_sheet(con, path, staging, lookup)
        else:
            encoding, malformed, layout = _load_csv(con, path, staging, Path(tmp), lookup)
            headers, header_row, delimiter = layout.headers, layout.header_row, layout.delimiter
    if not any(h.strip() for h in headers):
        con.execute(f"DROP TABLE IF EXISTS {staging}")
        raise UnreadableFile(f"{path.name}: no header row")
    staged_cols = {r[0] for r in con.execute(f"DESCRIBE {staging}").fetchall()}
    selects, found, extras = [_source_row_expr(malformed)], [], []
    selects.append(EXCEL_NUMERIC_ID if EXCEL_NUMERIC_ID in staged_cols
                   else f"CAST(NULL AS BOOLEAN) AS {EXCEL_NUMERIC_ID}")
    aliases: dict[str, str] = {}
    for i, header in enumerate(headers):
        label = header if header.strip() else f"column{i}"
        raw = lookup.get(normalise_header(label))
        if raw and raw not in found:
            found.append(raw)
            alias = raw
        else:
            extras.append(label)
            alias = "extra:" + label.replace('"', "")
            if alias in aliases:  # a repeated header (the batch is refused for it): keep both values
                alias = f"{alias}#{i + 1}"
        aliases[alias] = label
        selects.append(f'NULLIF(TRIM(c{i}), \'\') AS "{alias}"')
    missing = [h for h, raw in shape.items() if raw not in found]
    rows = con.execute(f"SELECT count(*) FROM {staging}").fetchone()[0]
    # Lines DuckDB could not parse are rows too: they are counted and quarantined, never lost.
    read = ReadResult(table, encoding, rows + len(malformed), found, missing, extras, malformed, aliases,
                      header_row=header_row, delimiter=delimiter, duplicate_columns=_duplicates(headers))
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
