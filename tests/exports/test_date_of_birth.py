"""The date of birth leaves exports without the identity; the age at screening stays."""

from __future__ import annotations

import pytest

from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db


def _columns_and_codebook(files) -> tuple[dict[str, str], set[str]]:
    people = csv_table(files["data/participants.csv"])
    codebook = {
        r["variable"] for r in csv_table(files["codebook.csv"]) if r["file"] == "participants"
    }
    return people[0], codebook


@pytest.mark.parametrize("date_mode", ["shift", "days"])
def test_a_deidentified_bundle_has_no_date_of_birth(study, tmp_path, date_mode):
    files, _r = export(study, tmp_path, fmt="csv", deidentify=True, date_mode=date_mode)
    person, codebook = _columns_and_codebook(files)
    assert "date_of_birth" not in person and "date_of_birth" not in codebook
    assert person["age_at_screening"] == "57" and "age_at_screening" in codebook
    assert "1968" not in files["data/participants.csv"].decode()


def test_an_identified_bundle_has_the_date_of_birth_only_with_the_identity(study, tmp_path):
    files, _r = export(study, tmp_path, "plain.zip", fmt="csv")
    person, codebook = _columns_and_codebook(files)
    assert "date_of_birth" not in person and "date_of_birth" not in codebook
    assert person["age_at_screening"] == "57"
    assert "date of birth" in files["README.txt"].decode().lower()
    files, _r = export(study, tmp_path, "identity.zip", fmt="csv", identifiers=True)
    person, codebook = _columns_and_codebook(files)
    assert person["date_of_birth"] == "1968-05-17" and "date_of_birth" in codebook
    assert person["age_at_screening"] == "57"


def test_statistics_files_leave_it_out_too(study, tmp_path):
    import pyreadstat

    files, _r = export(study, tmp_path, "s.zip", fmt="sav", deidentify=True)
    path = tmp_path / "participants.sav"
    path.write_bytes(files["data/participants.sav"])
    frame, _meta = pyreadstat.read_sav(str(path))
    assert "date_of_birth" not in frame.columns and "age_at_screening" in frame.columns
