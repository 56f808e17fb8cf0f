"""The bundle README reads as text, not Python; EMG dates are ISO 8601 in every export."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from crfs.emg.models import Emg
from crfs.entry import save_form
from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db


def test_readme_lists_row_counts_as_text(study, tmp_path):
    files, _r = export(study, tmp_path, "csv.zip", fmt="csv")
    readme = files["README.txt"].decode()
    assert "data/alsfrs_r.csv  (9 rows)" in readme
    assert "{" not in readme and "}" not in readme
    files, _r = export(study, tmp_path, "xlsx.zip", fmt="xlsx", forms=("participants", "alsfrs_r"))
    readme = files["README.txt"].decode()
    assert "data/dataset.xlsx  (participants: 3 rows; alsfrs_r: 9 rows)" in readme


def test_emg_study_date_is_iso_8601_in_csv_xlsx_and_odm(study, tmp_path):
    participant = study.participants[0]
    visit = participant.visits.get(code="M06")
    cmap = {"cmap_median": Decimal("5.2"), "cmap_ulnar": Decimal("6.1")}
    cmap |= {"cmap_peroneal": Decimal("2.35"), "cmap_tibial": Decimal("4")}
    save_form(
        record_class=Emg,
        visit=visit,
        user=study.investigator_a,
        answers=cmap,
        missing_reasons={"needle_muscles": "not_done"},
        expected_version=0,
        complete=True,
        children={},
    )
    iso = visit.actual_date.isoformat()
    files, _r = export(study, tmp_path, "csv.zip", fmt="csv", forms=("emg",))
    (row,) = csv_table(files["data/emg.csv"])
    assert row["study_date"] == iso == row["actual_date"]

    files, _r = export(study, tmp_path, "xlsx.zip", fmt="xlsx", forms=("emg",))
    sheet = openpyxl.load_workbook(io.BytesIO(files["data/dataset.xlsx"]))["emg"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("study_date") + 1)
    assert cell.value.date().isoformat() == iso and cell.number_format == "yyyy-mm-dd"

    files, _r = export(study, tmp_path, "odm.zip", fmt="odm", forms=("emg",))
    assert f'ItemOID="IT.emg.study_date" Value="{iso}"' in files["data/dataset.odm.xml"].decode()
