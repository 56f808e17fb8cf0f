"""Every format opens with its reader and round-trips values, labels and missing reasons;
ODM validates against the 1.3.2 schema; the manifest matches the files; the same export
twice gives identical data files."""

from __future__ import annotations

import hashlib
import io
import json
import re

import openpyxl
import pyreadstat
import pytest

from crfs import registry
from exports.tables import child_relations
from exports.writers.odm import validate_odm
from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db


def _bl_row(rows, study_id):
    return next(r for r in rows if r["study_id"] == study_id and r["visit"] == "BL")


def test_csv_long_has_analysis_columns_and_missing_reasons(study, tmp_path):
    files, result = export(study, tmp_path, fmt="csv")
    assert {
        "README.txt",
        "codebook.csv",
        "codebook.json",
        "data/alsfrs_r.csv",
        "data/participants.csv",
        "manifest.json",
    } <= set(files)
    # Generic over the registry: every registered form has its file, child rows their own.
    for code, spec in registry.entry_forms().items():
        assert f"data/{code}.csv" in files
        for relation in child_relations(spec.model):
            assert f"data/{code}__{relation.get_accessor_name()}.csv" in files
    rows = csv_table(files["data/alsfrs_r.csv"])
    # Per participant: the screening ALSFRS-R (enrolment needs it), baseline and M06.
    assert len(rows) == 9 == result.row_counts["alsfrs_r"]
    assert sorted(r["visit"] for r in rows) == ["BL"] * 3 + ["M06"] * 3 + ["SCR"] * 3
    first = study.participants[0]
    bl = _bl_row(rows, first.study_id)
    assert bl["site"] == "ISF" and bl["visit_seq"] == "0"
    assert (bl["target_date"], bl["actual_date"]) == ("2025-08-01", "2025-07-25")
    assert (bl["days_from_tx"], bl["days_off_target"], bl["in_window"]) == ("-7", "-7", "1")
    assert bl["q1_speech"] == "3" and bl["q1_speech_miss"] == ""
    assert bl["q9_climbing_stairs"] == "" and bl["q9_climbing_stairs_miss"] == "not_done"
    assert bl["form_status"] == "complete"
    m06 = next(r for r in rows if r["study_id"] == first.study_id and r["visit"] == "M06")
    assert (m06["days_off_target"], m06["in_window"], m06["days_from_tx"]) == ("-30", "0", "154")
    assert m06["form_status"] == "in_progress" and m06["q3_swallowing"] == ""
    people = csv_table(files["data/participants.csv"])
    assert [p["study_id"] for p in people] == [p.study_id for p in study.participants]
    assert people[0]["onset_date"] == "2024-03-01" and people[0]["onset_precision"] == "month"
    assert "full_name" not in people[0]  # identity only when asked for


def test_codebook_documents_every_column_with_short_names(study, tmp_path):
    files, _result = export(study, tmp_path, fmt="csv", proact=True)
    codebook = csv_table(files["codebook.csv"])
    header = files["data/alsfrs_r.csv"].decode().splitlines()[0].split(",")
    documented = [r["variable"] for r in codebook if r["file"] == "alsfrs_r"]
    assert documented == header
    assert all(len(name) <= 32 for name in header)
    # PRO-ACT names that fit beside their _miss column are used verbatim, others not at all.
    assert "Q1_Speech" in header and "ALSFRS_R_Total" in header
    assert "q12_respira_insuffi" in header and "q12_respira_insuffi_miss" in header
    by_name = {r["variable"]: r for r in codebook if r["file"] == "alsfrs_r"}
    assert by_name["Q1_Speech"]["long_name"] == "q1_speech"
    assert "not_done=Not done" in by_name["Q1_Speech_miss"]["codes"]
    long_ones = [r for r in codebook if len(r["long_name"]) > 32]
    assert long_ones and all(len(r["variable"]) <= 32 for r in long_ones)


def test_xlsx_has_one_sheet_per_table_and_a_codebook(study, tmp_path):
    files, _result = export(study, tmp_path, fmt="xlsx")
    book = openpyxl.load_workbook(io.BytesIO(files["data/dataset.xlsx"]), read_only=True)
    assert book.sheetnames[:2] == ["participants", "alsfrs_r"]
    assert book.sheetnames[-1] == "codebook"
    rows = list(book["alsfrs_r"].values)
    header, data = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert "q9_climbing_stairs_miss" in header
    bl = _bl_row(data, study.participants[0].study_id)
    assert bl["q1_speech"] == 3 and bl["q9_climbing_stairs"] is None
    assert bl["q9_climbing_stairs_miss"] == "not_done"
    assert bl["actual_date"].date().isoformat() == "2025-07-25"
    codebook = list(book["codebook"].values)
    assert codebook[0][:3] == ("file", "variable", "long_name")


@pytest.mark.parametrize(
    ("fmt", "reader"),
    [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta), ("xpt", pyreadstat.read_xport)],
)
def test_statistics_files_round_trip_values_and_labels(study, tmp_path, fmt, reader):
    files, _result = export(study, tmp_path, fmt=fmt)
    path = tmp_path / f"alsfrs_r.{fmt}"
    path.write_bytes(files[f"data/alsfrs_r.{fmt}"])
    frame, meta = reader(str(path))
    assert len(frame) == 9  # screening, baseline and M06 of 3 participants
    labels = meta.column_names_to_labels
    if fmt == "xpt":  # SAS transport v5: 8-character names, mapped by the codebook
        to_long = {
            r["sas_name"]: r["variable"]
            for r in csv_table(files["codebook.csv"])
            if r["file"] == "alsfrs_r"
        }
        frame = frame.rename(columns=to_long)
        labels = {to_long[name]: label for name, label in labels.items()}
    assert labels["q1_speech"] == "1. Speech"
    assert labels["days_off_target"] == "Days off target"
    # The visit code is coded text: integers with value labels, mapped in the codebook.
    codebook = csv_table(files["codebook.csv"])
    visit_codes = next(r for r in codebook if r["variable"] == "visit")["numeric_codes"]
    bl_code = float(re.search(r"(\d+)=BL", visit_codes).group(1))
    bl = frame[(frame["study_id"] == study.participants[0].study_id) & (frame["visit"] == bl_code)]
    assert len(bl) == 1
    row = bl.iloc[0]
    assert row["q1_speech"] == 3.0
    assert row["q9_climbing_stairs"] != row["q9_climbing_stairs"]  # NaN: no magic value
    missing_code = row["q9_climbing_stairs_miss"]
    assert str(row["actual_date"]) == "2025-07-25"
    if fmt == "xpt":
        formats = files["data/formats.sas"].decode()
        assert f"{int(missing_code)} = 'Not done'" in formats
    else:
        value_labels = meta.variable_value_labels
        assert value_labels["q9_climbing_stairs_miss"][missing_code] == "Not done"
        assert value_labels["q1_speech"][3] == "3 · Detectable speech disturbance"
        assert value_labels["in_window"] == {0: "No", 1: "Yes"}


def test_odm_validates_against_the_schema_and_carries_the_data(study, tmp_path):
    files, result = export(study, tmp_path, fmt="odm", audit=True)
    path = tmp_path / "dataset.odm.xml"
    path.write_bytes(files["data/dataset.odm.xml"])
    assert validate_odm(path) == []
    text = files["data/dataset.odm.xml"].decode()
    for element in ("StudyEventDef", "FormDef", "ItemGroupDef", "ItemDef", "CodeList"):
        assert f"<{element} " in text
    for element in ("SubjectData", "StudyEventData", "FormData", "ItemGroupData", "ItemData"):
        assert f"<{element} " in text
    assert text.count("<SubjectData ") == 3
    assert "<AuditRecord>" in text and '<UserRef UserOID="USR.inv_a"/>' in text
    subject = study.participants[0].study_id
    block = text.split(f'<SubjectData SubjectKey="{subject}">')[1].split("</SubjectData>")[0]
    bl = block.split('StudyEventOID="SE.BL"')[1].split("</StudyEventData>")[0]
    assert '<ItemData ItemOID="IT.alsfrs_r.q1_speech" Value="3"/>' in bl
    assert '<ItemData ItemOID="IT.alsfrs_r.q9_climbing_stairs_miss" Value="not_done"/>' in bl
    assert 'IT.alsfrs_r.q9_climbing_stairs"' not in bl  # no value, no item
    assert result.row_counts["alsfrs_r"] == 9


def test_odm_of_a_deidentified_export_also_validates(study, tmp_path):
    files, _result = export(
        study, tmp_path, fmt="odm", deidentify=True, pseudonymise=True, date_mode="days", audit=True
    )
    path = tmp_path / "dataset.odm.xml"
    path.write_bytes(files["data/dataset.odm.xml"])
    assert validate_odm(path) == []
    assert "<AuditRecord>" not in files["data/dataset.odm.xml"].decode()


def test_manifest_matches_the_files(study, tmp_path):
    files, result = export(study, tmp_path, fmt="csv", audit=True)
    assert result.manifest == json.loads(files["manifest.json"])
    manifest = json.loads(files["manifest.json"])
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for path, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest()
        assert entry["bytes"] == len(files[path])
    for name in ("participants", "alsfrs_r", "audit_log"):
        lines = files[f"data/{name}.csv"].decode().splitlines()
        assert listed[f"data/{name}.csv"]["rows"] == {name: len(lines) - 1}
    assert manifest["who"] == "tester"
    assert manifest["filters"]["sites"] == ["ISF", "THR"]
    assert manifest["study"] == {
        "nct_id": "NCT02116634",
        "title": manifest["study"]["title"],
        "protocol_version": "1.0",
    }
    assert manifest["software"]["version"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta", "xpt", "odm"])
def test_same_options_on_unchanged_data_give_identical_data_files(
    study, tmp_path, fmt, time_machine
):
    first, _r = export(study, tmp_path, "one.zip", fmt=fmt, deidentify=True, pseudonymise=True)
    time_machine.shift(3600 * 25)  # another day, another minute
    second, _r = export(study, tmp_path, "two.zip", fmt=fmt, deidentify=True, pseudonymise=True)
    assert set(first) == set(second)
    for name in first:
        if name != "manifest.json":
            assert first[name] == second[name], name
    one, two = json.loads(first["manifest.json"]), json.loads(second["manifest.json"])
    assert one["files"] == two["files"] and one["when"] != two["when"]


def test_wide_layout_has_one_row_per_participant_with_visit_suffixes(study, tmp_path):
    files, _result = export(study, tmp_path, fmt="csv", layout="wide")
    rows = csv_table(files["data/alsfrs_r.csv"])
    assert len(rows) == 3
    first = next(r for r in rows if r["study_id"] == study.participants[0].study_id)
    assert first["q1_speech_BL"] == "3" and first["q1_speech_M06"] == "2"
    assert first["q9_climbing_stairs_BL_miss"] == "not_done"
    assert first["days_off_target_M06"] == "-30" and first["in_window_M06"] == "0"
    assert first["q1_speech_M12"] == ""  # no record yet
    assert "q1_speech_TX" not in first  # the protocol expects no ALSFRS-R at TX


def test_stata_and_sas_files_of_the_wide_layout_open(study, tmp_path):
    for fmt, reader in (("dta", pyreadstat.read_dta), ("xpt", pyreadstat.read_xport)):
        files, _result = export(study, tmp_path, f"{fmt}.zip", fmt=fmt, layout="wide")
        path = tmp_path / f"wide.{fmt}"
        path.write_bytes(files[f"data/alsfrs_r.{fmt}"])
        frame, _meta = reader(str(path))
        assert len(frame) == 3
        assert all(len(c) <= 32 for c in frame.columns)


def test_emg_exports_the_needle_muscle_count_and_its_missing_reason(study, tmp_path):
    """One participant's needle EMG examined a muscle, another's was not done: the count
    and the reason are columns of the EMG file like every answer and missing reason."""
    from decimal import Decimal

    from crfs.emg.models import Emg, finding_label
    from crfs.entry import save_form

    cmap = {"cmap_median": Decimal("5.2"), "cmap_ulnar": Decimal("6.1")}
    cmap |= {"cmap_peroneal": Decimal("2.35"), "cmap_tibial": Decimal("4")}
    biceps = {"muscle": "biceps", "side": "right", "fibrillations": 2}
    biceps |= {"fasciculations": "present", "mup": "neurogenic", "recruitment": "reduced"}
    examined, not_done = study.participants[:2]
    for participant, rows, missing in (
        (examined, [biceps], {}),
        (not_done, [], {"needle_muscles": "not_done"}),
    ):
        save_form(
            record_class=Emg,
            visit=participant.visits.get(code="M06"),
            user=study.investigator_a,
            answers=cmap,
            missing_reasons=missing,
            expected_version=0,
            complete=True,
            children={finding_label(r["muscle"], r["side"]): r for r in rows},
        )
    files, _result = export(study, tmp_path, fmt="csv", forms=("emg",))
    rows = {r["study_id"]: r for r in csv_table(files["data/emg.csv"])}

    def needle(participant):
        row = rows[participant.study_id]
        return row["needle_muscles"], row["needle_muscles_miss"]

    assert needle(examined) == ("1", "") and needle(not_done) == ("", "not_done")
    codebook = {r["variable"]: r for r in csv_table(files["codebook.csv"]) if r["file"] == "emg"}
    assert codebook["needle_muscles"]["label"] == "muscles examined by needle EMG"
    assert "not_done=Not done" in codebook["needle_muscles_miss"]["codes"]
