"""File writers for the landing dir: CSV in UTF-8, UTF-8 with BOM or GB18030, and xlsx.

CSV goes through Arrow's C++ writer (hundreds of MB/s); GB18030 is produced by transcoding the UTF-8
file in 16 MiB chunks, which keeps memory flat. xlsx uses xlsxwriter in constant_memory mode and
falls back to CSV when the sheet would exceed Excel's 1,048,576-row limit.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import xlsxwriter

XLSX_MAX_ROWS = 1_048_576
KINDS = ("utf-8-sig", "gb18030", "utf-8", "xlsx")
_CHUNK = 16 * 1024 * 1024


def write_table(table: pa.Table, stem: Path, kind: str) -> tuple[Path, str]:
    """Write `table` to stem.csv or stem.xlsx in the given kind; return (path, kind actually used)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    if kind == "xlsx" and table.num_rows + 1 > XLSX_MAX_ROWS:
        kind = "utf-8-sig"
    if kind == "xlsx":
        path = stem.with_suffix(".xlsx")
        _write_xlsx(table, path)
        return path, kind
    path = stem.with_suffix(".csv")
    if kind == "gb18030":
        tmp = path.with_suffix(".utf8.tmp")
        _write_csv(table, tmp, bom=False)
        _transcode(tmp, path, "gb18030")
        os.remove(tmp)
    else:
        _write_csv(table, path, bom=kind == "utf-8-sig")
    return path, kind


def _write_csv(table: pa.Table, path: Path, bom: bool) -> None:
    with pa.OSFile(str(path), "wb") as sink:
        if bom:
            sink.write(codecs.BOM_UTF8)
        pcsv.write_csv(table, sink, pcsv.WriteOptions(quoting_style="needed", batch_size=65536))


def _transcode(src: Path, dst: Path, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(_CHUNK):
            fout.write(decoder.decode(chunk).encode(encoding))
        fout.write(decoder.decode(b"", final=True).encode(encoding))


def _write_xlsx(table: pa.Table, path: Path, sheet: str = "Sheet1") -> None:
    """xlsxwriter writes cell by cell; constant_memory streams rows so memory stays flat."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet(sheet)
    ws.write_row(0, 0, table.column_names)
    row = 1
    for batch in table.to_batches(max_chunksize=50_000):
        cols = [c.to_pylist() for c in batch.columns]
        for values in zip(*cols, strict=True):
            ws.write_row(row, 0, values)
            row += 1
    wb.close()
