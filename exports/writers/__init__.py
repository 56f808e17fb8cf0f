"""Format writers: each turns the export's tables into files under a folder.

Every writer is deterministic: the same rows give byte-identical files (fixed
timestamps inside the files, fixed zip entry dates, rows in query order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from exports.variables import Table

Progress = Callable[[int], None]  # called with the number of rows just written


@dataclass
class Written:
    path: str  # relative to the bundle root
    rows: dict[str, int] = field(default_factory=dict)  # table name → rows


def write(
    fmt: str, tables: list[Table], folder: Path, progress: Progress, *, context: dict
) -> list[Written]:
    if fmt == "csv":
        from exports.writers.csv_writer import write_csv

        return write_csv(tables, folder, progress)
    if fmt == "xlsx":
        from exports.writers.xlsx import write_xlsx

        return write_xlsx(tables, folder, progress)
    if fmt in ("sav", "dta", "xpt"):
        from exports.writers.stats import write_stats

        return write_stats(fmt, tables, folder, progress)
    if fmt == "odm":
        from exports.writers.odm import write_odm

        return write_odm(tables, folder, progress, context=context)
    raise ValueError(f"unknown format {fmt!r}")
