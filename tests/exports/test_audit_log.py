"""The audit log of an export lists every tracked model's changes field by field: old and
new value, who, when and why; scoped like the data and de-identified like it."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pandas as pd
import pghistory
import pghistory.models
import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crfs.emg.models import Emg, finding_label
from crfs.entry import save_form
from exports.audit import tracked_models
from exports.tables import AUDIT_TABLE, build_tables, stream_rows
from participants.models import ParticipantIdentity
from tests.exports.conftest import ALL_FOURS, all_options, csv_table, enter_alsfrs, export
from tests.exports.test_deidentify import FREE_TEXT
from visits.services import record_visit_date

pytestmark = pytest.mark.django_db

ISO_WITH_OFFSET = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
CMAP = {
    "cmap_median": Decimal("5.2"),
    "cmap_ulnar": Decimal("6.1"),
    "cmap_peroneal": Decimal("2.35"),
    "cmap_tibial": Decimal("4"),
}
BICEPS = {
    "muscle": "biceps",
    "side": "right",
    "fibrillations": 2,
    "fasciculations": "present",
    "mup": "neurogenic",
    "recruitment": "reduced",
}
NEW_PHONE = "+98 31 5550 9999"
NEW_ADDRESS = "44 Sepahan Street"


def _emg_with_a_muscle_then_without(actor, visit):
    """An EMG whose needle muscle row is deleted by a correction: a delete event."""
    label = finding_label(BICEPS["muscle"], BICEPS["side"])
    common = {"record_class": Emg, "visit": visit, "user": actor, "answers": CMAP}
    save_form(
        **common, missing_reasons={}, expected_version=0, complete=True, children={label: BICEPS}
    )
    save_form(
        **common,
        missing_reasons={"needle_muscles": "not_done"},
        expected_version=1,
        complete=True,
        children={},
        reason="muscle entered for the wrong participant",
    )


def _correct_identity(actor, participant):
    with pghistory.context(actor_id=actor.pk, reason="phone and address corrected"):
        ParticipantIdentity.objects.filter(participant=participant).update(
            phone=NEW_PHONE, address=NEW_ADDRESS
        )


def _tracked_labels_with_events() -> set[str]:
    """Told by pghistory itself, independently of the export: every tracked model that has
    events (a new app's models included)."""
    labels = set()
    for model in apps.get_models():
        if issubclass(model, pghistory.models.Event) and not model._meta.proxy:
            tracked = getattr(model, "pgh_tracked_model", None)
            if tracked is not None and model.objects.exists():
                labels.add(tracked._meta.label)
    return labels


def _rows(rows, **match):
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


def test_audit_log_lists_every_tracked_model_field_by_field(study, tmp_path):
    person, actor = study.participants[0], study.investigator_a
    baseline = person.visits.get(code="BL")
    corrected = ALL_FOURS | {"q1_speech": 2, "q9_climbing_stairs": None}
    enter_alsfrs(
        actor, baseline, corrected, complete=True, missing={"q9_climbing_stairs": "not_done"}
    )
    m06 = person.visits.get(code="M06")
    was = m06.actual_date
    record_visit_date(actor=actor, visit=m06, actual_date=was + timedelta(days=3), reason="typo")
    _emg_with_a_muscle_then_without(actor, m06)
    _correct_identity(actor, person)

    files, _result = export(study, tmp_path, fmt="csv", audit=True, identifiers=True)
    rows = csv_table(files["data/audit_log.csv"])
    mine = {"study_id": person.study_id, "site": "ISF"}

    (speech,) = _rows(
        rows, **mine, model="crfs.AlsfrsR", visit="BL", field="q1_speech", event="update"
    )
    assert speech["old_value"] == "3" and speech["new_value"] == "2"
    assert speech["form"] == "alsfrs_r" and speech["field_label"] == "1. Speech"
    assert speech["changed_by"] == "inv_a" and speech["reason"] == "correction"
    assert ISO_WITH_OFFSET.fullmatch(speech["changed_at"]), speech["changed_at"]
    assert int(speech["change_no"]) > 1 and int(speech["event_id"]) > 0
    # Only what changed: the other answers of that save are not listed again.
    assert not _rows(
        rows, **mine, model="crfs.AlsfrsR", visit="BL", field="q2_salivation", event="update"
    )

    dated = _rows(rows, **mine, model="visits.Visit", visit="M06", field="actual_date")
    assert [(r["old_value"], r["new_value"], r["reason"]) for r in dated] == [
        ("", was.isoformat(), "record visit date"),
        (was.isoformat(), (was + timedelta(days=3)).isoformat(), "typo"),
    ]
    (muscle,) = _rows(rows, **mine, model="crfs.EmgMuscleFinding", field="muscle", event="delete")
    assert (muscle["old_value"], muscle["new_value"], muscle["form"]) == ("biceps", "", "emg")
    assert (
        muscle["visit"] == "M06" and muscle["reason"] == "muscle entered for the wrong participant"
    )
    (phone,) = _rows(
        rows, **mine, model="participants.ParticipantIdentity", event="update", field="phone"
    )
    # CSV keeps a leading + from becoming a formula with a quote (README: drop it to read).
    assert (phone["old_value"], phone["new_value"]) == (
        "'" + study.identities[0]["phone"],
        "'" + NEW_PHONE,
    )
    (height,) = _rows(rows, **mine, model="participants.Demographics", field="height_cm")
    assert (height["event"], height["change_no"], height["new_value"], height["reason"]) == (
        "insert",
        "1",
        "172.5",
        "register participant",
    )
    assert {r["event"] for r in rows} == {"insert", "update", "delete"}

    # Every tracked model with events is in the log, found without a list of them.
    assert {r["model"] for r in rows} == _tracked_labels_with_events()
    assert {"participants.Consent", "visits.Transplantation", "trials.Membership"} <= {
        r["model"] for r in rows
    }
    codebook = {
        r["variable"]: r for r in csv_table(files["codebook.csv"]) if r["file"] == AUDIT_TABLE
    }
    assert "visits.Visit=" in codebook["model"]["codes"]
    assert {"changed_at", "old_value", "new_value", "changed_by", "reason", "event"} <= set(
        codebook
    )


def test_audit_log_is_scoped_by_site_and_form(study, tmp_path):
    files, _result = export(
        study, tmp_path, fmt="csv", audit=True, site_ids=(study.site_a.pk,), forms=("fvc",)
    )
    rows = csv_table(files["data/audit_log.csv"])
    assert {r["site"] for r in rows} == {"ISF", ""}  # "": the trial's own settings
    assert {r["model"] for r in _rows(rows, site="")} == {
        "trials.Trial",
        "participants.ConsentVersion",
    }
    forms = {r["form"] for r in rows}
    assert "fvc" in forms and "alsfrs_r" not in forms and "eligibility" not in forms
    study_ids = {r["study_id"] for r in rows} - {""}
    assert study_ids == {p.study_id for p in study.participants[:2]}
    members = {r["new_value"] for r in _rows(rows, model="trials.Membership", field="user")}
    assert members == {"inv_a"}  # the other site's team is not listed


def test_identity_free_text_and_birth_dates_never_reach_a_deidentified_audit_log(study, tmp_path):
    person, actor = study.participants[0], study.investigator_a
    _correct_identity(actor, person)
    forbidden = [NEW_PHONE, NEW_ADDRESS, "1968-05-17", "inv_a", *FREE_TEXT]
    for identity in study.identities:
        forbidden += [v for v in identity.values() if v]
    forbidden += [p.screening_number for p in study.participants]
    forbidden += [p.study_id for p in study.participants]
    forbidden = [v.lower() for v in forbidden]

    for fmt in ("csv", "xlsx", "sav", "dta", "xpt"):
        files, _r = export(
            study, tmp_path, f"{fmt}.zip", fmt=fmt, deidentify=True, pseudonymise=True, audit=True
        )
        frame = _audit_frame(files, fmt, tmp_path)
        assert len(frame) > 100, fmt
        for value in frame.to_numpy().ravel():
            assert not any(f in str(value).lower() for f in forbidden), (fmt, value)
        identity = frame[frame["field"].isin(["phone", "address", "full_name", "national_id"])]
        assert len(identity) >= 4 + 2  # the registration and the correction
        assert (identity["value_withheld"].astype(str).isin(["1", "1.0", "Yes"])).all(), fmt

    # Dates move with the participant's shift, like in the data files.
    files, _r = export(
        study, tmp_path, "d.zip", fmt="csv", deidentify=True, pseudonymise=True, audit=True
    )
    rows = csv_table(files["data/audit_log.csv"])
    visits = {
        (r["study_id"], r["visit"]): r["actual_date"] for r in csv_table(files["data/alsfrs_r.csv"])
    }
    dated = _rows(rows, model="visits.Visit", field="actual_date", visit="M06")
    assert len(dated) == 3
    for row in dated:
        assert row["new_value"] == visits[(row["study_id"], "M06")]
    assert {"changed_at", "changed_by", "reason", "event_id"}.isdisjoint(rows[0])
    assert {"changed_on", "change_no", "record_id"} <= set(rows[0])
    assert not {"trials.Membership", "trials.Trial", "trials.Site"} & {r["model"] for r in rows}


def test_an_identified_export_without_identifiers_withholds_them_in_the_audit_log(study, tmp_path):
    _correct_identity(study.investigator_a, study.participants[0])
    files, _r = export(study, tmp_path, fmt="csv", audit=True)
    rows = csv_table(files["data/audit_log.csv"])
    identity = _rows(rows, model="participants.ParticipantIdentity")
    assert identity and all(r["old_value"] == r["new_value"] == "" for r in identity)
    assert all(r["value_withheld"] == "1" for r in identity)
    (birth,) = _rows(rows, study_id=study.participants[0].study_id, field="date_of_birth")
    assert birth["new_value"] == "" and birth["value_withheld"] == "1"
    text = files["data/audit_log.csv"].decode()
    assert NEW_PHONE not in text and "1968-05-17" not in text and "Maryam" not in text


def test_the_audit_log_is_read_in_one_query_whatever_its_length(study):
    options = all_options(study, audit=True)

    def read() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            (audit,) = [t for t in build_tables(options) if t.name == AUDIT_TABLE]
            rows = sum(1 for _row in stream_rows(audit, chunk_size=50))
        return len(queries), rows

    queries, rows = read()
    for person in study.participants:
        _correct_identity(study.investigator_a, person)
        _emg_with_a_muscle_then_without(study.investigator_a, person.visits.get(code="M06"))
    more_queries, more_rows = read()
    assert more_rows > rows + 100 and more_queries == queries


def _audit_frame(files, fmt: str, folder) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(
            io.BytesIO(files["data/audit_log.csv"]), dtype=str, keep_default_na=False
        )
    if fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(files["data/dataset.xlsx"]), read_only=True)
        assert AUDIT_TABLE in book.sheetnames
        return pd.read_excel(
            io.BytesIO(files["data/dataset.xlsx"]), sheet_name=AUDIT_TABLE, dtype=str
        )
    path = folder / f"audit.{fmt}"
    path.write_bytes(files[f"data/{AUDIT_TABLE}.{fmt}"])
    if fmt == "sav":
        return pd.read_spss(path)
    if fmt == "dta":
        return pd.read_stata(path)
    frame = pd.read_sas(path, format="xport", encoding="utf-8")
    # SAS names: the codebook maps them back.
    names = {
        r["sas_name"]: r["variable"]
        for r in csv_table(files["codebook.csv"])
        if r["file"] == AUDIT_TABLE
    }
    return frame.rename(columns=names)


def test_every_tracked_model_is_a_record_type_of_the_audit_log(study, tmp_path):
    """A new app's tracked models (safety's adverse events, medications, ...) are in the
    log with no change to the export: the codebook declares every one pghistory tracks."""
    tracked = {
        model.pgh_tracked_model._meta.label
        for model in apps.get_models()
        if issubclass(model, pghistory.models.Event)
        and not model._meta.proxy
        and getattr(model, "pgh_tracked_model", None) is not None
    }
    # Tied to no participant, site or trial (a trial-wide instrument wording): nobody's data,
    # left out of every site's log and named in the bundle instead (exports/audit.py).
    nobodys = {
        t.label
        for t in tracked_models()
        if t.participant is None and t.site is None and t.trial is None
    }
    files, _r = export(study, tmp_path, fmt="csv", audit=True)
    codebook = json.loads(files["codebook.json"])
    declared = {item["code"] for item in codebook["code_lists"]["record_type"]["items"]}
    assert declared == tracked - nobodys
    assert {"visits.Visit", "participants.Demographics", "crfs.EligibilityOverride"} <= declared
    text = "\n".join(v.decode(errors="replace") for v in files.values())
    for label in nobodys:
        assert label in text, f"{label} is left out without a word"
