"""Text a spreadsheet would run as a formula is written with a leading quote (OWASP's
advice) in CSV and XLSX; numbers, negative ones included, are written as they are."""

from __future__ import annotations

import io

import openpyxl
import pytest

from exports.variables import INTEGER, TEXT, Table, Variable
from exports.writers.csv_writer import write_table_csv
from exports.writers.xlsx import FILE, write_xlsx
from participants.models import ParticipantIdentity
from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x","y")'


def _book(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def test_identified_exports_write_a_formula_name_as_quoted_text(study, tmp_path):
    first = study.participants[0]
    ParticipantIdentity.objects.filter(participant=first).update(full_name=FORMULA)

    files, _r = export(study, tmp_path, "csv.zip", fmt="csv", identifiers=True)
    people = {p["study_id"]: p for p in csv_table(files["data/participants.csv"])}
    assert people[first.study_id]["full_name"] == "'" + FORMULA
    assert people[first.study_id]["phone"] == "'+98 31 5550 1001"
    assert people[study.participants[1].study_id]["full_name"] == "Reza Karimzadeh"
    bl = next(
        r
        for r in csv_table(files["data/alsfrs_r.csv"])
        if r["study_id"] == first.study_id and r["visit"] == "BL"
    )
    assert bl["days_from_tx"] == "-7"  # a negative number is a number, not a formula

    files, _r = export(study, tmp_path, "xlsx.zip", fmt="xlsx", identifiers=True)
    sheet = _book(files["data/dataset.xlsx"])["participants"]
    header = [c.value for c in sheet[1]]
    column = header.index("full_name")
    cells = {row[0].value: row[column] for row in sheet.iter_rows(min_row=2)}
    cell = cells[first.study_id]
    assert cell.data_type == "s" and cell.value == "'" + FORMULA


def _table() -> Table:
    """Rows as a de-identified export has them: kept text and (negative) numbers."""
    variables = [
        Variable("free_text", "Free text", TEXT, "answer"),
        Variable("delta", "Days", INTEGER, "derived"),
        Variable("number_as_text", "Code", TEXT, "answer"),
        Variable("plain", "Plain", TEXT, "answer"),
        Variable("quoted", "Quoted", TEXT, "answer"),
    ]
    for variable in variables:
        variable.short = variable.name
    rows = [
        ("=1+2", -5, "-5", "plain", "'kept"),
        ("@SUM(A1)", -1, "\tx", "+", None),
        ("\rcmd", 0, "a=b", "", "''"),
    ]
    values = " UNION ALL ".join(
        f"SELECT {n} AS _ord, 0 AS _pid, 0 AS _vpos, 0 AS _vseq, 'V' AS _vcode, 0 AS _rep,"
        " %s::text AS c0, %s::int AS c1, %s::text AS c2, %s::text AS c3, %s::text AS c4"
        for n in range(len(rows))
    )
    params = [value for row in rows for value in row]
    return Table("t", "T", variables, values, params, "SELECT 3", [])


def test_csv_and_xlsx_quote_text_that_starts_like_a_formula(tmp_path):
    table = _table()
    write_table_csv(table, tmp_path / "t.csv", lambda n: None)
    rows = csv_table((tmp_path / "t.csv").read_bytes())
    assert [list(r.values()) for r in rows] == [
        ["'=1+2", "-5", "'-5", "plain", "''kept"],
        ["'@SUM(A1)", "-1", "'\tx", "'+", ""],
        ["'\rcmd", "0", "a=b", "", "'''"],
    ]
    (tmp_path / "data").mkdir()
    write_xlsx([table], tmp_path, lambda n: None)
    sheet = _book((tmp_path / FILE).read_bytes())["t"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values == [
        ["'=1+2", -5, "'-5", "plain", "''kept"],
        ["'@SUM(A1)", -1, "'\tx", "'+", None],
        ["'\rcmd", 0, "a=b", None, "'''"],  # the carriage return kept (&#13;)
    ]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
