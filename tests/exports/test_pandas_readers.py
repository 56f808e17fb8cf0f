"""Every file of every export format opens with the pandas reader an analyst would use:
read_csv, read_excel (openpyxl), read_spss (pyreadstat), read_stata and read_sas (XPORT),
with the rows of the manifest and the value labels the codebook declares."""

from __future__ import annotations

import io
import json
import math
from decimal import Decimal

import pandas as pd
import pytest

from crfs.emg.models import Emg, finding_label
from crfs.entry import save_form
from exports.tables import AUDIT_TABLE
from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db

FORMS = ("participants", "alsfrs_r", "fvc", "eligibility", "emg")
BICEPS = {
    "muscle": "biceps",
    "side": "right",
    "fibrillations": 2,
    "fasciculations": "present",
    "mup": "neurogenic",
    "recruitment": "reduced",
}


@pytest.fixture
def full_study(study):
    """The export study plus an EMG with a needle-muscle row (a child table)."""
    for person in study.participants[:2]:
        save_form(
            record_class=Emg,
            visit=person.visits.get(code="M06"),
            user=study.investigator_a,
            answers={
                "cmap_median": Decimal("5.2"),
                "cmap_ulnar": Decimal("6.1"),
                "cmap_peroneal": Decimal("2.35"),
                "cmap_tibial": Decimal("4"),
            },
            missing_reasons={},
            expected_version=0,
            complete=True,
            children={finding_label("biceps", "right"): BICEPS},
        )
    return study


def _codebook(files) -> tuple[dict, dict]:
    """({(file, variable): its codebook entry}, {code list: {code as text: item}})."""
    data = json.loads(files["codebook.json"])
    variables = {(t["name"], v["variable"]): v for t in data["tables"] for v in t["variables"]}
    lists = {
        name: {str(item["code"]): item for item in codelist["items"]}
        for name, codelist in data["code_lists"].items()
    }
    return variables, lists


def _read(fmt: str, files: dict, table: str, folder) -> pd.DataFrame:
    if fmt == "csv":
        content = io.BytesIO(files[f"data/{table}.csv"])
        return pd.read_csv(content, dtype=str, keep_default_na=False)
    if fmt == "xlsx":
        content = io.BytesIO(files["data/dataset.xlsx"])
        return pd.read_excel(content, sheet_name=table, engine="openpyxl")
    path = folder / f"{table}.{fmt}"
    path.write_bytes(files[f"data/{table}.{fmt}"])
    if fmt == "sav":
        return pd.read_spss(path)
    if fmt == "dta":
        return pd.read_stata(path)
    return pd.read_sas(path, format="xport", encoding="utf-8")


def _blank(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def test_every_format_opens_in_pandas_with_rows_values_and_value_labels(full_study, tmp_path):
    study = full_study
    csv_files, _r = export(study, tmp_path, "csv.zip", fmt="csv", forms=FORMS, audit=True)
    variables, lists = _codebook(csv_files)
    reference = {
        name.removeprefix("data/").removesuffix(".csv"): _read(
            "csv", csv_files, name[5:-4], tmp_path
        )
        for name in csv_files
        if name.startswith("data/") and name.endswith(".csv")
    }
    expected_tables = {*FORMS, "emg__findings", AUDIT_TABLE}
    assert set(reference) == expected_tables
    assert all(len(frame) > 0 for frame in reference.values())  # data in every table

    for fmt in ("csv", "xlsx", "sav", "dta", "xpt"):
        files, result = export(study, tmp_path, f"{fmt}.zip", fmt=fmt, forms=FORMS, audit=True)
        for table, csv_frame in reference.items():
            frame = _read(fmt, files, table, tmp_path)
            assert len(frame) == result.row_counts[table] == len(csv_frame), (fmt, table)
            names = [variables[(table, column)] for column in csv_frame.columns]
            column_of = {
                v["variable"]: v["sas_name"] if fmt == "xpt" else v["variable"] for v in names
            }
            assert list(frame.columns) == list(column_of.values()), (fmt, table)
            for entry in names:
                if not entry["code_list"]:
                    continue
                codes = lists[entry["code_list"]]
                column = frame[column_of[entry["variable"]]]
                if fmt in ("sav", "dta"):  # labelled: pandas shows the labels
                    assert isinstance(column.dtype, pd.CategoricalDtype), (fmt, table, entry)
                for row, code in enumerate(csv_frame[entry["variable"]]):
                    value = column.iloc[row]
                    if code == "":
                        assert _blank(value), (fmt, table, entry["variable"], value)
                        continue
                    assert code in codes, (table, entry["variable"], code)  # declared
                    item = codes[code]
                    if fmt in ("sav", "dta"):
                        assert value == item["label"], (fmt, table, entry["variable"])
                    elif fmt == "xpt":
                        assert _xport_equal(value, item["numeric_code"]), (table, entry["variable"])
                    else:
                        assert _same(value, code), (fmt, table, entry["variable"], value)
            if fmt == "xpt":  # no value labels in transport files: formats.sas gives them
                formats = files["data/formats.sas"].decode()
                for entry in names:
                    if entry["code_list"]:
                        assert f"  FORMAT {entry['sas_name']} " in formats, entry

        # A few values, read the way each analyst would see them.
        def seen(table: str, variable: str, code: str, fmt: str = fmt):
            codelist = variables[(table, variable)]["code_list"]
            if not codelist or fmt in ("csv", "xlsx"):
                return code
            item = lists[codelist][code]
            return item["numeric_code"] if fmt == "xpt" else item["label"]

        alsfrs = _read(fmt, files, "alsfrs_r", tmp_path)
        person = study.participants[0].study_id
        visit = alsfrs[_name(fmt, variables, "alsfrs_r", "visit")]
        (speech,) = alsfrs[
            (alsfrs["study_id"] == person) & (visit == seen("alsfrs_r", "visit", "BL"))
        ][_name(fmt, variables, "alsfrs_r", "q1_speech")]
        assert _same(speech, "3") or speech == seen("alsfrs_r", "q1_speech", "3"), (fmt, speech)
        audit = _read(fmt, files, AUDIT_TABLE, tmp_path)
        fields = audit[_name(fmt, variables, AUDIT_TABLE, "field")].tolist()
        assert fields.count("q1_speech") >= 9 and "fibrillations" in fields, fmt
        models = audit[_name(fmt, variables, AUDIT_TABLE, "model")].tolist()
        assert seen(AUDIT_TABLE, "model", "visits.Visit") in models, fmt
        findings = _read(fmt, files, "emg__findings", tmp_path)
        muscles = findings[_name(fmt, variables, "emg__findings", "muscle")].tolist()
        assert muscles == [seen("emg__findings", "muscle", "biceps")] * 2, (fmt, muscles)


def _xport_equal(value: float, code: int) -> bool:
    """pandas reads an exact zero of a transport file (all zero bytes, as SAS writes it)
    as 16**-65 = 5.4e-79 (pandas-dev/pandas#50670, open); the README tells analysts."""
    return value == code or (code == 0 and 0 < value < 1e-78)


def _same(value, code: str) -> bool:
    """A code as read from a spreadsheet: an integer column with blanks comes back as float."""
    if isinstance(value, float | int) and code.lstrip("-").isdigit():
        return value == int(code)
    return str(value) == code


def _name(fmt: str, variables: dict, table: str, variable: str) -> str:
    return variables[(table, variable)]["sas_name"] if fmt == "xpt" else variable


@pytest.mark.parametrize("fmt", ["sav", "dta", "xpt"])
def test_a_long_table_is_written_in_parts_that_add_up(study, tmp_path, fmt, monkeypatch):
    """pyreadstat writes whole frames: a long audit log goes in parts, never all in memory."""
    from exports.writers import stats

    monkeypatch.setattr(stats, "PART_ROWS", 100)
    csv_files, _r = export(study, tmp_path, "csv.zip", fmt="csv", audit=True)
    total = len(csv_table(csv_files[f"data/{AUDIT_TABLE}.csv"]))
    assert total > 250

    files, result = export(study, tmp_path, f"{fmt}.zip", fmt=fmt, audit=True)
    parts = [f"data/{AUDIT_TABLE}.{fmt}"] + [
        f"data/{AUDIT_TABLE}_part{n}.{fmt}" for n in range(2, (total + 99) // 100 + 1)
    ]
    assert sorted(name for name in files if name.startswith(f"data/{AUDIT_TABLE}")) == sorted(parts)
    frames = []
    for name in parts:
        path = tmp_path / name.removeprefix("data/")
        path.write_bytes(files[name])
        if fmt == "sav":
            frames.append(pd.read_spss(path))
        elif fmt == "dta":
            frames.append(pd.read_stata(path))
        else:
            frames.append(pd.read_sas(path, format="xport", encoding="utf-8"))
    assert [len(f) for f in frames[:-1]] == [100] * (len(parts) - 1)
    assert sum(len(f) for f in frames) == total == result.row_counts[AUDIT_TABLE]
    manifest = json.loads(files["manifest.json"])
    rows = {e["path"]: e["rows"] for e in manifest["files"]}
    assert sum(rows[name][AUDIT_TABLE] for name in parts) == total
    if fmt == "xpt":
        formats = files["data/formats.sas"].decode()
        assert f"LIBNAME x2 XPORT '{AUDIT_TABLE}_part2.xpt';" in formats


def test_a_table_longer_than_an_excel_sheet_goes_on_in_the_next_sheet(study, tmp_path, monkeypatch):
    from exports.writers import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 100)
    csv_files, _r = export(study, tmp_path, "csv.zip", fmt="csv", audit=True)
    expected = pd.read_csv(io.BytesIO(csv_files[f"data/{AUDIT_TABLE}.csv"]), dtype=str)
    files, result = export(study, tmp_path, "x.zip", fmt="xlsx", audit=True)
    sheets = pd.read_excel(io.BytesIO(files["data/dataset.xlsx"]), sheet_name=None, dtype=str)
    names = [AUDIT_TABLE] + [
        f"{AUDIT_TABLE}~{n}" for n in range(2, (len(expected) + 99) // 100 + 1)
    ]
    assert [n for n in sheets if n.startswith(AUDIT_TABLE)] == names
    frame = pd.concat([sheets[n] for n in names], ignore_index=True)
    assert len(frame) == len(expected) == result.row_counts[AUDIT_TABLE]
    assert frame["field"].tolist() == expected["field"].tolist()
    assert len(sheets["alsfrs_r"]) == 9 and "codebook" in sheets
