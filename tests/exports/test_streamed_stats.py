"""SPSS, Stata and SAS files are written a chunk of rows at a time (bounded memory): the
files are the same whatever the chunk size, read back with the CSV's values and the
codebook's value labels, and a text wider than measured is measured again."""

from __future__ import annotations

import json

import pyreadstat
import pytest

from exports.writers import stats
from tests.exports.conftest import csv_table, export
from tests.exports.test_pandas_readers import full_study  # noqa: F401 - a fixture
from tests.exports.test_pandas_readers import (
    test_every_format_opens_in_pandas_with_rows_values_and_value_labels as every_format_opens,
)

pytestmark = pytest.mark.django_db

STAT_FORMATS = ("sav", "dta", "xpt")


def tiny_chunks(monkeypatch) -> None:
    """Two rows per chunk: every row after the second goes through the appending path, and
    the last chunk of a table of an odd number of rows is shorter than the others."""
    monkeypatch.setattr(stats, "CHUNK_BYTES", 1)
    monkeypatch.setattr(stats, "MIN_CHUNK_ROWS", 2)
    monkeypatch.setattr(stats, "MAX_CHUNK_ROWS", 2)


def data_files(files: dict) -> dict[str, bytes]:
    return {name: content for name, content in files.items() if name.startswith("data/")}


@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("fmt", STAT_FORMATS)
def test_files_written_a_row_at_a_time_equal_those_written_at_once(
    study, tmp_path, monkeypatch, fmt, layout
):
    whole, result = export(study, tmp_path, f"whole-{fmt}.zip", fmt=fmt, layout=layout)
    assert max(result.row_counts.values()) >= 3  # more than one chunk below
    tiny_chunks(monkeypatch)
    chunked, chunked_result = export(study, tmp_path, f"rows-{fmt}.zip", fmt=fmt, layout=layout)
    assert chunked_result.row_counts == result.row_counts
    assert data_files(chunked) == data_files(whole)


@pytest.mark.parametrize("fmt", STAT_FORMATS)
def test_chunked_files_read_back_with_the_csv_values_and_labels(study, tmp_path, monkeypatch, fmt):
    csv_files, _r = export(
        study, tmp_path, "csv.zip", fmt="csv", forms=("participants", "alsfrs_r")
    )
    tiny_chunks(monkeypatch)
    files, result = export(
        study, tmp_path, f"{fmt}.zip", fmt=fmt, forms=("participants", "alsfrs_r")
    )
    read = {"sav": pyreadstat.read_sav, "dta": pyreadstat.read_dta, "xpt": pyreadstat.read_xport}
    codebook = json.loads(files["codebook.json"])
    lists = codebook["code_lists"]
    for table in ("participants", "alsfrs_r"):
        reference = csv_table(csv_files[f"data/{table}.csv"])
        path = tmp_path / f"{table}.{fmt}"
        path.write_bytes(files[f"data/{table}.{fmt}"])
        frame, meta = read[fmt](str(path))
        assert len(frame) == len(reference) == result.row_counts[table] >= 3
        columns = list(reference[0])
        if fmt == "xpt":  # 8-character names, in the same order
            assert len(frame.columns) == len(columns)
            frame.columns = columns
        else:
            assert list(frame.columns) == columns
        entries = {
            v["variable"]: v
            for t in codebook["tables"]
            if t["name"] == table
            for v in t["variables"]
        }
        coded = {}  # variable → {numeric code: (code, label)} of coded text
        for name, entry in entries.items():
            items = lists.get(entry.get("code_list") or "", {}).get("items", [])
            if items and lists[entry["code_list"]]["type"] == "text":
                coded[name] = {i["numeric_code"]: (str(i["code"]), i["label"]) for i in items}
        assert coded
        for name, codes in coded.items():
            if fmt != "xpt":  # value labels travel in the file (SAS: formats.sas)
                assert meta.variable_value_labels[name] == {
                    n: label for n, (_code, label) in codes.items()
                }
        for index, row in enumerate(reference):
            for column, text in row.items():
                value = frame[column].iloc[index]
                if column in coded and text:
                    assert codes_of(coded[column], value) == text, (table, index, column)
                else:
                    assert _same(text, value), (table, index, column)


def codes_of(codes: dict, value) -> str:
    return codes[int(value)][0]


def _same(text: str, value) -> bool:
    """The CSV's text against the value read back."""
    import math
    from datetime import date, datetime

    if text == "":
        return value is None or value == "" or (isinstance(value, float) and math.isnan(value))
    if isinstance(value, datetime):
        return text.startswith(value.strftime("%Y-%m-%d"))
    if isinstance(value, date):
        return text == value.isoformat()
    if isinstance(value, float):
        try:
            return math.isclose(float(text), value, rel_tol=1e-9, abs_tol=1e-9)
        except ValueError:
            return False
    return text.lstrip("'") == str(value) or text == str(value)


def test_every_format_opens_in_pandas_when_written_a_row_at_a_time(
    full_study,  # noqa: F811 - the fixture imported above
    tmp_path,
    monkeypatch,
):
    tiny_chunks(monkeypatch)
    every_format_opens(full_study, tmp_path)


@pytest.mark.parametrize("fmt", STAT_FORMATS)
def test_a_text_wider_than_measured_is_measured_again_on_the_values(
    study, tmp_path, monkeypatch, fmt
):
    whole, _r = export(study, tmp_path, f"whole-{fmt}.zip", fmt=fmt)
    tiny_chunks(monkeypatch)
    measured_again = []
    in_python = stats.text_widths_in_python

    def spy(table):
        measured_again.append(table.name)
        return in_python(table)

    monkeypatch.setattr(stats, "text_widths", lambda table: dict.fromkeys(in_python(table), 0))
    monkeypatch.setattr(stats, "text_widths_in_python", spy)
    files, _r = export(study, tmp_path, f"again-{fmt}.zip", fmt=fmt)
    assert measured_again  # a chunk had a wider text: the table was measured again
    assert data_files(files) == data_files(whole)
