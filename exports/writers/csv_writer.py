"""CSV (UTF-8, header of variable names, NULL as an empty field): one file per table.

The rows come straight from PostgreSQL: `COPY (<the table's query>) TO STDOUT WITH
(FORMAT csv)` streamed in blocks to the file, so memory stays flat and the export
costs little more than the query. An empty string is written as "" and a missing
value as nothing, so the two stay distinguishable.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import psycopg
from django.db import connection

from exports.variables import Table
from exports.writers import Progress, Written


def header_line(table: Table) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([v.short for v in table.variables])
    return buffer.getvalue().encode("utf-8")


def write_table_csv(table: Table, path: Path, progress: Progress) -> int:
    connection.ensure_connection()
    raw = connection.connection
    query = psycopg.ClientCursor(raw).mogrify(table.copy_sql, table.params)
    with path.open("wb") as out, raw.cursor() as cursor:
        out.write(header_line(table))
        with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
            for block in copy:
                out.write(block)
                progress(bytes(block).count(b"\n"))
        return cursor.rowcount


def write_csv(tables: list[Table], folder: Path, progress: Progress) -> list[Written]:
    written = []
    for table in tables:
        relative = f"data/{table.name}.csv"
        rows = write_table_csv(table, folder / relative, progress)
        written.append(Written(relative, {table.name: rows}))
    return written
