"""Hand-written landing dirs for the known-answer tests (SPEC §3).

Everything here is written from SPEC alone, from Python literals: monitoring-system monthly exports
(members / households, §3.1), work-for-relief ledgers (§3.3) and the HR platform database (§3.2, built
from ``dagster_project.hr_schema.metadata``). A ``FileStyle`` reproduces the export variations SPEC
names: UTF-8 with or without BOM, GB18030, xlsx, half-width parentheses, column order, extra columns.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.source_shapes import HOUSEHOLD_COLUMNS, MEMBER_COLUMNS, RELIEF_COLUMNS

# Canonical Chinese headers, in the order the national system exports them.
MEMBER_HEADERS: tuple[str, ...] = tuple(MEMBER_COLUMNS)
HOUSEHOLD_HEADERS: tuple[str, ...] = tuple(HOUSEHOLD_COLUMNS)
RELIEF_HEADERS: tuple[str, ...] = tuple(RELIEF_COLUMNS)

# ---------------------------------------------------------------------------------------------------
# GB 11643 resident ID numbers
# ---------------------------------------------------------------------------------------------------
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # index = (Σ digit × weight) mod 11


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return ID_CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def is_valid_id(id_number: str) -> bool:
    return (len(id_number) == 18 and id_number[:17].isdigit()
            and id_check_char(id_number[:17]) == id_number[17].upper())


def make_id(address_code: str, birth_yyyymmdd: str, seq: int) -> str:
    """A valid 18-character resident ID: address code (= county code) + birth date + 3-digit sequence
    (odd = male, even = female) + check character."""
    first17 = f"{address_code}{birth_yyyymmdd}{seq:03d}"
    return first17 + id_check_char(first17)


def break_checksum(id_number: str) -> str:
    """The same ID with a wrong check character."""
    good = id_check_char(id_number[:17])
    wrong = "1" if good != "1" else "2"
    return id_number[:17] + wrong


# ---------------------------------------------------------------------------------------------------
# File writing
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileStyle:
    """How one export file is written.

    fmt: "csv" or "xlsx". encoding (csv only): "utf-8", "utf-8-sig" (BOM) or "gb18030".
    order: "canonical", "reversed", "rotated" or an explicit header sequence (canonical names).
    extra_columns: header -> value added to every row (an unknown column the loader must keep aside).
    drop_columns: canonical headers left out (e.g. 证件号码, for a blocked batch).
    halfwidth_parens: write （） in headers as ().
    numeric_cells (xlsx only): headers whose values are written as numbers, not text.
    """

    fmt: str = "csv"
    encoding: str = "utf-8"
    order: str | Sequence[str] = "canonical"
    extra_columns: Mapping[str, str] = field(default_factory=dict)
    drop_columns: Sequence[str] = ()
    halfwidth_parens: bool = False
    numeric_cells: Sequence[str] = ()

    @property
    def suffix(self) -> str:
        return ".xlsx" if self.fmt == "xlsx" else ".csv"


UTF8 = FileStyle()


def _ordered(headers: Sequence[str], style: FileStyle) -> list[str]:
    headers = [h for h in headers if h not in set(style.drop_columns)]
    if isinstance(style.order, str):
        if style.order == "canonical":
            return headers
        if style.order == "reversed":
            return headers[::-1]
        if style.order == "rotated":
            k = len(headers) // 3
            return headers[k:] + headers[:k]
        raise ValueError(f"unknown order {style.order!r}")
    explicit = [h for h in style.order if h in headers]
    assert sorted(explicit) == sorted(headers), "explicit order must name every written header"
    return explicit


def _header_text(header: str, style: FileStyle) -> str:
    return header.replace("（", "(").replace("）", ")") if style.halfwidth_parens else header


def write_table(path_stem: Path, headers: Sequence[str], rows: Sequence[Mapping[str, str]],
                style: FileStyle = UTF8) -> Path:
    """Write rows (dicts keyed by canonical header, values str) to ``path_stem`` + style suffix.

    Returns the written path. Values are written exactly as given; missing keys are empty.
    """
    path = path_stem.with_suffix(style.suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    for other in (".csv", ".xlsx"):  # one file per stem: a rewrite in another format replaces it
        stale = path_stem.with_suffix(other)
        if stale != path and stale.exists():
            stale.unlink()
    cols = _ordered(headers, style)
    extra = list(style.extra_columns)
    out_headers = [_header_text(h, style) for h in cols] + extra
    table = [[str(r.get(h, "")) for h in cols] + [style.extra_columns[e] for e in extra] for r in rows]
    if style.fmt == "csv":
        with path.open("w", encoding=style.encoding, newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(out_headers)
            writer.writerows(table)
    elif style.fmt == "xlsx":
        from openpyxl import Workbook

        numeric = {i for i, h in enumerate(cols) if h in set(style.numeric_cells)}
        wb = Workbook()
        ws = wb.active
        ws.title = "Sheet1"
        ws.append(out_headers)
        for values in table:
            cells: list[object] = []
            for i, v in enumerate(values):
                if i in numeric and v != "":
                    num = float(v)
                    cells.append(int(num) if num.is_integer() else num)
                else:
                    cells.append(v)
            ws.append(cells)
        # Text cells stay text (an 18-digit ID must never become a number).
        for row in ws.iter_rows(min_row=2):
            for i, cell in enumerate(row):
                if i not in numeric:
                    cell.number_format = "@"
        wb.save(path)
    else:
        raise ValueError(f"unknown fmt {style.fmt!r}")
    return path


# ---------------------------------------------------------------------------------------------------
# Landing dir
# ---------------------------------------------------------------------------------------------------
class Landing:
    """A landing dir (``ZENGSHOU_LANDING_DIR``) written by hand."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def hr_db_path(self) -> Path:
        return self.root / "hr_platform.sqlite"

    @property
    def hr_db_url(self) -> str:
        return f"sqlite:///{self.hr_db_path.resolve()}"

    def month_dir(self, month: str) -> Path:
        return self.root / "monitoring" / month

    def write_members(self, month: str, rows: Sequence[Mapping[str, str]], style: FileStyle = UTF8) -> Path:
        return write_table(self.month_dir(month) / "members", MEMBER_HEADERS, rows, style)

    def write_households(self, month: str, rows: Sequence[Mapping[str, str]],
                         style: FileStyle = UTF8) -> Path:
        return write_table(self.month_dir(month) / "households", HOUSEHOLD_HEADERS, rows, style)

    def write_relief(self, year: int, name: str, rows: Sequence[Mapping[str, str]],
                     style: FileStyle = UTF8) -> Path:
        return write_table(self.root / "relief" / str(year) / name, RELIEF_HEADERS, rows, style)

    def write_hr_db(self, rows_by_table: Mapping[str, Sequence[Mapping[str, object]]] | None = None) -> Path:
        """Create the HR platform database from ``hr_schema.metadata`` (tables empty unless given)."""
        from sqlalchemy import create_engine

        from dagster_project.hr_schema import metadata

        if self.hr_db_path.exists():
            self.hr_db_path.unlink()
        engine = create_engine(self.hr_db_url)
        try:
            metadata.create_all(engine)
            with engine.begin() as conn:
                for table, rows in (rows_by_table or {}).items():
                    if rows:
                        conn.execute(metadata.tables[table].insert(), [dict(r) for r in rows])
        finally:
            engine.dispose()
        return self.hr_db_path


def first_of_month(month: str) -> dt.date:
    y, m = month.split("-")
    return dt.date(int(y), int(m), 1)
