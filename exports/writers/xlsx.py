"""Excel .xlsx: one sheet per table plus the codebook, written in openpyxl's write-only
mode (rows stream to disk; memory stays flat)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from exports.codebook import codebook_rows
from exports.files import normalise_xlsx
from exports.tables import HIDDEN, stream_rows
from exports.variables import DATETIME, Table, neutralise_formula
from exports.writers import Progress, Written

MAX_ROWS = 1_048_575  # Excel's limit, less the header
FILE = "data/dataset.xlsx"
CODEBOOK_SHEET = "codebook"


def sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
    base, n = title, 1
    while title.lower() in used:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(title.lower())
    return title


def _naive_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def write_xlsx(tables: list[Table], folder: Path, progress: Progress) -> list[Written]:
    workbook = Workbook(write_only=True)
    fixed = datetime(2000, 1, 1)  # noqa: DTZ001 - a constant, not a moment
    workbook.properties.creator = "ALS eCRF"
    workbook.properties.created = fixed
    used: set[str] = set()
    rows: dict[str, int] = {}
    for table in tables:

        def new_sheet(part: int, table: Table = table):
            # A table longer than a sheet goes on in <name>~2, <name>~3, ...
            title = table.name if part == 1 else f"{table.name[:26]}~{part}"
            sheet = workbook.create_sheet(sheet_title(title, used))
            header = []
            for variable in table.variables:
                cell = WriteOnlyCell(sheet, value=variable.short)
                cell.font = Font(bold=True)
                header.append(cell)
            sheet.append(header)
            return sheet

        part = 1
        sheet = new_sheet(part)
        datetimes = [i for i, v in enumerate(table.variables) if v.kind == DATETIME]
        count = 0
        for row in stream_rows(table):
            values = list(row[HIDDEN:])
            for i in datetimes:
                values[i] = _naive_utc(values[i])
            values = [neutralise_formula(v) if isinstance(v, str) else v for v in values]
            if count and count % MAX_ROWS == 0:
                part += 1
                sheet = new_sheet(part)
            sheet.append(values)
            count += 1
            if count % 5000 == 0:
                progress(5000)
        progress(count % 5000)
        rows[table.name] = count
    sheet = workbook.create_sheet(CODEBOOK_SHEET)
    for line in codebook_rows(tables, header=True):
        sheet.append([neutralise_formula(cell) for cell in line])
    path = folder / FILE
    workbook.save(path)
    normalise_xlsx(path)
    return [Written(FILE, rows)]
