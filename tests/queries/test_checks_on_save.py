"""Each edit check through the write path that saves its data: a save that makes the data
implausible raises the check's query once (after commit, as the worker does), a correcting
save closes it with a message saying why; the nightly batch and the data manager's bulk run
find the same."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from crfs.vitals.models import Vitals
from queries import services
from queries.models import MessageKind, Query, QueryStatus
from safety.models import AdverseEvent, ConcomitantMedication
from safety.services import save_adverse_event, save_conmed
from tests.conftest import TX_DAY
from tests.factories import (
    ALSFRS_NORMAL,
    HEADACHE,
    SCREENING_FVC,
    save_crf,
    transplanted_participant,
)
from visits.services import record_visit_date

pytestmark = pytest.mark.django_db

VITALS = {
    "weight_kg": Decimal("60.0"),
    "height_cm": Decimal("165.0"),
    "systolic_bp": 118,
    "diastolic_bp": 76,
    "heart_rate": 72,
    "respiratory_rate": 16,
    "temperature_c": Decimal("36.8"),
    "spo2_percent": 97,
}


def queries_of(check_key):
    return list(Query.objects.filter(check_key=check_key).order_by("pk"))


def last_message(query):
    return query.messages.order_by("pk").last()


@pytest.fixture
def baseline(m06):
    return m06.participant.visits.get(code="BL")


def test_an_alsfrs_item_rise_raises_a_query_once_and_closes_when_corrected(
    baseline, m06, coordinator_a, on_commit
):
    with on_commit():
        save_crf(coordinator_a, baseline, AlsfrsR, ALSFRS_NORMAL | {"q3_swallowing": 1})
    with on_commit():
        save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q3_swallowing": 3})
    [query] = queries_of("alsfrs_r_item_rise")
    record = AlsfrsR.objects.get(visit=m06)
    assert (query.record_type, query.record_pk, query.field_name) == (
        "alsfrs_r",
        record.pk,
        "q3_swallowing",
    )
    assert (query.participant_id, query.visit_id, query.status) == (
        m06.participant_id,
        m06.pk,
        "open",
    )
    assert query.opened_by is None and "rose from 1 at BL to 3 at M06" in last_message(query).text

    # Saved again (another item, still rising): the same query, not a second one.
    with on_commit():
        save_crf(
            coordinator_a,
            m06,
            AlsfrsR,
            ALSFRS_NORMAL | {"q3_swallowing": 3, "q1_speech": 3},
            reason="typo",
        )
    assert queries_of("alsfrs_r_item_rise") == [query]
    assert query.messages.count() == 1

    with on_commit():
        save_crf(
            coordinator_a,
            m06,
            AlsfrsR,
            ALSFRS_NORMAL | {"q3_swallowing": 2, "q1_speech": 3},
            reason="source says 2",
        )
    query.refresh_from_db()
    assert (query.status, query.closed_by_check, query.closed_by) == ("closed", True, None)
    closing = last_message(query)
    assert closing.kind == MessageKind.CLOSED and "no longer finds" in closing.text
    assert "ALSFRS-R saved by coord_a" in closing.text

    # Wrong again: the check reopens the query it closed itself.
    with on_commit():
        save_crf(
            coordinator_a,
            m06,
            AlsfrsR,
            ALSFRS_NORMAL | {"q3_swallowing": 4, "q1_speech": 3},
            reason="again",
        )
    query.refresh_from_db()
    assert query.status == "open" and last_message(query).kind == MessageKind.REOPENED
    assert Query.objects.filter(check_key="alsfrs_r_item_rise").count() == 1


def test_an_alsfrs_total_rise(baseline, m06, coordinator_a, on_commit):
    low = ALSFRS_NORMAL | {
        "q1_speech": 3,
        "q4_handwriting": 3,
        "q6_dressing_hygiene": 3,
        "q7_turning_in_bed": 3,
        "q8_walking": 3,
        "q9_climbing_stairs": 3,
    }
    with on_commit():
        save_crf(coordinator_a, baseline, AlsfrsR, low)
        save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    [query] = queries_of("alsfrs_r_total_rise")
    assert query.field_name == "total" and "from 42 at BL to 48 at M06" in last_message(query).text
    assert queries_of("alsfrs_r_item_rise") == []  # +1 per item
    with on_commit():
        save_crf(coordinator_a, m06, AlsfrsR, low | {"q1_speech": 4}, reason="checked")
    query.refresh_from_db()
    assert query.status == "closed"


def test_an_fvc_fall(m06, coordinator_a, on_commit):
    screening = m06.participant.visits.get(code="SCR")
    low = SCREENING_FVC | {
        "trial_1_litres": Decimal("1.20"),
        "trial_2_litres": Decimal("1.25"),
        "trial_3_litres": Decimal("1.22"),
    }
    with on_commit():
        save_crf(coordinator_a, screening, Fvc, SCREENING_FVC)
        save_crf(coordinator_a, m06, Fvc, low)
    [query] = queries_of("fvc_fall")
    assert query.record_pk == Fvc.objects.get(visit=m06).pk
    with on_commit():
        save_crf(
            coordinator_a,
            m06,
            Fvc,
            SCREENING_FVC | {"trial_2_litres": Decimal("2.40")},
            reason="wrong blow",
        )
    query.refresh_from_db()
    assert query.status == "closed"


def test_a_weight_change_from_baseline(baseline, m06, coordinator_a, on_commit):
    with on_commit():
        save_crf(coordinator_a, baseline, Vitals, VITALS)
        save_crf(coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("50.0")})
    [query] = queries_of("weight_change")
    assert query.field_name == "weight_kg" and "-16.7" in last_message(query).text
    with on_commit():
        save_crf(
            coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("58.0")}, reason="scale"
        )
    query.refresh_from_db()
    assert query.status == "closed"


def test_a_visit_out_of_window(m06, coordinator_a, on_commit):
    with on_commit():
        record_visit_date(
            actor=coordinator_a,
            visit=m06,
            actual_date=m06.window_start - timedelta(days=3),
            reason="seen early",
        )
    [query] = queries_of("visit_window")
    assert (query.record_type, query.record_pk, query.visit_id) == ("visit", m06.pk, m06.pk)
    assert query.field_name == "actual_date" and "outside its window" in last_message(query).text
    with on_commit():
        record_visit_date(
            actor=coordinator_a, visit=m06, actual_date=m06.target_date, reason="wrong month typed"
        )
    query.refresh_from_db()
    assert query.status == "closed"


def test_an_ae_ending_before_onset_from_outside_the_form_closes_when_saved_right(
    m06, coordinator_a, on_commit
):
    participant = m06.participant
    event = save_adverse_event(
        actor=coordinator_a,
        participant=participant,
        visit=m06,
        event_id=None,
        answers=HEADACHE,
        expected_version=0,
        complete=True,
    )
    # The form refuses it; an edit that bypasses the form (the admin, a load) does not.
    AdverseEvent.objects.filter(pk=event.pk).update(end_date=date(2025, 8, 1))
    services.run_all_checks()
    [query] = queries_of("ae_dates")
    assert (query.record_type, query.record_pk, query.field_name) == (
        "adverse_event",
        event.pk,
        "end_date",
    )
    with on_commit():
        save_adverse_event(
            actor=coordinator_a,
            participant=participant,
            visit=m06,
            event_id=event.pk,
            answers=HEADACHE,
            expected_version=event.version,
            complete=True,
            reason="end date from the source",
        )
    query.refresh_from_db()
    assert query.status == "closed"


def test_a_conmed_stopped_before_start_from_outside_the_form(m06, coordinator_a, on_commit):
    participant = m06.participant
    answers = {
        "medication": "riluzole",
        "other_name": "",
        "indication": "ALS",
        "dose": Decimal(50),
        "dose_unit": "mg",
        "route": "oral",
        "frequency": "bid",
        "start_date": date(2025, 3, 1),
        "start_precision": "month",
        "stop_date": date(2025, 6, 1),
        "stop_precision": "month",
        "ongoing": False,
    }
    med = save_conmed(
        actor=coordinator_a,
        participant=participant,
        visit=m06,
        conmed_id=None,
        answers=answers,
        expected_version=0,
        complete=True,
    )
    ConcomitantMedication.objects.filter(pk=med.pk).update(stop_date=date(2025, 1, 1))
    services.run_all_checks()
    [query] = queries_of("conmed_dates")
    assert query.record_pk == med.pk and "Riluzole" in last_message(query).text
    with on_commit():
        save_conmed(
            actor=coordinator_a,
            participant=participant,
            visit=m06,
            conmed_id=med.pk,
            answers=answers,
            expected_version=med.version,
            complete=True,
            reason="stop from the source",
        )
    query.refresh_from_db()
    assert query.status == "closed"


def test_the_nightly_batch_over_two_participants(m06, coordinator_a, site_a, trial, frozen):
    other = transplanted_participant(
        coordinator_a, site_a, trial, on=TX_DAY + timedelta(days=3), name="Other Person"
    )
    for participant in (m06.participant, other):
        bl = participant.visits.get(code="BL")
        save_crf(coordinator_a, bl, Vitals, VITALS)
    other_m06 = other.visits.get(code="M06")
    other_m06 = record_visit_date(
        actor=coordinator_a, visit=other_m06, actual_date=other_m06.target_date - timedelta(days=5)
    )
    save_crf(coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("70.0")})
    save_crf(coordinator_a, other_m06, Vitals, VITALS | {"weight_kg": Decimal("45.0")})
    # No commit in this test: only the batch raises them.
    assert not Query.objects.exists()

    first = services.run_all_checks()
    weight = queries_of("weight_change")
    assert {q.participant_id for q in weight} == {m06.participant_id, other.pk}
    assert first.opened == Query.objects.count() and first.closed == 0

    # Run again: nothing new. Corrected meanwhile: closed by the next night's run.
    assert services.run_all_checks() == services.SyncResult()
    save_crf(
        coordinator_a, other_m06, Vitals, VITALS | {"weight_kg": Decimal("59.0")}, reason="scale"
    )
    assert services.run_all_checks() == services.SyncResult(closed=1)
    closed = Query.objects.get(participant=other, check_key="weight_change")
    assert closed.status == QueryStatus.CLOSED and "nightly run" in last_message(closed).text


def test_a_query_a_person_closed_is_not_raised_again(baseline, m06, coordinator_a, data_manager_a):
    save_crf(coordinator_a, baseline, Vitals, VITALS)
    save_crf(coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("50.0")})
    services.run_all_checks()
    [query] = queries_of("weight_change")
    services.post(
        actor=coordinator_a, query=query, action="answer", text="Weighed twice: 50 kg is right."
    )
    services.post(actor=data_manager_a, query=query, action="close", text="Confirmed.")
    assert services.run_all_checks() == services.SyncResult()
    query.refresh_from_db()
    assert query.status == "closed" and not query.closed_by_check


def test_a_data_manager_runs_one_check_over_the_site_in_bulk(
    baseline, m06, coordinator_a, data_manager_a, monitor_a, client_for
):
    save_crf(coordinator_a, baseline, Vitals, VITALS)
    save_crf(coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("50.0")})
    url = reverse("check-run", args=["ISF", "weight_change"])
    client = client_for(data_manager_a)
    page = client.get(url).content.decode()
    assert "not opened yet" in page and "-16.7" in page
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # twice: still one query
    [query] = queries_of("weight_change")
    page = client.get(url).content.decode()
    assert reverse("query-detail", args=["ISF", query.pk]) in page
    assert client.get(reverse("check-run", args=["ISF", "no_such_check"])).status_code == 404
    # A monitor raises queries but does not run checks in bulk.
    assert client_for(monitor_a).post(url).status_code == 404


def test_a_bulk_load_saves_without_checks_and_runs_them_once(
    baseline, m06, coordinator_a, on_commit
):
    from trials.checks import unchecked_saves

    with unchecked_saves(), on_commit() as callbacks:
        save_crf(coordinator_a, baseline, Vitals, VITALS)
        save_crf(coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("50.0")})
    assert callbacks == [] and not Query.objects.exists()
    assert services.run_all_checks().opened == 1


def test_the_nightly_batch_is_scheduled_and_its_task_runs_the_checks(baseline, m06, coordinator_a):
    from celery.schedules import crontab

    from config.celery import app
    from queries import tasks

    entry = app.conf.beat_schedule["nightly-edit-checks"]
    assert entry["task"] == tasks.run_all_checks.name == "queries.run_all_checks"
    assert entry["schedule"] == crontab(hour=21, minute=5)
    save_crf(coordinator_a, baseline, Vitals, VITALS)
    save_crf(coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("50.0")})
    assert tasks.run_all_checks() == 1
    assert tasks.run_all_checks() == 0
