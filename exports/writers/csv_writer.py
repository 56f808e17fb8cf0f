"""CSV (UTF-8, RFC 4180 quoting, header of variable names): one file per table."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from exports.tables import HIDDEN, stream_rows
from exports.variables import DATETIME, Table
from exports.writers import Progress, Written

REPORT_EVERY = 5000


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def csv_rows(table: Table):
    """Visible values, ready for csv.writer (None → empty, dates ISO via str())."""
    datetimes = [i for i, v in enumerate(table.variables) if v.kind == DATETIME]
    if not datetimes:
        for row in stream_rows(table):
            yield row[HIDDEN:]
        return
    for row in stream_rows(table):
        values = list(row[HIDDEN:])
        for i in datetimes:
            values[i] = iso_utc(values[i])
        yield values


def write_table_csv(table: Table, path: Path, progress: Progress) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([v.short for v in table.variables])
        pending = 0
        for values in csv_rows(table):
            writer.writerow(values)
            pending += 1
            if pending == REPORT_EVERY:
                count += pending
                progress(pending)
                pending = 0
        count += pending
        progress(pending)
    return count


def write_csv(tables: list[Table], folder: Path, progress: Progress) -> list[Written]:
    written = []
    for table in tables:
        relative = f"data/{table.name}.csv"
        rows = write_table_csv(table, folder / relative, progress)
        written.append(Written(relative, {table.name: rows}))
    return written
