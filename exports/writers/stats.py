"""SPSS .sav, Stata .dta and SAS transport .xpt with variable and value labels (pyreadstat).

pyreadstat writes whole data frames, so a table is held in memory while its file is
written, in parts of PART_ROWS rows for a longer one (<table>_part2.sav, ...). Coded text answers and missing-data
reasons become integers 1..n with value labels (the codebook lists both); SAS
transport files carry no value labels, so a `formats.sas` program with
PROC FORMAT and FORMAT statements comes with them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyreadstat

from exports.files import normalise_stat_file
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


# pyreadstat writes whole data frames, so a long table (the audit log of a large study)
# is written in parts of this many rows: memory stays bounded whatever the table's length.
PART_ROWS = 100_000


def frames_of(table: Table, progress: Progress) -> Iterator[pd.DataFrame]:
    """The table's rows as data frames of at most PART_ROWS rows (one, maybe empty, at least)."""
    columns: list[list] = [[] for _ in table.variables]
    count = 0
    parts = 0
    for row in stream_rows(table):
        for i, value in enumerate(row[HIDDEN:]):
            columns[i].append(value)
        count += 1
        if count % 5000 == 0:
            progress(5000)
        if count == PART_ROWS:
            parts += 1
            yield _frame(table, columns)
            columns = [[] for _ in table.variables]
            count = 0
    progress(count % 5000)
    if count or not parts:
        yield _frame(table, columns)


def _frame(table: Table, columns: list[list]) -> pd.DataFrame:
    data = {}
    for variable, values in zip(table.variables, columns, strict=True):
        codelist = _coded(variable)
        if codelist is not None and variable.kind == TEXT:
            codes = codelist.numeric_codes
            series = pd.Series([codes.get(v) if v is not None else None for v in values])
            data[variable.short] = series.astype("float64")
        elif variable.kind in NUMERIC:
            data[variable.short] = pd.Series(
                [float(v) if v is not None else None for v in values], dtype="float64"
            )
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


def write_frame(fmt: str, table: Table, frame: pd.DataFrame, path: Path, member: str = "") -> None:
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
        for part, frame in enumerate(frames_of(table, progress), start=1):
            relative = part_path(table, fmt, part)
            write_frame(fmt, table, frame, folder / relative, members[table.name])
            written.append(Written(relative, {table.name: len(frame)}))
            parts.setdefault(table.name, []).append(relative.removeprefix("data/"))
    if fmt == "xpt":
        (folder / "data" / "formats.sas").write_text(sas_formats(tables, parts), encoding="utf-8")
        written.append(Written("data/formats.sas"))
    return written
