"""The export's optional review tables (queries, SDV, e-signatures, locks): present only when
ticked, their values for a real review story (a check's query answered, a verification a
change cleared, a visit signature the change invalidated, a lock lifted), de-identified
without free text and user names, readable by pandas, built in a constant number of SQL
queries; and the audit log file lists deleted records."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crfs.alsfrs_r.models import AlsfrsR
from exports import tables
from exports.bundle import build_bundle
from exports.forms import ExportForm
from exports.options import PARTICIPANTS_TABLE, REVIEW_TABLES, ExportOptions
from exports.tables import visit_codelist
from participants.choices import ParticipantStatus
from queries import services as query_services
from queries import tasks as query_tasks
from queries.models import Query
from review import services as review_services
from review.models import Lock, Scope, Signature, Verification
from safety import services as safety_services
from safety.models import ConcomitantMedication
from tests.exports.conftest import csv_table, read_zip
from tests.factories import ALSFRS_NORMAL, PASSWORD, investigator_of, member, save_crf
from trials import records
from trials.models import Role

pytestmark = pytest.mark.django_db

ANSWER = "Confirmed against the clinic notes: swallowing improved"
LOCK_REASON = "Interim analysis of the first cohort"
UNLOCK_REASON = "Interim analysis finished"


@pytest.fixture
def on_commit(monkeypatch, django_capture_on_commit_callbacks):
    """Run a save's after-commit work (the edit checks) as the worker would."""
    monkeypatch.setattr(
        query_tasks.after_record_saved,
        "delay",
        lambda *args: query_services.after_record_saved(*args),
    )
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def story(m06, coordinator_a, monitor_a, on_commit):
    """A check's query answered, a verification then a signature that a correction clears
    and invalidates, and a participant lock lifted again."""
    participant = m06.participant
    site = participant.site
    baseline = participant.visits.get(code="BL")
    with on_commit():
        save_crf(coordinator_a, baseline, AlsfrsR, ALSFRS_NORMAL | {"q3_swallowing": 1})
    with on_commit():
        record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q3_swallowing": 3})
    query = Query.objects.get(check_key="alsfrs_r_item_rise")
    query_services.post(actor=coordinator_a, query=query, action="answer", text=ANSWER)

    alsfrs = records.get("alsfrs_r")
    assert alsfrs is not None
    review_services.verify(actor=monitor_a, record_type=alsfrs, record=record)
    investigator = investigator_of(site)
    review_services.sign(
        actor=investigator, participant=participant, kind="visit", password=PASSWORD, visit=m06
    )
    changed = save_crf(
        coordinator_a,
        m06,
        AlsfrsR,
        ALSFRS_NORMAL | {"q3_swallowing": 3, "q1_speech": 3},
        reason="source says 3",
    )
    manager = member(Role.DATA_MANAGER, site, "dm_a")
    lock = review_services.lock(
        actor=manager,
        target=review_services.Target(scope=Scope.PARTICIPANT, site=site, participant=participant),
        reason=LOCK_REASON,
    )
    review_services.unlock(actor=manager, lock=lock, reason=UNLOCK_REASON)
    return {
        "participant": participant,
        "visit": m06,
        "record": changed,
        "query": Query.objects.get(pk=query.pk),
        "verification": Verification.objects.get(),
        "signature": Signature.objects.get(),
        "lock": Lock.objects.get(),
        "investigator": investigator,
        "manager": manager,
    }


def options_for(site, **overrides) -> ExportOptions:
    values = {
        "forms": (PARTICIPANTS_TABLE, "alsfrs_r", "conmeds"),
        "visits": tuple(code for code, _l in visit_codelist().items),
        "site_ids": (site.pk,),
        "statuses": tuple(ParticipantStatus.values),
        "review": REVIEW_TABLES,
    }
    values.update(overrides)
    return ExportOptions(**values)


def bundle(tmp_path, options, name="bundle.zip") -> dict[str, bytes]:
    path = tmp_path / name
    build_bundle(options, path, requested_by="tester")
    return read_zip(path)


def rows(files, table) -> list[dict[str, str]]:
    return csv_table(files[f"data/{table}.csv"])


@pytest.mark.parametrize("ticked", REVIEW_TABLES)
def test_a_review_table_is_in_the_bundle_only_when_ticked(tmp_path, story, ticked):
    site = story["participant"].site
    files = bundle(tmp_path, options_for(site, review=(ticked,)))
    present = {name for name in REVIEW_TABLES if f"data/{name}.csv" in files}
    assert present == {ticked}
    codebook = csv_table(files["codebook.csv"])
    assert {row["file"] for row in codebook} & set(REVIEW_TABLES) == {ticked}
    assert rows(files, ticked)  # the story put at least one row in each

    files = bundle(tmp_path, options_for(site, review=()), "none.zip")
    assert not {name for name in REVIEW_TABLES if f"data/{name}.csv" in files}


def test_the_export_form_offers_the_review_tables_unticked(monitor_a, m06):
    manager = member(Role.DATA_MANAGER, m06.participant.site, "dm_form")
    form = ExportForm(user=manager)
    choices = dict(form.fields["review"].choices)
    assert set(choices) == set(REVIEW_TABLES)
    assert not form.initial.get("review")


def test_identified_values_of_the_review_story(tmp_path, story, monitor_a):
    participant, record = story["participant"], story["record"]
    files = bundle(tmp_path, options_for(participant.site))

    [query] = rows(files, "queries")
    assert query["study_id"] == participant.study_id and query["visit"] == "M06"
    assert (query["record_type"], query["record_id"], query["field"]) == (
        "alsfrs_r",
        str(record.pk),
        "q3_swallowing",
    )
    assert (query["status"], query["raised_by"], query["check_key"]) == (
        "answered",
        "check",
        "alsfrs_r_item_rise",
    )
    assert query["assigned_role"] == "coordinator" and query["closed_at"] == ""
    assert query["messages"] == "2" and query["age_days"] == "0"
    assert query["opened_by"] == "" and query["closed_by_check"] == "0"
    assert ANSWER in query["thread"] and "coord_a" in query["thread"]
    assert query["opened_at"].startswith(story["query"].opened_at.strftime("%Y-%m-%dT"))

    verification = story["verification"]
    [sdv] = rows(files, "sdv")
    assert (sdv["record_type"], sdv["record_id"], sdv["field"]) == ("alsfrs_r", str(record.pk), "")
    assert sdv["state"] == "cleared" and sdv["cleared_fields"] == "q1_speech"
    assert sdv["cleared_version"] == str(record.version)
    assert sdv["cleared_by_event"] == str(verification.cleared_by_event)
    assert sdv["record_version"] == str(record.version - 1)
    assert sdv["verified_by"] == monitor_a.username
    assert sdv["verified_at"] and sdv["cleared_at"]

    signature = story["signature"]
    signed = rows(files, "signatures")
    assert {row["signed"] for row in signed} == {"visit"}
    assert {row["valid"] for row in signed} == {"0"}
    assert {row["signed_by"] for row in signed} == {story["investigator"].username}
    by_record = {(row["record_type"], row["record_id"]): row for row in signed}
    alsfrs_row = by_record[("alsfrs_r", str(record.pk))]
    assert alsfrs_row["record_version"] == str(record.version - 1)
    assert alsfrs_row["invalidated_version"] == str(record.version)
    assert alsfrs_row["invalidated_by"] == f"alsfrs_r:{record.pk}"
    assert alsfrs_row["meaning"] == signature.meaning and alsfrs_row["visit"] == "M06"
    assert ("visit", str(story["visit"].pk)) in by_record

    [lock] = rows(files, "locks")
    assert (lock["scope"], lock["active"], lock["study_id"]) == (
        "participant",
        "0",
        participant.study_id,
    )
    assert (lock["reason"], lock["unlock_reason"]) == (LOCK_REASON, UNLOCK_REASON)
    assert lock["locked_by"] == lock["unlocked_by"] == story["manager"].username
    assert lock["locked_at"] and lock["unlocked_at"] and lock["record_id"] == ""

    codebook = {(r["file"], r["variable"]): r for r in csv_table(files["codebook.csv"])}
    assert "answered=Answered" in codebook[("queries", "status")]["codes"]
    assert "check=Edit check" in codebook[("queries", "raised_by")]["codes"]
    assert "cleared=" in codebook[("sdv", "state")]["codes"]
    assert "visit=Visit" in codebook[("signatures", "signed")]["codes"]
    assert "participant=Participant" in codebook[("locks", "scope")]["codes"]


def test_a_de_identified_bundle_leaves_free_text_and_user_names_out(tmp_path, story, monitor_a):
    participant, record = story["participant"], story["record"]
    options = options_for(
        participant.site, deidentify=True, pseudonymise=True, audit=True, date_mode="shift"
    )
    files = bundle(tmp_path, options)
    everything = b"".join(content for name, content in files.items() if name != "manifest.json")
    for secret in (ANSWER, LOCK_REASON, UNLOCK_REASON, "source says 3"):
        assert secret.encode() not in everything
    names = [monitor_a.username, story["investigator"].username, story["manager"].username]
    for table in REVIEW_TABLES:
        content = files[f"data/{table}.csv"]
        for username in [*names, "coord_a"]:
            assert username.encode() not in content, (table, username)
    [query] = rows(files, "queries")
    assert "thread" not in query and "opened_by" not in query and "opened_at" not in query
    assert query["study_id"].startswith("P") and query["study_id"] != participant.study_id
    # The record's key is the audit log's key of the same record, never its id.
    audit = rows(files, "audit_log")
    alsfrs_keys = {row["record_id"] for row in audit if row["model"] == AlsfrsR._meta.label}
    assert query["record_id"] in alsfrs_keys and query["record_id"] != str(record.pk)
    # Dates shifted by the participant's shift, like the visit dates.
    [sdv] = rows(files, "sdv")
    assert "verified_by" not in sdv and "cleared_by_event" not in sdv
    shift = date.fromisoformat(query["opened_on"]) - story["query"].opened_at.date()
    visit_row = next(r for r in rows(files, "alsfrs_r") if r["visit"] == "M06")
    true_visit = story["visit"].actual_date
    assert date.fromisoformat(visit_row["actual_date"]) - true_visit == shift
    assert shift.days != 0
    [lock] = rows(files, "locks")
    assert "reason" not in lock and "locked_by" not in lock and lock["locked_on"]

    days = bundle(
        tmp_path, options_for(participant.site, deidentify=True, date_mode="days"), "d.zip"
    )
    [query] = rows(days, "queries")
    tx = participant.transplantation.performed_on
    assert int(query["opened_on"]) == (story["query"].opened_at.date() - tx).days


def test_a_site_lock_is_in_identified_bundles_only(tmp_path, story):
    site = story["participant"].site
    review_services.lock(
        actor=story["manager"],
        target=review_services.Target(scope=Scope.SITE, site=site),
        reason="Database lock",
    )
    identified = rows(bundle(tmp_path, options_for(site, review=("locks",))), "locks")
    assert sorted(row["scope"] for row in identified) == ["participant", "site"]
    deid = bundle(tmp_path, options_for(site, review=("locks",), deidentify=True), "d.zip")
    assert [row["scope"] for row in rows(deid, "locks")] == ["participant"]


@pytest.mark.parametrize("fmt", ["sav", "dta", "xpt", "xlsx"])
def test_the_review_tables_open_in_pandas(tmp_path, story, fmt):
    site = story["participant"].site
    files = bundle(tmp_path, options_for(site, fmt=fmt))
    for table in REVIEW_TABLES:
        if fmt == "xlsx":
            frame = pd.read_excel(io.BytesIO(files["data/dataset.xlsx"]), sheet_name=table)
        else:
            path = tmp_path / f"{table}.{fmt}"
            path.write_bytes(files[f"data/{table}.{fmt}"])
            if fmt == "sav":
                frame = pd.read_spss(path)
            elif fmt == "dta":
                frame = pd.read_stata(path)
            else:
                frame = pd.read_sas(path, format="xport", encoding="infer")
        assert len(frame) >= 1, table
    if fmt == "sav":
        path = tmp_path / "queries.sav"
        frame = pd.read_spss(path)
        assert list(frame["status"]) == ["Answered"]
        assert list(frame["raised_by"]) == ["Edit check"]
    if fmt == "xpt":
        formats = files["data/formats.sas"].decode()
        assert "'Answered'" in formats
        assert all(
            len(name) <= 8 for name in pd.read_sas(tmp_path / "sdv.xpt", encoding="infer").columns
        )


def test_the_review_tables_read_in_pandas_from_csv(tmp_path, story):
    files = bundle(tmp_path, options_for(story["participant"].site))
    frame = pd.read_csv(io.BytesIO(files["data/queries.csv"]))
    assert list(frame["status"]) == ["answered"] and list(frame["messages"]) == [2]
    assert len(pd.read_csv(io.BytesIO(files["data/signatures.csv"]))) >= 2


def _queries_to_build_and_read(options) -> int:
    with CaptureQueriesContext(connection) as captured:
        for table in tables.build_tables(options):
            if table.name in REVIEW_TABLES:
                list(tables.stream_rows(table))
                tables.count_rows(table)
    return len(captured.captured_queries)


def test_each_table_takes_a_constant_number_of_queries(story, coordinator_a, monitor_a):
    participant, visit = story["participant"], story["visit"]
    options = options_for(participant.site, forms=(), deidentify=True)
    before = _queries_to_build_and_read(options)
    # More of everything: another query, verification, signature and lock.
    Query.objects.create(
        site=participant.site,
        participant=participant,
        visit=visit,
        record_type="alsfrs_r",
        record_pk=story["record"].pk,
        field_name="q1_speech",
        opened_by=monitor_a,
        opened_at=story["query"].opened_at,
    )
    alsfrs = records.get("alsfrs_r")
    assert alsfrs is not None
    review_services.verify(
        actor=monitor_a, record_type=alsfrs, record=story["record"], fields=["q2_salivation"]
    )
    review_services.sign(
        actor=story["investigator"],
        participant=participant,
        kind="casebook",
        password=PASSWORD,
    )
    review_services.lock(
        actor=story["manager"],
        target=review_services.Target(
            scope=Scope.PARTICIPANT, site=participant.site, participant=participant
        ),
        reason="again",
    )
    assert _queries_to_build_and_read(options) == before


def test_the_audit_log_lists_a_deleted_medication(tmp_path, m06, coordinator_a):
    medication = safety_services.save_conmed(
        actor=coordinator_a,
        participant=m06.participant,
        visit=m06,
        conmed_id=None,
        answers={
            "medication": "riluzole",
            "indication": "ALS",
            "dose": 50,
            "dose_unit": "mg",
            "route": "oral",
            "frequency": "bid",
            "start_date": date(2025, 3, 1),
            "start_precision": "month",
            "ongoing": True,
        },
        expected_version=0,
        complete=True,
    )
    pk = medication.pk
    ConcomitantMedication.objects.get(pk=pk).delete()  # no page deletes one: the model does
    files = bundle(tmp_path, options_for(m06.participant.site, review=(), audit=True))
    audit = [
        row
        for row in rows(files, "audit_log")
        if row["model"] == "safety.ConcomitantMedication" and row["record_id"] == str(pk)
    ]
    deleted = [row for row in audit if row["event"] == "delete"]
    assert deleted, "the deletion is in the audit log"
    medication_row = next(row for row in deleted if row["field"] == "medication")
    assert (medication_row["old_value"], medication_row["new_value"]) == ("riluzole", "")
    assert {row["event"] for row in audit} == {"insert", "delete"}
