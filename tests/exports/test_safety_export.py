"""Adverse events, concomitant medication and the visits' safety reviews in every export
format: an SAE recorded at M06 through safety.services reaches CSV, SPSS, Stata, SAS
transport and ODM with its codes and labels; a de-identified bundle leaves the free text
out and shifts the partial dates keeping their precision."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import pyreadstat
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exports import tables
from exports.options import PARTICIPANTS_TABLE
from exports.safety_tables import ADVERSE_EVENTS, CONMEDS, SAFETY_REVIEW
from exports.tables import MAX_SHIFT_DAYS, pseudonym_and_shift, subject_key
from exports.writers.odm import validate_odm
from safety import services as safety_services
from tests.exports.conftest import all_options, csv_table, export
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SAFETY = (ADVERSE_EVENTS, CONMEDS, SAFETY_REVIEW)
# Free text typed into the safety records: none of it may reach a de-identified bundle.
FREE_TEXT = [
    "Bacterial meningitis after the injection",
    "IV ceftriaxone for ten days",
    "Baclofen Tavakoli-brand",
    "Spasticity of the legs",
    "Seen in the emergency room by Dr. Rahimi",
]


@dataclass
class SafetyStudy:
    study: object
    sae: object
    headache: object
    m06: object


def _sae_answers(m06) -> dict:
    onset = m06.actual_date.replace(day=1)  # known to the month only
    return {
        "verbatim_term": FREE_TEXT[0],
        "term_code": "meningitis",
        "onset_date": onset,
        "onset_precision": "month",
        "ongoing": True,
        "grade": 3,
        "serious": True,
        "sae_hospitalisation": True,
        "related_procedure": "possible",
        "related_cells": "unlikely",
        "action": "hospitalisation",
        "outcome": "recovering",
        "treatment": FREE_TEXT[1],
    }


def _headache_answers(m06) -> dict:
    return {
        "verbatim_term": "Headache on standing",
        "term_code": "post_lp_headache",
        "onset_date": m06.actual_date - timedelta(days=10),
        "onset_precision": "day",
        "end_date": m06.actual_date - timedelta(days=8),
        "end_precision": "day",
        "grade": 1,
        "serious": False,
        "related_procedure": "probable",
        "related_cells": "not",
        "action": "none",
        "outcome": "recovered",
    }


def _report(actor, visit, answers, *, complete=True, missing=None):
    return safety_services.save_adverse_event(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        event_id=None,
        answers=answers,
        missing_reasons=missing,
        expected_version=0,
        complete=complete,
    )


def _medicate(actor, visit, answers):
    return safety_services.save_conmed(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        conmed_id=None,
        answers=answers,
        expected_version=0,
        complete=True,
    )


RILUZOLE = {
    "medication": "riluzole",
    "indication": "ALS",
    "dose": 50,
    "dose_unit": "mg",
    "route": "oral",
    "frequency": "bid",
    "start_date": date(2025, 3, 1),
    "start_precision": "month",
    "ongoing": True,
}


@pytest.fixture
def safety_study(study) -> SafetyStudy:
    """The export study plus: at ISF participant 1's M06, an SAE (meningitis, assessed by
    the investigator, who calls it probably related to the procedure), a finished headache
    (one answer missing, with its reason), riluzole and a medication typed by name;
    participant 2's M06 safety review answers 'nothing since the last visit'; at THR
    participant 3 has a headache of their own."""
    investigator = study.investigator_a
    first, second, third = study.participants
    m06 = first.visits.get(code="M06")
    sae = _report(investigator, m06, _sae_answers(m06))
    safety_services.assess_adverse_event(
        actor=investigator,
        event=sae,
        serious=True,
        related_procedure="probable",
        related_cells="unlikely",
        comment=FREE_TEXT[4],
        password=PASSWORD,
    )
    headache = _report(
        investigator,
        m06,
        {**_headache_answers(m06), "related_cells": None},
        missing={"related_cells": "unknown"},
    )
    _medicate(investigator, m06, RILUZOLE)
    _medicate(
        investigator,
        m06,
        {
            **RILUZOLE,
            "medication": "other",
            "other_name": FREE_TEXT[2],
            "indication": FREE_TEXT[3],
            "dose": 10,
            "frequency": "tid",
            "start_date": m06.actual_date - timedelta(days=20),
            "start_precision": "day",
        },
    )
    review_visit = second.visits.get(code="M06")
    safety_services.save_visit_review(
        actor=investigator,
        visit=review_visit,
        answers={"no_adverse_events": True, "no_conmed_changes": True},
        expected_version=0,
    )
    third_m06 = third.visits.get(code="M06")
    _report(study.investigator_b, third_m06, _headache_answers(third_m06))
    return SafetyStudy(study=study, sae=sae, headache=headache, m06=m06)


def _safety_export(s: SafetyStudy, tmp_path, **overrides):
    return export(s.study, tmp_path, forms=(PARTICIPANTS_TABLE, *SAFETY), **overrides)


def _sae_row(rows, s: SafetyStudy) -> dict:
    return next(
        r
        for r in rows
        if r["study_id"] == s.m06.participant.study_id and float(r["ae_number"]) == 1
    )


def test_an_sae_at_m06_is_a_row_of_the_csv_with_the_investigators_assessment(
    safety_study, tmp_path
):
    s = safety_study
    files, result = _safety_export(s, tmp_path, fmt="csv")
    assert {f"data/{name}.csv" for name in SAFETY} <= set(files)
    events = pd.read_csv(io.BytesIO(files["data/adverse_events.csv"]), dtype=str).fillna("")
    assert len(events) == 3 == result.row_counts[ADVERSE_EVENTS]
    sae = _sae_row(events.to_dict("records"), s)
    onset = s.m06.actual_date.replace(day=1).isoformat()
    assert (sae["site"], sae["visit"], sae["visit_seq"]) == ("ISF", "M06", "0")
    assert (sae["term_code"], sae["term_soc"], sae["procedure_event"]) == (
        "meningitis",
        "Infections and infestations",
        "1",
    )
    assert (sae["onset_date"], sae["onset_precision"], sae["ongoing"]) == (onset, "month", "1")
    assert (sae["grade"], sae["serious"], sae["sae_hospitalisation"], sae["sae_death"]) == (
        "3",
        "1",
        "1",
        "0",
    )
    assert (sae["related_procedure"], sae["outcome"], sae["action"]) == (
        "possible",
        "recovering",
        "hospitalisation",
    )
    assert sae["verbatim_term"] == FREE_TEXT[0] and sae["treatment"] == FREE_TEXT[1]
    assert sae["form_status"] == "complete" and sae["sae_reported_at"].endswith("Z")
    # The coordinator's entry stays; the investigator's assessment is beside it.
    assert (sae["inv_assessments"], sae["inv_serious"], sae["inv_related_procedure"]) == (
        "1",
        "1",
        "probable",
    )
    assert sae["inv_comment"] == FREE_TEXT[4] and sae["inv_signed_at"].endswith("Z")
    headache = next(r for r in events.to_dict("records") if r["term_code"] == "post_lp_headache")
    assert headache["related_cells"] == "" and headache["related_cells_miss"] == "unknown"
    assert headache["inv_assessments"] == "0" and headache["inv_serious"] == ""
    meds = csv_table(files["data/conmeds.csv"])
    assert [(m["medication"], m["conmed_no"], m["als_drug"]) for m in meds] == [
        ("riluzole", "1", "1"),
        ("other", "2", "0"),
    ]
    assert (meds[0]["start_date"], meds[0]["start_precision"]) == ("2025-03-01", "month")
    assert meds[1]["other_name"] == FREE_TEXT[2] and meds[1]["dose"] == "10.000"
    reviews = csv_table(files["data/safety_review.csv"])
    assert [(r["visit"], r["no_adverse_events"], r["no_conmed_changes"]) for r in reviews] == [
        ("M06", "1", "1")
    ]


def test_the_codebook_gives_the_safety_code_lists_and_names_fit(safety_study, tmp_path):
    # A wide export too keeps one row per event and per medication.
    files, result = _safety_export(safety_study, tmp_path, fmt="csv", layout="wide")
    assert (result.row_counts[ADVERSE_EVENTS], result.row_counts[CONMEDS]) == (3, 2)
    codebook = csv_table(files["codebook.csv"])
    for table in SAFETY:
        header = files[f"data/{table}.csv"].decode().splitlines()[0].split(",")
        documented = [r["variable"] for r in codebook if r["file"] == table]
        assert documented == header
        assert all(len(name) <= 32 for name in header)
        # Each answer has its reason beside it, sharing its (fitted) stem.
        for name in header:
            if name.endswith("_miss"):
                assert name.removesuffix("_miss") in header
        sas = [r["sas_name"] for r in codebook if r["file"] == table]
        assert all(len(n) <= 8 for n in sas) and len({n.lower() for n in sas}) == len(sas)
    by_name = {r["long_name"]: r for r in codebook if r["file"] == ADVERSE_EVENTS}
    assert "meningitis=Meningitis" in by_name["term_code"]["codes"]
    assert "3=3 · Severe or medically significant" in by_name["grade"]["codes"]
    assert "possible=Possible" in by_name["related_procedure"]["codes"]
    assert "fatal=Fatal" in by_name["outcome"]["codes"]
    assert "month=Month" in by_name["onset_precision"]["codes"]
    assert by_name["serious"]["codes"] == "0=No; 1=Yes"
    # The longest criterion is fitted by construction, its reason sharing the stem.
    criterion = by_name["sae_important_medical_event"]["variable"]
    assert by_name["sae_important_medical_event_miss"]["variable"] == f"{criterion}_miss"
    assert by_name["inv_related_procedure"]["role"] == "assessment"
    meds = {r["long_name"]: r for r in codebook if r["file"] == CONMEDS}
    assert "riluzole=Riluzole" in meds["medication"]["codes"]
    assert "bid=Twice a day" in meds["frequency"]["codes"]


def test_spss_labels_the_grade_seriousness_and_term(safety_study, tmp_path):
    files, _result = _safety_export(safety_study, tmp_path, fmt="sav")
    path = tmp_path / "adverse_events.sav"
    path.write_bytes(files["data/adverse_events.sav"])
    events = pd.read_spss(str(path), convert_categoricals=True)
    sae = _sae_row(events.to_dict("records"), safety_study)
    assert sae["grade"] == "3 · Severe or medically significant"
    assert sae["serious"] == "Yes" and sae["sae_hospitalisation"] == "Yes"
    assert sae["term_code"] == "Meningitis" and sae["outcome"] == "Recovering / resolving"
    assert sae["inv_related_procedure"] == "Probable" and sae["onset_precision"] == "Month"
    _data, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["grade"] == "CTCAE grade" and labels["serious"] == "serious"
    meds = tmp_path / "conmeds.sav"
    meds.write_bytes(files["data/conmeds.sav"])
    frame = pd.read_spss(str(meds), convert_categoricals=True)
    assert list(frame["medication"]) == ["Riluzole", "Other (name it)"]


def test_stata_and_sas_transport_carry_the_sae(safety_study, tmp_path):
    files, _result = _safety_export(safety_study, tmp_path, fmt="dta")
    path = tmp_path / "adverse_events.dta"
    path.write_bytes(files["data/adverse_events.dta"])
    events = pd.read_stata(str(path), convert_categoricals=True)
    sae = _sae_row(events.to_dict("records"), safety_study)
    assert sae["grade"] == "3 · Severe or medically significant" and sae["serious"] == "Yes"
    assert sae["term_code"] == "Meningitis"

    files, _result = _safety_export(safety_study, tmp_path, name="xpt.zip", fmt="xpt")
    codebook = {
        r["long_name"]: r["sas_name"]
        for r in csv_table(files["codebook.csv"])
        if r["file"] == ADVERSE_EVENTS
    }
    path = tmp_path / "adverse_events.xpt"
    path.write_bytes(files["data/adverse_events.xpt"])
    frame, _meta = pyreadstat.read_xport(str(path))
    row = frame[frame[codebook["ae_number"]].round() == 1].iloc[0]
    assert round(row[codebook["grade"]]) == 3 and round(row[codebook["serious"]]) == 1
    formats = files["data/formats.sas"].decode()
    assert "'3 · Severe or medically significant'" in formats
    assert "'Meningitis'" in formats


def test_odm_nests_events_and_medication_as_repeating_item_groups_and_validates(
    safety_study, tmp_path
):
    files, result = _safety_export(safety_study, tmp_path, fmt="odm", audit=True)
    path = tmp_path / "dataset.odm.xml"
    path.write_bytes(files["data/dataset.odm.xml"])
    assert validate_odm(path) == []
    xml = files["data/dataset.odm.xml"].decode()
    assert '<ItemGroupDef OID="IG.adverse_events" Name="Adverse events" Repeating="Yes">' in xml
    assert '<ItemGroupDef OID="IG.conmeds"' in xml and 'OID="IG.conmeds"' in xml
    assert '<FormRef FormOID="F.adverse_events"' in xml
    assert (
        '<CodeList OID="CL.adverseevent_grade" Name="adverseevent.grade" DataType="integer">' in xml
    )
    assert (
        '<CodeListItem CodedValue="meningitis"><Decode><TranslatedText xml:lang="en">Meningitis'
        in xml
    )
    # The SAE and the headache: one FormData of M06, two repeats of its item group.
    subject = xml.split(f'SubjectKey="{safety_study.m06.participant.study_id}"')[1]
    m06 = subject.split('StudyEventOID="SE.M06"')[1].split("</StudyEventData>")[0]
    form = m06.split('<FormData FormOID="F.adverse_events">')[1].split("</FormData>")[0]
    assert re.findall(r'ItemGroupRepeatKey="(\d+)"', form) == ["1", "2"]
    assert '<ItemData ItemOID="IT.adverse_events.term_code" Value="meningitis"/>' in form
    assert '<ItemData ItemOID="IT.adverse_events.grade" Value="3"/>' in form
    meds = m06.split('<FormData FormOID="F.conmeds">')[1].split("</FormData>")[0]
    assert re.findall(r'ItemGroupRepeatKey="(\d+)"', meds) == ["1", "2"]
    assert result.row_counts[ADVERSE_EVENTS] == 3 and result.row_counts[CONMEDS] == 2


def test_a_deidentified_odm_with_safety_data_also_validates(safety_study, tmp_path):
    files, _result = _safety_export(
        safety_study, tmp_path, fmt="odm", deidentify=True, pseudonymise=True, audit=True
    )
    path = tmp_path / "dataset.odm.xml"
    path.write_bytes(files["data/dataset.odm.xml"])
    assert validate_odm(path) == []
    xml = files["data/dataset.odm.xml"].decode()
    assert "ItemGroupRepeatKey" in xml
    assert not [text for text in FREE_TEXT if text in xml]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta", "xpt", "odm"])
def test_a_deidentified_bundle_leaves_the_safety_free_text_out(safety_study, tmp_path, fmt):
    # The audit log too: every change of the safety records is in it, values withheld.
    files, result = _safety_export(
        safety_study, tmp_path, fmt=fmt, deidentify=True, pseudonymise=True, audit=True
    )
    assert result.row_counts.get("audit_log") or fmt == "odm"
    if fmt == "csv":
        log = csv_table(files["data/audit_log.csv"])
        verbatim = [
            r for r in log if r["model"] == "safety.AdverseEvent" and r["field"] == "verbatim_term"
        ]
        assert verbatim and {r["value_withheld"] for r in verbatim} == {"1"}
    for name, content in files.items():
        for text in FREE_TEXT:
            assert text.encode() not in content, (name, text)
    codebook = {(r["file"], r["long_name"]) for r in csv_table(files["codebook.csv"])}
    gone = [
        (ADVERSE_EVENTS, "verbatim_term"),
        (ADVERSE_EVENTS, "verbatim_term_miss"),
        (ADVERSE_EVENTS, "treatment"),
        (ADVERSE_EVENTS, "inv_comment"),
        (ADVERSE_EVENTS, "sae_reported_at"),
        (ADVERSE_EVENTS, "inv_signed_at"),
        (CONMEDS, "other_name"),
        (CONMEDS, "indication"),
    ]
    assert not codebook & set(gone)
    # Coded answers stay: the coded term is not free text.
    assert {(ADVERSE_EVENTS, "term_code"), (CONMEDS, "medication")} <= codebook


def test_deidentified_partial_dates_are_shifted_keeping_their_precision(safety_study, tmp_path):
    s = safety_study
    options = all_options(
        s.study, forms=(PARTICIPANTS_TABLE, *SAFETY), deidentify=True, pseudonymise=True
    )
    pseudonym, shift = pseudonym_and_shift(subject_key(options), s.m06.participant_id)
    assert 0 < abs(shift) <= MAX_SHIFT_DAYS
    files, _result = _safety_export(s, tmp_path, fmt="csv", deidentify=True, pseudonymise=True)
    events = csv_table(files["data/adverse_events.csv"])
    sae = next(r for r in events if r["study_id"] == pseudonym and r["ae_number"] == "1")
    headache = next(r for r in events if r["study_id"] == pseudonym and r["ae_number"] == "2")
    # A day-precise date moves by the participant's shift.
    assert headache["onset_date"] == (s.headache.onset_date + timedelta(days=shift)).isoformat()
    assert headache["onset_precision"] == "day"
    # A month-precise date moves too and stays the first day of a month.
    shifted = s.sae.onset_date + timedelta(days=shift)
    assert sae["onset_date"] == shifted.replace(day=1).isoformat()
    assert sae["onset_precision"] == "month"
    # Intervals from the transplantation are the true ones.
    assert sae["onset_days_from_tx"] == str((s.sae.onset_date - date(2025, 8, 1)).days)
    meds = csv_table(files["data/conmeds.csv"])
    riluzole = next(m for m in meds if m["study_id"] == pseudonym and m["medication"] == "riluzole")
    assert (
        riluzole["start_date"]
        == (date(2025, 3, 1) + timedelta(days=shift)).replace(day=1).isoformat()
    )
    assert riluzole["start_precision"] == "month"

    files, _result = _safety_export(
        s, tmp_path, name="days.zip", fmt="csv", deidentify=True, date_mode="days"
    )
    events = csv_table(files["data/adverse_events.csv"])
    by_term = {r["term_code"]: r for r in events if r["study_id"] == s.m06.participant.study_id}
    assert by_term["meningitis"]["onset_date"] == str((s.sae.onset_date - date(2025, 8, 1)).days)
    assert by_term["meningitis"]["onset_precision"] == "month"


def _build_and_read(options) -> int:
    """Queries to build the safety tables and read every row of them."""
    with CaptureQueriesContext(connection) as queries:
        for table in tables.build_tables(options):
            tables.count_rows(table)
            list(tables.stream_rows(table))
    return len(queries)


def test_building_the_safety_tables_costs_the_same_queries_for_more_events(
    safety_study, django_assert_num_queries
):
    s = safety_study
    for deidentify in (False, True):
        options = all_options(s.study, forms=SAFETY, deidentify=deidentify)
        before = _build_and_read(options)
        m06 = s.m06
        for day in range(3):
            _report(
                s.study.investigator_a,
                m06,
                {
                    **_headache_answers(m06),
                    "onset_date": m06.actual_date - timedelta(days=5 + day),
                    "end_date": m06.actual_date - timedelta(days=4 + day),
                },
            )
            _medicate(s.study.investigator_a, m06, {**RILUZOLE, "medication": "edaravone"})
        with django_assert_num_queries(before):
            for table in tables.build_tables(options):
                tables.count_rows(table)
                list(tables.stream_rows(table))


def test_the_export_page_offers_the_safety_tables_ticked(safety_study, client_for):
    page = client_for(safety_study.study.investigator_a).get(reverse("export-page")).text
    for code in SAFETY:
        assert re.search(rf'<input[^>]*value="{code}"[^>]*checked', page) or re.search(
            rf'<input[^>]*checked[^>]*value="{code}"', page
        ), code
    assert "Adverse events (one row per event" in page


def test_the_command_exports_the_safety_tables_by_default_or_alone(safety_study, tmp_path):
    call_command(
        "export_dataset", "--format", "csv", "--output", str(tmp_path / "all.zip"),
        "--site", "ISF",
    )  # fmt: skip
    names = set(zipfile.ZipFile(tmp_path / "all.zip").namelist())
    assert {f"data/{table}.csv" for table in SAFETY} | {"data/alsfrs_r.csv"} <= names
    call_command(
        "export_dataset", "--format", "csv", "--output", str(tmp_path / "ae.zip"),
        "--form", ADVERSE_EVENTS, "--deidentify",
    )  # fmt: skip
    archive = zipfile.ZipFile(tmp_path / "ae.zip")
    assert {n for n in archive.namelist() if n.startswith("data/")} == {"data/adverse_events.csv"}
    assert len(csv_table(archive.read("data/adverse_events.csv"))) == 3
