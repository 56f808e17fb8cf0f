"""The streamed .xlsx writer (exports/writers/xlsx.py), read back with openpyxl and pandas:
every kind of value, text XML cannot carry as it is, sheet titles, determinism."""

from __future__ import annotations

import enum
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd

from exports.writers.xlsx import MAX_COLUMNS, Workbook, column_letters, xml_text

NAMES = ["n", "f", "d", "b", "day", "moment", "text", "empty", "formula", "control", "lit"]
ROW = [
    7,
    2.5,
    Decimal("5.20"),
    True,
    date(2025, 7, 25),
    datetime(2025, 7, 25, 10, 30, 15, tzinfo=timezone(timedelta(hours=3, minutes=30))),
    'a<b & c>"d" \u200f\u0641\u0627\u0631\u0633\u06cc  ',  # Persian, after a direction mark
    None,
    "=1+2",
    "line\r\nnext\x01bell",
    "_x0041_",
]


def _write(path, rows=(ROW,), title="alsfrs_r"):
    workbook = Workbook(path)
    sheet = workbook.sheet(title, len(NAMES))
    sheet.header(NAMES)
    for row in rows:
        sheet.row(row)
    codebook = workbook.sheet("codebook", 2)
    codebook.header(["file", "variable"])
    codebook.row(["alsfrs_r", "n"])
    workbook.close()


def test_values_read_back_with_their_types_and_formats(tmp_path):
    path = tmp_path / "x.xlsx"
    _write(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["alsfrs_r", "codebook"]
    sheet = book["alsfrs_r"]
    assert [c.value for c in sheet[1]] == NAMES
    assert all(c.font.b for c in sheet[1])
    values = dict(zip(NAMES, sheet[2], strict=False))
    assert values["n"].value == 7 and values["f"].value == 2.5 and values["d"].value == 5.2
    assert values["b"].value is True
    assert values["day"].value == datetime(2025, 7, 25)  # noqa: DTZ001 - Excel has no zone
    assert values["day"].number_format == "yyyy-mm-dd"
    assert values["moment"].value == datetime(2025, 7, 25, 7, 0, 15)  # noqa: DTZ001 - in UTC
    assert values["moment"].number_format == "yyyy-mm-dd h:mm:ss"
    assert values["text"].value == ROW[6]  # markup, direction marks, trailing spaces kept
    assert values["empty"].value is None
    assert values["formula"].value == "'=1+2" and values["formula"].data_type != "f"
    # A carriage return survives; a control character XML cannot carry is Excel's escape.
    assert values["control"].value == "line\r\nnext_x0001_bell"
    assert values["lit"].value == "_x005F_x0041_"  # Excel reads it back as the literal text
    assert [c.value for c in book["codebook"][2]] == ["alsfrs_r", "n"]


def test_pandas_and_read_only_openpyxl_read_the_sheets(tmp_path):
    path = tmp_path / "x.xlsx"
    rows = [ROW, [None] * len(NAMES), [1, None, None, False]]
    _write(path, rows=rows)
    frames = pd.read_excel(path, sheet_name=None)
    assert list(frames) == ["alsfrs_r", "codebook"]
    frame = frames["alsfrs_r"]
    assert list(frame.columns) == NAMES and len(frame) == 3
    assert frame["n"].tolist()[:1] == [7] and not frame["b"].tolist()[2]
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book["alsfrs_r"].values)
    assert len(rows) == 4
    assert [len(r) for r in rows] == [len(NAMES)] * 4  # a row ending in empty cells too


def test_sheet_titles_are_valid_and_unique(tmp_path):
    path = tmp_path / "x.xlsx"
    workbook = Workbook(path)
    for name in ["a:b/c", "A:B/C", "x" * 40, "r&d <1>"]:
        workbook.sheet(name, 1).header(["v"])
    workbook.close()
    assert openpyxl.load_workbook(path).sheetnames == ["a_b_c", "A_B_C~2", "x" * 31, "r&d <1>"]


def test_same_rows_give_the_same_bytes(tmp_path):
    _write(tmp_path / "a.xlsx")
    _write(tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and "ALS eCRF" in core


def test_helpers():
    assert [column_letters(i) for i in (0, 25, 26, 701, 702, MAX_COLUMNS - 1)] == [
        "A",
        "Z",
        "AA",
        "ZZ",
        "AAA",
        "XFD",
    ]
    assert xml_text("plain") == "plain"
    assert xml_text("a\tb\nc") == "a\tb\nc"
    assert xml_text("\x00") == "_x0000_"


class Status(str, enum.Enum):  # noqa: UP042 - as Django's TextChoices
    DONE = "done"


def test_subclasses_of_plain_types_are_written_as_their_base_type(tmp_path):
    path = tmp_path / "x.xlsx"
    workbook = Workbook(path)
    sheet = workbook.sheet("s", 3)
    sheet.header(["status", "score", "flag"])
    sheet.row([Status.DONE, np.float64(1.5), np.bool_(True)])
    workbook.close()
    assert list(openpyxl.load_workbook(path)["s"].values)[1] == ("done", 1.5, "True")


def test_a_date_before_march_1900_matches_excel(tmp_path):
    """Excel counts a 29 February 1900 that never was: openpyxl's serials, read back."""
    path = tmp_path / "x.xlsx"
    workbook = Workbook(path)
    sheet = workbook.sheet("d", 1)
    sheet.header(["day"])
    for day in (date(1900, 1, 1), date(1900, 3, 1), date(2024, 2, 29)):
        sheet.row([day])
    workbook.close()
    values = [
        r[0] for r in openpyxl.load_workbook(path)["d"].iter_rows(min_row=2, values_only=True)
    ]
    assert [v.date() for v in values] == [date(1900, 1, 1), date(1900, 3, 1), date(2024, 2, 29)]
