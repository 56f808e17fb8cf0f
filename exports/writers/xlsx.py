"""Excel .xlsx: one sheet per table plus the codebook.

The workbook is written here, part by part, straight into its zip: the package parts
([Content_Types].xml, the workbook, its relationships, the styles, the document
properties) are small fixed texts, and each sheet's rows stream from the table's query
into the sheet's zip entry as SpreadsheetML `<row>` elements, a block of rows at a
time. Memory stays flat whatever the study's size, and the cost per cell is one
formatted string: a general-purpose writer (openpyxl's write-only mode, XlsxWriter's
constant_memory mode) spends several times more per cell on objects and checks that a
table of plain values does not need (benchmarks/export_study.py).

What the sheets hold, and how a reader sees it (openpyxl, pandas, Excel, LibreOffice):
- row 1: the variable names, bold; then one row per record, in query order;
- numbers as numbers, booleans as TRUE/FALSE, text as inline strings (no shared-string
  table to keep in memory), text that starts like a formula quoted (`neutralise_formula`);
- dates as date serials formatted yyyy-mm-dd, moments in UTC (no time zone in Excel)
  formatted yyyy-mm-dd h:mm:ss; an empty value is an absent cell;
- characters XML 1.0 cannot carry (control characters) as Excel's _xHHHH_ escapes, a
  carriage return as a character reference;
- a table longer than a sheet goes on in the sheet <name>~2, <name>~3, ...

The file is deterministic: fixed zip entry dates and a fixed creation date.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from exports.codebook import codebook_rows
from exports.files import zip_info
from exports.tables import HIDDEN, stream_rows
from exports.variables import Table, neutralise_formula
from exports.writers import Progress, Written

MAX_ROWS = 1_048_575  # Excel's limit, less the header
MAX_COLUMNS = 16_384
FILE = "data/dataset.xlsx"
CODEBOOK_SHEET = "codebook"
COMPRESS_LEVEL = 1  # sheets of repetitive XML: level 1 is ~3x faster than 6, ~20 % larger
BLOCK_ROWS = 500  # rows formatted before one write to the zip entry
CREATED = "2000-01-01T00:00:00Z"

# Cell styles (indexes into cellXfs of STYLES): the header's bold, dates, moments.
BOLD, DATE_STYLE, DATETIME_STYLE = 1, 2, 3

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"

STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
SHEET_START = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}">'
    "<sheetData>"
)
SHEET_END = "</sheetData></worksheet>"

# XML 1.0 has no place for most control characters: Excel's own escape is _xHHHH_
# (and a literal "_x" that would read as one is escaped itself, as _x005F_x).
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 - Excel's (1900 system) day 0
_EPOCH_ORDINAL = _EPOCH.toordinal()


def _escape_char(match: re.Match[str]) -> str:
    return f"_x{ord(match.group()):04X}_"


def xml_text(value: str) -> str:
    """`value` as the text of an XML element (a cell's inline string)."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if not value.isprintable() or "_x" in value:  # cheap tests: the regex for the rare text
        value = _UNSAFE.sub(_escape_char, value)
        if "\r" in value:  # a character reference, or the reader makes it a line feed
            value = value.replace("\r", "&#13;")
    return value


def _attribute(value: str) -> str:
    return xml_text(value).replace('"', "&quot;")


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _days(value: date) -> int:
    days = value.toordinal() - _EPOCH_ORDINAL
    return days - 1 if 0 < days <= 60 else days  # Excel's 29 February 1900, as openpyxl


def _cell(ref: str, value: Any) -> str:
    """One cell of any value (empty string for an absent cell)."""
    if value is None:
        return ""
    kind = type(value)
    if kind is str:
        if not value:
            return ""  # an empty text is an empty cell, as in openpyxl's files
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{xml_text(neutralise_formula(value))}</t></is></c>'
    if kind is int:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind is float or kind is Decimal:
        if not math.isfinite(value):
            return ""  # Excel has no NaN or infinity
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind is bool:
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if kind is datetime:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        serial = _days(value) + (seconds + value.microsecond / 1e6) / 86400
        return f'<c r="{ref}" s="{DATETIME_STYLE}"><v>{serial!r}</v></c>'
    if kind is date:
        return f'<c r="{ref}" s="{DATE_STYLE}"><v>{_days(value)}</v></c>'
    # A subclass (a str enum, numpy's float, ...) as its base type.
    if isinstance(value, bool):
        return _cell(ref, bool(value))
    if isinstance(value, int):
        return _cell(ref, int(value))
    if isinstance(value, float):
        return _cell(ref, float(value))
    if isinstance(value, Decimal):
        return _cell(ref, Decimal(value))
    if isinstance(value, str):
        return _cell(ref, str.__str__(value))  # the text, not an enum's "Class.member"
    if isinstance(value, datetime):
        return _cell(ref, datetime.combine(value.date(), value.timetz()))
    if isinstance(value, date):
        return _cell(ref, date(value.year, value.month, value.day))
    return _cell(ref, str(value))


class SheetWriter:
    """Rows to one sheet's zip entry: `<row>` elements, written a block at a time."""

    def __init__(self, stream: IO[bytes], width: int) -> None:
        self.stream = stream
        self.width = max(1, min(width, MAX_COLUMNS))
        self.letters = [column_letters(i) for i in range(self.width)]
        self.rows = 0
        self.block: list[str] = []
        stream.write(SHEET_START.encode())

    def header(self, names: Iterable[str]) -> None:
        self.rows += 1
        n = self.rows
        cells = "".join(
            f'<c r="{letter}{n}" s="{BOLD}" t="inlineStr"><is><t xml:space="preserve">'
            f"{xml_text(name)}</t></is></c>"
            for letter, name in zip(self.letters, names, strict=False)
        )
        self.block.append(f'<row r="{n}">{cells}</row>')

    def row(self, values: Sequence[Any]) -> None:
        self.rows += 1
        n = str(self.rows)
        cell = _cell
        cells = [
            cell(letter + n, value)
            for letter, value in zip(self.letters, values, strict=False)
            if value is not None
        ]
        if len(values) < self.width or values[self.width - 1] is None or not cells[-1]:
            # An empty last cell: the row spans the header's width for a reader that has
            # no <dimension> to go by (a streamed sheet cannot give it before its rows).
            cells.append(f'<c r="{self.letters[-1]}{n}"/>')
        self.block.append(f'<row r="{n}">{"".join(cells)}</row>')
        if len(self.block) >= BLOCK_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.block:
            self.stream.write("".join(self.block).encode("utf-8"))
            self.block = []

    def close(self) -> None:
        self.flush()
        self.stream.write(SHEET_END.encode())


def sheet_title(name: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
    base, n = title, 1
    while title.lower() in used:
        n += 1
        title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    used.add(title.lower())
    return title


class Workbook:
    """An .xlsx package written in order: sheets first (streamed), the parts that list
    them when it is closed."""

    def __init__(self, path: Path) -> None:
        self.archive = zipfile.ZipFile(path, "w", allowZip64=True)
        self.titles: list[str] = []
        self.used: set[str] = set()
        self.current: SheetWriter | None = None
        self.stream: IO[bytes] | None = None

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zip_info(name)
        info._compresslevel = COMPRESS_LEVEL  # type: ignore[attr-defined] # (3.13+: an alias)
        return info

    def sheet(self, name: str, width: int) -> SheetWriter:
        """A new sheet titled after `name` (the previous one is closed first)."""
        self.close_sheet()
        self.titles.append(sheet_title(name, self.used))
        entry = self._entry(f"xl/worksheets/sheet{len(self.titles)}.xml")
        self.stream = self.archive.open(entry, "w", force_zip64=True)
        self.current = SheetWriter(self.stream, width)
        return self.current

    def close_sheet(self) -> None:
        if self.current is not None and self.stream is not None:
            self.current.close()
            self.stream.close()
        self.current = self.stream = None

    def _text(self, name: str, text: str) -> None:
        with self.archive.open(self._entry(name), "w") as stream:
            stream.write(text.encode("utf-8"))

    def close(self) -> None:
        self.close_sheet()
        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        count = len(self.titles)
        sheets = "".join(
            f'<sheet name="{_attribute(title)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, title in enumerate(self.titles, start=1)
        )
        self._text(
            "xl/workbook.xml",
            f'{head}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView/>'
            f"</bookViews><sheets>{sheets}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, count + 1)
        )
        self._text(
            "xl/_rels/workbook.xml.rels",
            f'{head}<Relationships xmlns="{PACKAGE_REL}">{rels}'
            f'<Relationship Id="rId{count + 1}" Type="{REL}/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        self._text("xl/styles.xml", STYLES)
        self._text(
            "docProps/core.xml",
            f"{head}<cp:coreProperties"
            ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:dcterms="http://purl.org/dc/terms/"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:creator>ALS eCRF</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{CREATED}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{CREATED}</dcterms:modified>'
            "</cp:coreProperties>",
        )
        self._text(
            "docProps/app.xml",
            f"{head}<Properties"
            ' xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>ALS eCRF</Application></Properties>",
        )
        self._text(
            "_rels/.rels",
            f'{head}<Relationships xmlns="{PACKAGE_REL}">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{PACKAGE_REL}/metadata/core-properties"'
            ' Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_TYPE}"/>'
            for i in range(1, count + 1)
        )
        office = "application/vnd.openxmlformats-officedocument"
        self._text(
            "[Content_Types].xml",
            f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels"'
            ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml"'
            f' ContentType="{office}.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml"'
            f' ContentType="{office}.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml"'
            ' ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml"'
            f' ContentType="{office}.extended-properties+xml"/>'
            f"{overrides}</Types>",
        )
        self.archive.close()


def write_xlsx(tables: list[Table], folder: Path, progress: Progress) -> list[Written]:
    path = folder / FILE
    workbook = Workbook(path)
    rows: dict[str, int] = {}
    try:
        for table in tables:
            rows[table.name] = _write_table(workbook, table, progress)
        codebook = codebook_rows(tables, header=True)
        sheet = workbook.sheet(CODEBOOK_SHEET, len(codebook[0]))
        sheet.header(codebook[0])
        for line in codebook[1:]:
            sheet.row(line)
    finally:
        workbook.close()
    return [Written(FILE, rows)]


def _write_table(workbook: Workbook, table: Table, progress: Progress) -> int:
    """The table's rows in one sheet, or in <name>~2, ... when longer than a sheet."""
    names = [variable.short for variable in table.variables]
    part = 1
    sheet = workbook.sheet(table.name, len(names))
    sheet.header(names)
    count = 0
    rows = stream_rows(table)
    try:
        for row in rows:
            if count and count % MAX_ROWS == 0:
                # A table longer than a sheet goes on in <name>~2, <name>~3, ...
                part += 1
                sheet = workbook.sheet(f"{table.name[:26]}~{part}", len(names))
                sheet.header(names)
            sheet.row(row[HIDDEN:])
            count += 1
            if count % 5000 == 0:
                progress(5000)
    finally:
        close = getattr(rows, "close", None)  # the server-side cursor, when we stop early
        if close is not None:
            close()
    progress(count % 5000)
    return count
