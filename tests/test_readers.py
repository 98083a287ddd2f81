"""File reading: every encoding and layout the national system emits yields the same table; files that
cannot be read are refused with a reason; lines DuckDB cannot parse are counted, never dropped."""

import csv
import io
from pathlib import Path

import duckdb
import openpyxl
import pytest

from dagster_project.ingest.readers import UnreadableFile, detect_encoding, read_source_file
from dagster_project.source_shapes import RELIEF_COLUMNS

HEADERS = list(RELIEF_COLUMNS)  # 12 canonical headers with full-width parentheses
ROWS = [
    ["2023", "XM-001", "村组道路硬化（以工代赈）", "昆明市", "五华区", "中央预算内投资", "100", "31.5", "40", "25",
     "2023-03-01", ""],
    ["2023", "XM-002", "灌溉水渠", "曲靖市", "宣威市", "中央财政衔接推进乡村振兴补助资金", "80", "12", "30", "20",
     "2023-04-10", "2023-09-30"],
]


def _csv_bytes(headers: list[str], rows: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def _read(path: Path) -> tuple[list[tuple], object]:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA landing")
    result = read_source_file(con, path, RELIEF_COLUMNS, "landing.t")
    cols = ", ".join(["source_row", *RELIEF_COLUMNS.values()])
    return con.execute(f"SELECT {cols} FROM landing.t ORDER BY source_row").fetchall(), result


EXPECTED = [(i + 1, *[v or None for v in row]) for i, row in enumerate(ROWS)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_read_the_same(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "2023-06.csv"
    path.write_bytes(_csv_bytes(HEADERS, ROWS, encoding))
    rows, result = _read(path)
    assert rows == EXPECTED
    assert result.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    assert result.rows_read == 2 and not result.missing_columns and not result.extra_columns


def test_xlsx_reads_the_same_and_keeps_long_numbers_as_text(tmp_path: Path) -> None:
    path = tmp_path / "2023-06.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for row in ROWS:
        # Spreadsheet exports often store amounts as numbers: 100 -> "100", 31.5 -> "31.5".
        ws.append([float(v) if v.replace(".", "").isdigit() and "-" not in v else v for v in row])
    wb.save(path)
    rows, result = _read(path)
    assert rows == EXPECTED
    assert result.encoding == "xlsx"


def test_drifting_headers_are_normalised_and_extras_kept(tmp_path: Path) -> None:
    # Half-width parentheses, stray spaces, a different order and an extra column.
    headers = [h.replace("（", "(").replace("）", ")") for h in HEADERS]
    headers[1] = " 项目编号 "
    order = list(reversed(range(len(headers))))
    path = tmp_path / "drift.csv"
    path.write_bytes(_csv_bytes([headers[i] for i in order] + ["备注"],
                                [[r[i] for i in order] + ["补录"] for r in ROWS], "utf-8"))
    rows, result = _read(path)
    assert rows == EXPECTED
    assert result.extra_columns == ["备注"]
    assert result.headers["central_funds_wan"] == "中央资金(万元)"  # the header as exported, for quarantine


def test_missing_column_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"
    keep = [i for i, h in enumerate(HEADERS) if h != "项目编号"]
    path.write_bytes(_csv_bytes([HEADERS[i] for i in keep], [[r[i] for i in keep] for r in ROWS], "utf-8"))
    con = duckdb.connect()
    con.execute("CREATE SCHEMA landing")
    result = read_source_file(con, path, RELIEF_COLUMNS, "landing.t")
    assert result.missing_columns == ["项目编号"]


def test_wrong_field_count_is_malformed_not_padded_or_kept(tmp_path: Path) -> None:
    """A row with one field too many, or one too few (a file cut off at a field boundary while being
    copied), is a malformed row with its data-row number and its line as written: never padded with an
    empty field, never an extra column. Rows read = rows parsed + rows malformed."""
    path = tmp_path / "surplus.csv"
    cut = ",".join(ROWS[1][:-1])  # 11 of 12 fields, no line end: the copy stopped here
    path.write_bytes(_csv_bytes(HEADERS, [ROWS[0], [*ROWS[1], "多余"], ROWS[0]], "utf-8") + cut.encode())
    rows, result = _read(path)
    assert [r[0] for r in rows] == [1, 3] and result.rows_read == 4
    assert result.extra_columns == []
    assert result.malformed_rows == [(2, ",".join([*ROWS[1], "多余"])), (4, cut)]


def test_undecodable_line_is_counted_with_its_row_number(tmp_path: Path) -> None:
    """A line DuckDB rejects (bytes that are not UTF-8, past the encoding sniff) is reported with its
    data-row number, and the rows after it keep theirs."""
    filler = [ROWS[0]] * 40_000  # > 4 MiB of valid UTF-8 before the bad line
    head = _csv_bytes(HEADERS, filler, "utf-8")
    bad = b"2023,XM-BAD,\xff\xfe\xfd,x,x,x,1,1,1,1,,\r\n"
    tail = _csv_bytes(HEADERS, [ROWS[1]], "utf-8").split(b"\r\n", 1)[1]
    path = tmp_path / "bad.csv"
    path.write_bytes(head + bad + tail)
    rows, result = _read(path)
    assert result.rows_read == 40_002  # 40,001 parsed + 1 rejected: nothing disappears
    assert [m[0] for m in result.malformed_rows] == [40_001]
    assert rows[-1][0] == 40_002 and rows[-1][2] == "XM-002"


def test_undecodable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x81\x30\xff\xfe\x00" * 200)  # neither UTF-8 nor GB18030
    with pytest.raises(UnreadableFile):
        detect_encoding(path)


def test_broken_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(UnreadableFile, match=r"broken\.xlsx"):
        _read(path)
