"""SAS transport files are version 5 (names of 8 characters, labels of 40), named from the
codebook's sas_name column, and pandas reads every one of them."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_every_xpt_file_is_version_5_and_opens_in_pandas(study, tmp_path, layout):
    files, result = export(study, tmp_path, fmt="xpt", layout=layout, audit=True)
    codebook = csv_table(files["codebook.csv"])
    xpt = sorted(name for name in files if name.endswith(".xpt"))
    assert xpt
    for name in xpt:
        table = name.removeprefix("data/").removesuffix(".xpt")
        content = files[name]
        assert content.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")
        assert b"LIBV8" not in content[:80] and b"OBSV8" not in content
        path = tmp_path / f"{layout}-{table}.xpt"
        path.write_bytes(content)
        documented = [r["sas_name"] for r in codebook if r["file"] == table]
        if result.row_counts[table]:
            frame = pd.read_sas(path, format="xport", encoding="utf-8")
            assert len(frame) == result.row_counts[table], table
            assert list(frame.columns) == documented
        else:  # pandas raises StopIteration on any XPORT file without rows; ReadStat reads it
            empty, _meta = pyreadstat.read_xport(str(path))
            assert empty.empty and list(empty.columns) == documented
        assert all(1 <= len(c) <= 8 for c in documented)
        assert len({c.lower() for c in documented}) == len(documented)
        _frame, meta = pyreadstat.read_xport(str(path), metadataonly=True)
        assert all(len(label or "") <= 40 for label in meta.column_labels)
    formats = files["data/formats.sas"].decode()
    for line in formats.splitlines():
        if line.startswith("DATA "):
            assert len(line.split()[1].rstrip(";")) <= 8, line


def test_sas_names_keep_the_visit_and_mark_missing_reasons(study, tmp_path):
    files, _result = export(study, tmp_path, fmt="xpt", layout="wide", forms=("alsfrs_r",))
    rows = {r["variable"]: r for r in csv_table(files["codebook.csv"]) if r["file"] == "alsfrs_r"}
    assert rows["q1_speech_BL"]["sas_name"].endswith("BL")
    assert rows["q1_speech_BL_miss"]["sas_name"].endswith("BLM")
    assert rows["study_id"]["sas_name"] == "study_id"
