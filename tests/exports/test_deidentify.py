"""De-identified bundles carry no identity and no free text; pseudonyms and shifted dates
hold within an export and change with its choices."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl
import pyreadstat
import pytest

from exports.tables import MAX_SHIFT_DAYS
from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db

FREE_TEXT = ["Headache after the puncture", "Dr. Operator", "LOT-1", "L3-L4"]


def _identifying_strings(study) -> list[str]:
    values = []
    for identity in study.identities:
        values += [v for v in identity.values() if v]
        values += identity["full_name"].split()
    for participant in study.participants:
        values += [participant.study_id, participant.screening_number]
    return values


def _all_cells(files: dict[str, bytes]) -> list[str]:
    cells: list[str] = []
    for name, content in files.items():
        if name.endswith(".csv"):
            for row in csv_table(content):
                cells += [v for v in row.values() if v]
                cells += list(row)
    return cells


@pytest.mark.parametrize("date_mode", ["shift", "days"])
def test_csv_bundle_has_no_identity_and_no_free_text(study, tmp_path, date_mode):
    files, _result = export(
        study,
        tmp_path,
        fmt="csv",
        deidentify=True,
        pseudonymise=True,
        audit=True,
        date_mode=date_mode,
    )
    cells = _all_cells({k: v for k, v in files.items() if k.startswith("data/")})
    forbidden = _identifying_strings(study) + FREE_TEXT
    for cell in cells:
        for value in forbidden:
            assert value.lower() not in cell.lower(), (value, cell)
    # ...nor anywhere else in the bundle (codebook, README, manifest).
    everything = b"".join(files.values()).decode("utf-8", "replace").lower()
    for value in forbidden:
        assert value.lower() not in everything, value
    people = csv_table(files["data/participants.csv"])
    assert {"full_name", "national_id", "phone", "email", "address", "screening_number"}.isdisjoint(
        people[0]
    )
    assert {"operator", "immediate_complications", "cell_lot", "performed_at"}.isdisjoint(people[0])
    audit = csv_table(files["data/audit_log.csv"])
    assert "changed_by" not in audit[0] and "reason" not in audit[0]
    assert all(re.fullmatch(r"P[0-9A-F]{12}", p["study_id"]) for p in people)


def test_statistics_and_excel_files_have_no_identity(study, tmp_path):
    forbidden = [v.lower() for v in _identifying_strings(study) + FREE_TEXT]
    files, _r = export(study, tmp_path, "x.zip", fmt="xlsx", deidentify=True, pseudonymise=True)
    book = openpyxl.load_workbook(io.BytesIO(files["data/dataset.xlsx"]), read_only=True)
    for sheet in book.worksheets:
        for row in sheet.values:
            for cell in row:
                if isinstance(cell, str):
                    assert not any(v in cell.lower() for v in forbidden), cell
    files, _r = export(study, tmp_path, "s.zip", fmt="sav", deidentify=True, pseudonymise=True)
    for name, content in files.items():
        if name.endswith(".sav"):
            path = tmp_path / "f.sav"
            path.write_bytes(content)
            frame, _meta = pyreadstat.read_sav(str(path))
            for column in frame.columns:
                for cell in frame[column]:
                    if isinstance(cell, str):
                        assert not any(v in cell.lower() for v in forbidden), cell


def test_identified_export_carries_identity_only_when_asked(study, tmp_path):
    files, _r = export(study, tmp_path, "a.zip", fmt="csv", identifiers=True)
    people = csv_table(files["data/participants.csv"])
    assert [p["full_name"] for p in people] == [i["full_name"] for i in study.identities]
    assert people[0]["national_id"] == "ISF77001"
    assert people[0]["immediate_complications"] == "Headache after the puncture"


def test_shift_is_constant_within_a_participant_and_keeps_intervals(study, tmp_path):
    files, _r = export(study, tmp_path, fmt="csv", deidentify=True, pseudonymise=True)
    people = csv_table(files["data/participants.csv"])
    rows = csv_table(files["data/alsfrs_r.csv"])
    shifts = set()
    for person in people:
        tx = date.fromisoformat(person["performed_on"])
        shift = (tx - date(2025, 8, 1)).days
        assert 0 < abs(shift) <= MAX_SHIFT_DAYS
        shifts.add(shift)
        screened = date.fromisoformat(person["screened_on"])
        assert (tx - screened).days == 40  # intervals within a participant hold
        for row in (r for r in rows if r["study_id"] == person["study_id"]):
            actual = date.fromisoformat(row["actual_date"])
            assert (actual - tx).days == int(row["days_from_tx"])
    assert len(shifts) == 3  # one random shift per participant


def test_days_mode_replaces_dates_by_days_from_transplantation(study, tmp_path):
    files, _r = export(study, tmp_path, fmt="csv", deidentify=True, date_mode="days")
    people = csv_table(files["data/participants.csv"])
    assert {p["performed_on"] for p in people} == {"0"}
    assert {p["screened_on"] for p in people} == {"-40"}
    rows = csv_table(files["data/alsfrs_r.csv"])
    assert {r["actual_date"] for r in rows if r["visit"] == "BL"} == {"-7"}
    assert all(r["actual_date"] == r["days_from_tx"] for r in rows)
    codebook = csv_table(files["codebook.csv"])
    actual = next(r for r in codebook if r["file"] == "alsfrs_r" and r["variable"] == "actual_date")
    assert actual["type"] == "integer" and "days from transplantation" in actual["label"]


def test_pseudonyms_change_with_the_export_choices(study, tmp_path):
    one, _r = export(study, tmp_path, "1.zip", fmt="csv", deidentify=True, pseudonymise=True)
    two, _r = export(
        study, tmp_path, "2.zip", fmt="csv", deidentify=True, pseudonymise=True, derived=False
    )
    first = {p["study_id"] for p in csv_table(one["data/participants.csv"])}
    second = {p["study_id"] for p in csv_table(two["data/participants.csv"])}
    assert len(first) == len(second) == 3 and first.isdisjoint(second)
    kept, _r = export(study, tmp_path, "3.zip", fmt="csv", deidentify=True, pseudonymise=False)
    assert {p["study_id"] for p in csv_table(kept["data/participants.csv"])} == {
        p.study_id for p in study.participants
    }
