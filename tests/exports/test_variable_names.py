"""Variable names fit 32 characters by construction: no hash suffixes, every missing-reason
column is its value column's name plus `_miss`, in every layout and with PRO-ACT names."""

from __future__ import annotations

import re

import pytest

from exports.tables import build_tables
from exports.variables import MAX_CODED_NAME, MAX_NAME, fit_name
from tests.exports.conftest import all_options, csv_table, export

pytestmark = pytest.mark.django_db

HASH_SUFFIX = re.compile(r"_[0-9a-f]{4}$")


@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize(
    "choices",
    [
        {"identifiers": True},
        {"identifiers": True, "proact": True},
        # De-identified: a free-text answer left out takes its reason with it.
        {"deidentify": True, "pseudonymise": True},
    ],
)
def test_names_fit_pair_and_carry_no_hash(study, layout, choices):
    options = all_options(study, layout=layout, audit=True, **choices)
    for table in build_tables(options):
        names = [v.short for v in table.variables]
        assert len({n.lower() for n in names}) == len(names), table.name
        for variable in table.variables:
            name = variable.short
            assert len(name) <= (MAX_CODED_NAME if variable.codelist else MAX_NAME), name
            assert not HASH_SUFFIX.search(name), name
            if variable.role == "missing":
                assert name.endswith("_miss") and name.removesuffix("_miss") in names, name
            elif name.endswith("_miss"):
                pytest.fail(f"{name} is not a missing reason")


def test_long_names_are_cut_word_by_word_and_keep_their_pair(study, tmp_path):
    files, _r = export(study, tmp_path, fmt="csv", layout="wide")
    header = files["data/alsfrs_r.csv"].decode().splitlines()[0].split(",")
    assert {"q12_respira_insuffi_BL", "q12_respira_insuffi_BL_miss"} <= set(header)
    assert {"q9_climbing_stairs_M06", "q9_climbing_stairs_M06_miss"} <= set(header)
    codebook = {r["variable"]: r for r in csv_table(files["codebook.csv"])}
    assert codebook["q12_respira_insuffi_BL"]["long_name"] == "q12_respiratory_insufficiency_BL"


def test_fit_name_keeps_short_names_and_the_start_of_every_word():
    assert fit_name("q1_speech", 19) == "q1_speech"
    assert fit_name("q12_respiratory_insufficiency", 19) == "q12_respira_insuffi"
    assert fit_name("ex_cell_culture_hypersensitivity", 19) == "ex_cell_cultu_hyper"
    assert fit_name("9lives", 32) == "v_9lives"
