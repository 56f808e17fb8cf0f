"""SPSS .sav, Stata .dta and SAS transport .xpt with variable and value labels (pyreadstat).

pyreadstat writes whole data frames, so the rows reach it a chunk at a time and each
chunk's rows are appended to one file whose header is written once (see write_part):
memory stays flat whatever the study's size. A table longer than PART_ROWS rows comes
in parts (<table>_part2.sav, ...). Coded text answers and missing-data
reasons become integers 1..n with value labels (the codebook lists both); SAS
transport files carry no value labels, so a `formats.sas` program with
PROC FORMAT and FORMAT statements comes with them.
"""

from __future__ import annotations

import logging
import math
import struct
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat
from django.db import connection

from exports.files import normalise_stat_bytes, normalise_stat_file
from exports.tables import HIDDEN, stream_rows
from exports.variables import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    FLOAT,
    INTEGER,
    TEXT,
    CodeList,
    Table,
    Variable,
    sas_name,
)
from exports.writers import Progress, Written

LABEL_LIMIT = {"sav": 256, "dta": 80, "xpt": 40}  # xpt: SAS transport version 5
NUMERIC = {INTEGER, FLOAT, DECIMAL, BOOLEAN}
log = logging.getLogger(__name__)


def _coded(variable: Variable) -> CodeList | None:
    """The variable's code list when its values are written as labelled integers."""
    if variable.codelist is not None and variable.kind in (TEXT, INTEGER, BOOLEAN):
        return variable.codelist
    return None


def _value_labels(table: Table) -> dict[str, dict[int | float, str]]:
    """{short name: {integer code: label}} of the coded variables, in pyreadstat's shape."""
    labels: dict[str, dict[int | float, str]] = {}
    for variable in table.variables:
        codelist = _coded(variable)
        if codelist is not None:
            labels[variable.short] = dict(codelist.numeric_labels.items())
    return labels


# A table longer than this many rows is written in parts (<table>_part2.sav, ...): files of
# that length stay easy to open and append. Memory does not depend on it (see CHUNK_BYTES).
PART_ROWS = 100_000
# pyreadstat writes whole data frames, so rows reach it in frames of about this many bytes
# of row data (between MIN_CHUNK_ROWS and MAX_CHUNK_ROWS rows), each written to a scratch
# file whose rows are appended to the part's file: the header (string widths from one query
# over the table, value labels) is written once and given the row count at the end.
# Memory stays flat whatever the study's size.
# Larger frames mean fewer pyreadstat calls (each has a cost per column). Whole study at
# 10,080 participants, long, SPSS (benchmarks/export_study.py, load 11-13 on 2 cores):
# 1 MB / 2,000 rows 144 s and 155 MB; 4 MB / 10,000 rows 155 s and 190 MB (1k: 155 MB, +22 %);
# 2 MB / 5,000 rows 116 s and 171 MB (in-process). The middle one: faster, flatter.
CHUNK_BYTES = 2_000_000
MIN_CHUNK_ROWS, MAX_CHUNK_ROWS = 200, 5_000
STATA_STR_MAX = 2045  # longer text is a Stata strL, stored apart from the rows


class _WidthChanged(Exception):
    """A chunk's header differs from the first one's (a text longer than its measured width)."""


class _NotStreamable(Exception):
    """The file keeps something per row outside its rows (Stata strL): write it whole."""


def _is_text(variable: Variable) -> bool:
    """Written as text (every kind that is neither coded, numeric nor a date)."""
    if _coded(variable) is not None and variable.kind == TEXT:
        return False
    return variable.kind not in NUMERIC and variable.kind not in (DATE, DATETIME)


def text_widths(table: Table) -> dict[int, int]:
    """{column: the longest value in UTF-8 bytes} of the table's text columns, in one query."""
    indexes = [i for i, v in enumerate(table.variables) if _is_text(v)]
    if not indexes:
        return {}
    names = ", ".join(f"c{i}" for i in range(HIDDEN + len(table.variables)))
    longest = ", ".join(f"max(octet_length(t.c{HIDDEN + i}::text))" for i in indexes)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {longest} FROM ({table.sql}) AS t({names})", table.params)  # noqa: S608 - the export's own query
        found = cursor.fetchone()
    return {i: int(n or 0) for i, n in zip(indexes, found, strict=True)}


def text_widths_in_python(table: Table) -> dict[int, int]:
    """The same, measured on the values as written (when the query's text differs)."""
    widths = {i: 0 for i, v in enumerate(table.variables) if _is_text(v)}
    for row in stream_rows(table):
        values = row[HIDDEN:]
        for i, width in widths.items():
            value = values[i]
            if value is not None:
                size = len(str(value).encode("utf-8"))
                if size > width:
                    widths[i] = size
    return widths


def _template(table: Table, widths: dict[int, int]) -> tuple:
    """A first row that gives every chunk the same header: each text as wide as the
    table's longest, a date in each date column, a missing value in each number."""
    values: list[Any] = []
    for i, variable in enumerate(table.variables):
        if i in widths:
            values.append("x" * max(1, widths[i]))
        elif variable.kind == DATE:
            values.append(date(2000, 1, 1))
        elif variable.kind == DATETIME:
            values.append(datetime(2000, 1, 1))  # noqa: DTZ001 - written naive, as the rows
        else:
            values.append(None)
    return tuple(values)


def _chunk_rows(table: Table, widths: dict[int, int]) -> int:
    row_bytes = 8 * len(table.variables) + sum(widths.values())
    return max(MIN_CHUNK_ROWS, min(MAX_CHUNK_ROWS, CHUNK_BYTES // max(row_bytes, 1)))


_SAV_END = struct.pack("<ii", 999, 0)  # the dictionary termination record
_SAV_CASES = struct.pack("<iiii", 7, 16, 8, 2)  # then 1 and the number of cases (int64)
_DTA_MAP = 14  # offsets in a .dta <map>


def _dta_map(data: bytes) -> tuple[int, list[int]]:
    at = data.index(b"<map>") + len(b"<map>")
    return at, list(struct.unpack_from(f"<{_DTA_MAP}Q", data, at))


def _split(fmt: str, data: bytes, rows: int) -> tuple[bytes, int, bytes]:
    """(header, bytes per row, what follows the rows) of a file of `rows` rows."""
    if fmt == "sav":
        row = 8 * struct.unpack_from("<i", data, 68)[0]
        start = len(data) - rows * row
        if struct.unpack_from("<i", data, 72)[0] != 0 or data[start - 8 : start] != _SAV_END:
            raise _NotStreamable("unexpected .sav layout")
        return data[:start], row, b""
    if fmt == "dta":
        if (
            not data.startswith(b"<stata_dta><header><release>11")
            or b"<byteorder>LSF" not in data[:80]
        ):
            raise _NotStreamable("unexpected .dta layout")
        _at, offsets = _dta_map(data)
        start = offsets[9] + len(b"<data>")
        end = offsets[10] - len(b"</data>")
        if data[offsets[10] : offsets[11]] != b"<strls></strls>":
            raise _NotStreamable("strL values")
        row, rest = divmod(end - start, rows) if rows else (0, 0)
        if rest or not row:
            raise _NotStreamable("unexpected .dta layout")
        return data[:start], row, data[end:]
    names = data.index(b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!")
    count = int(data[names + 54 : names + 58])
    first = names + 80
    row = sum(struct.unpack_from(">h", data, first + 140 * k + 4)[0] for k in range(count))
    obs = data.index(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!", first + 140 * count)
    return data[: obs + 80], row, b""


def _same_header(fmt: str, first: bytes, other: bytes) -> bool:
    """Equal but for the row counts (and, in a .dta file, the offsets after the rows)."""
    if fmt == "dta":
        return first[first.index(b"</map>") :] == other[other.index(b"</map>") :]
    return _final_header(fmt, first, 0, 0, 0) == _final_header(fmt, other, 0, 0, 0)


def _final_header(fmt: str, head: bytes, head_rows: int, rows: int, row: int) -> bytes:
    """The first chunk's header given the part's row count."""
    data = bytearray(head)
    if fmt == "sav":
        struct.pack_into("<i", data, 80, rows)
        # and the 64-bit count of the "number of cases" record (type 7, subtype 16)
        at = bytes(data).find(_SAV_CASES)
        if at >= 0:
            struct.pack_into("<q", data, at + len(_SAV_CASES) + 8, rows)
    elif fmt == "dta":
        at = data.index(b"<N>") + len(b"<N>")
        if data.startswith(b"<stata_dta><header><release>117"):
            struct.pack_into("<I", data, at, rows)
        else:
            struct.pack_into("<Q", data, at, rows)
        at, offsets = _dta_map(bytes(data))
        shift = (rows - head_rows) * row
        for index in range(10, _DTA_MAP):  # <strls>, <value_labels>, </stata_dta>, the end
            offsets[index] += shift
        struct.pack_into(f"<{_DTA_MAP}Q", data, at, *offsets)
    return bytes(data)


def write_part(
    fmt: str,
    table: Table,
    rows: Iterator[tuple],
    path: Path,
    member: str,
    widths: dict[int, int],
    progress: Progress,
) -> int:
    """Write up to PART_ROWS rows of `rows` to `path`, a chunk at a time; the row count."""
    template = _template(table, widths)
    size = _chunk_rows(table, widths)
    head = b""
    head_rows = row = count = 0
    tail = b""
    with path.open("wb") as out, tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        chunk_path = Path(scratch) / f"chunk.{fmt}"
        while True:
            chunk = list(islice(rows, size))
            if count and not chunk:
                break
            frame = _frame(table, _columns(table, [template, *(r[HIDDEN:] for r in chunk)]))
            _pyreadstat_write(fmt, table, frame, chunk_path, member)
            del frame
            data = normalise_stat_bytes(chunk_path.read_bytes(), fmt)
            this_head, this_row, this_tail = _split(fmt, data, len(chunk) + 1)
            if not head:
                head, head_rows, row, tail = this_head, len(chunk) + 1, this_row, this_tail
                out.write(head)  # given the row count at the end
            elif this_row != row or not _same_header(fmt, head, this_head):
                raise _WidthChanged(table.name)
            start = len(this_head) + row  # the template row is left out
            out.write(memoryview(data)[start : start + len(chunk) * row])
            count += len(chunk)
            progress(len(chunk))
            if len(chunk) < size:
                break
        if fmt == "xpt":  # records of 80 bytes, the last one padded with spaces
            out.write(b" " * (-(len(head) + count * row) % 80))
        out.write(tail)
        out.seek(0)
        out.write(_final_header(fmt, head, head_rows, count, row))
    return count


def write_part_whole(
    fmt: str, table: Table, rows: Iterator[tuple], path: Path, member: str, progress: Progress
) -> int:
    """Up to PART_ROWS rows in one frame (a .dta file with strL values keeps them apart)."""
    chunk = list(rows)
    write_frame(
        fmt, table, _frame(table, _columns(table, [r[HIDDEN:] for r in chunk])), path, member
    )
    progress(len(chunk))
    return len(chunk)


def write_table(
    fmt: str, table: Table, folder: Path, member: str, widths: dict[int, int], progress: Progress
) -> list[tuple[str, int]]:
    """The table's files (in parts of PART_ROWS rows) and their row counts."""
    rows = stream_rows(table)
    written: list[tuple[str, int]] = []
    streamable = not (fmt == "dta" and any(w > STATA_STR_MAX for w in widths.values()))
    try:
        part = 1
        while True:
            relative = part_path(table, fmt, part)
            block = islice(rows, PART_ROWS)
            if streamable:
                count = write_part(fmt, table, block, folder / relative, member, widths, progress)
            else:
                count = write_part_whole(fmt, table, block, folder / relative, member, progress)
            if not count and part > 1:
                (folder / relative).unlink()
                break
            written.append((relative, count))
            if count < PART_ROWS:
                break
            part += 1
    finally:
        close = getattr(rows, "close", None)  # the server-side cursor, when we stop early
        if close is not None:
            close()
    return written


def _columns(table: Table, rows: list[tuple]) -> list[list]:
    if not rows:
        return [[] for _ in table.variables]
    return [list(column) for column in zip(*rows, strict=True)]


def _floats(values: list) -> np.ndarray:
    """Numbers (Decimal, bool, int, float; None for a missing one) as float64, NaN for None."""
    return np.fromiter(
        (math.nan if v is None else v for v in values), dtype=np.float64, count=len(values)
    )


def _frame(table: Table, columns: list[list]) -> pd.DataFrame:
    data = {}
    for variable, values in zip(table.variables, columns, strict=True):
        codelist = _coded(variable)
        if codelist is not None and variable.kind == TEXT:
            codes = codelist.numeric_codes
            data[variable.short] = _floats([codes.get(v) for v in values])
        elif variable.kind in NUMERIC:
            data[variable.short] = _floats(values)
        elif variable.kind == DATE:
            data[variable.short] = pd.Series(values, dtype="object")
        elif variable.kind == DATETIME:
            data[variable.short] = pd.Series(
                [v.replace(tzinfo=None) if v is not None else None for v in values],
                dtype="object",
            )
        else:
            data[variable.short] = pd.Series(
                ["" if v is None else str(v) for v in values], dtype="object"
            )
    return pd.DataFrame(data, columns=[v.short for v in table.variables])


def _pyreadstat_write(fmt: str, table: Table, frame: pd.DataFrame, path: Path, member: str) -> None:
    limit = LABEL_LIMIT[fmt]
    labels: dict[str, str | None] = {v.short: v.label[:limit] for v in table.variables}
    value_labels = _value_labels(table)
    file_label = table.label[:80]
    if fmt == "sav":
        measures = {
            v.short: "nominal"
            if _coded(v) is not None
            else ("scale" if v.kind in NUMERIC else "unknown")
            for v in table.variables
        }
        pyreadstat.write_sav(
            frame,
            str(path),
            file_label=file_label,
            column_labels=labels,
            variable_value_labels=value_labels,
            variable_measure=measures,
        )
    elif fmt == "dta":
        pyreadstat.write_dta(
            frame,
            str(path),
            file_label=file_label,
            column_labels=labels,
            variable_value_labels=value_labels,
        )
    else:
        # Version 5, the one pandas, R and regulators read: names of 8 characters at most,
        # taken from the codebook's sas_name column.
        names = {v.short: v.sas for v in table.variables}
        pyreadstat.write_xport(
            frame.rename(columns=names),
            str(path),
            file_label=file_label[:40],
            column_labels={names[short]: label for short, label in labels.items()},
            table_name=member,
            file_format_version=5,
        )


def write_frame(fmt: str, table: Table, frame: pd.DataFrame, path: Path, member: str = "") -> None:
    """One whole frame to one file (pyreadstat), with fixed time stamps."""
    _pyreadstat_write(fmt, table, frame, path, member)
    normalise_stat_file(path, fmt)


def member_names(tables: list[Table]) -> dict[str, str]:
    """Table → its SAS member name (8 characters, unique in the bundle)."""
    used: set[str] = set()
    return {table.name: sas_name(table.name, used) for table in tables}


def sas_formats(tables: list[Table], parts: dict[str, list[str]] | None = None) -> str:
    """PROC FORMAT for every code list, and FORMAT statements per dataset (SAS has no
    value labels in transport files)."""
    lines = ["/* Value labels for the .xpt files of this export. */", "PROC FORMAT;"]
    names: dict[str, str] = {}
    used: set[str] = set()
    for table in tables:
        for variable in table.variables:
            codelist = _coded(variable)
            if codelist is None or codelist.name in names:
                continue
            fmt = sas_name(codelist.name.replace(".", "_"), used, limit=31).upper()
            fmt = fmt if not fmt[-1].isdigit() else fmt + "F"  # SAS: no final digit
            names[codelist.name] = fmt
            lines.append(f"  VALUE {fmt}")
            for code, label in sorted(codelist.numeric_labels.items()):
                text = label.replace("'", "''")
                lines.append(f"    {code} = '{text}'")
            lines.append("  ;")
    lines.append("RUN;")
    members = member_names(tables)
    for table in tables:
        member = members[table.name]
        files = (parts or {}).get(table.name) or [f"{table.name}.xpt"]
        lines.append("")
        for index, name in enumerate(files, start=1):
            lines.append(f"LIBNAME x{index if index > 1 else ''} XPORT '{name}';")
        sources = " ".join(f"x{i if i > 1 else ''}.{member}" for i in range(1, len(files) + 1))
        lines.append(f"DATA {member}; SET {sources};")
        for variable in table.variables:
            codelist = _coded(variable)
            if codelist is not None:
                lines.append(f"  FORMAT {variable.sas} {names[codelist.name]}.;")
        lines.append("RUN;")
    return "\n".join(lines) + "\n"


def part_path(table: Table, fmt: str, part: int) -> str:
    """data/<table>.<fmt>, then data/<table>_part2.<fmt>, ... for a table written in parts."""
    suffix = "" if part == 1 else f"_part{part}"
    return f"data/{table.name}{suffix}.{fmt}"


def write_stats(fmt: str, tables: list[Table], folder: Path, progress: Progress) -> list[Written]:
    written = []
    members = member_names(tables)
    parts: dict[str, list[str]] = {}
    for table in tables:
        widths = text_widths(table)
        try:
            files = write_table(fmt, table, folder, members[table.name], widths, progress)
        except _WidthChanged:
            # The query's text of a value was shorter than the value written: measure again
            # on the values themselves (one more pass over the table).
            log.info("export %s: text widths measured on the values", table.name)
            widths = text_widths_in_python(table)
            files = write_table(fmt, table, folder, members[table.name], widths, progress)
        for relative, count in files:
            written.append(Written(relative, {table.name: count}))
            parts.setdefault(table.name, []).append(relative.removeprefix("data/"))
    if fmt == "xpt":
        (folder / "data" / "formats.sas").write_text(sas_formats(tables, parts), encoding="utf-8")
        written.append(Written("data/formats.sas"))
    return written
