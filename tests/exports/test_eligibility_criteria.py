"""Eligibility is exported with one coded column per criterion (pass / fail / unknown,
value labels in SPSS and Stata, codes in the codebook), not as one JSON cell."""

from __future__ import annotations

import pyreadstat
import pytest

from crfs.eligibility.models import Eligibility
from crfs.eligibility.scoring import CRITERIA
from tests.exports.conftest import csv_table, export

pytestmark = pytest.mark.django_db


def test_each_criterion_has_its_own_coded_column(study, tmp_path):
    files, _r = export(study, tmp_path, "csv.zip", fmt="csv", forms=("eligibility",))
    rows = csv_table(files["data/eligibility.csv"])
    assert rows and "outcomes" not in rows[0]
    codebook = {r["long_name"]: r for r in csv_table(files["codebook.csv"])}
    records = {r.visit.participant.study_id: r for r in Eligibility.objects.all()}
    for row in rows:
        record = records[row["study_id"]]
        for criterion in CRITERIA:
            name = codebook[f"crit_{criterion.code}"]["variable"]
            assert row[name] == record.outcomes.get(criterion.code, "unknown"), name
    consent = codebook["crit_consent"]["variable"]
    assert {row[consent] for row in rows} == {"pass"}  # every participant signed consent
    spinal = codebook["crit_spinal_onset"]
    assert spinal["codes"] == "pass=Pass; fail=Fail; unknown=Unknown"
    assert spinal["numeric_codes"] == "1=pass; 2=fail; 3=unknown"
    assert spinal["label"] == "Criterion: Spinal (limb) onset"


@pytest.mark.parametrize(
    ("fmt", "reader"), [("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)]
)
def test_criterion_columns_carry_value_labels(study, tmp_path, fmt, reader):
    files, _r = export(study, tmp_path, fmt=fmt, forms=("eligibility",))
    path = tmp_path / f"eligibility.{fmt}"
    path.write_bytes(files[f"data/eligibility.{fmt}"])
    frame, meta = reader(str(path))
    assert meta.variable_value_labels["crit_consent"] == {1: "Pass", 2: "Fail", 3: "Unknown"}
    assert set(frame["crit_consent"]) <= {1.0, 2.0, 3.0}
