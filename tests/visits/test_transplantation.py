"""Recording the transplantation schedules the follow-ups; correcting it reschedules what is
not yet done; visit dates are checked against the transplantation, today and the end of study."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from participants import services as participant_services
from tests.factories import TX_DATA, enrol, register, transplant, transplanted_participant
from visits import services
from visits.models import Transplantation
from visits.transplantation import correct_transplantation

pytestmark = pytest.mark.django_db


def _visits(participant) -> dict:
    return {v.code: v for v in participant.visits.all()}


def test_transplantation_schedules_month_end_clamped_follow_ups(
    time_machine, coordinator_a, site_a, trial
):
    time_machine.move_to(datetime(2025, 9, 2, 6, 0, tzinfo=UTC), tick=False)
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 8, 31))
    visits = _visits(participant)
    assert participant.status == "transplanted"
    assert (visits["TX"].actual_date, visits["TX"].status) == (date(2025, 8, 31), "done")
    assert visits["M06"].target_date == date(2026, 2, 28)
    assert (visits["M06"].window_start, visits["M06"].window_end) == (
        date(2026, 1, 31),
        date(2026, 3, 28),
    )
    assert visits["M12"].target_date == date(2026, 8, 31)
    assert visits["M18"].target_date == date(2027, 2, 28)
    assert visits["M24"].target_date == date(2027, 8, 31)
    # Baseline, done a week before, is now placed against day 0.
    assert (visits["BL"].window_start, visits["BL"].window_end) == (
        date(2025, 8, 1),
        date(2025, 8, 31),
    )
    assert (visits["BL"].status, visits["BL"].days_from_target) == ("done", -7)


def test_leap_years_at_month_end(time_machine, coordinator_a, site_a, trial):
    time_machine.move_to(datetime(2024, 3, 5, 6, 0, tzinfo=UTC), tick=False)
    leap_day = transplanted_participant(coordinator_a, site_a, trial, on=date(2024, 2, 29))
    assert _visits(leap_day)["M12"].target_date == date(2025, 2, 28)
    assert _visits(leap_day)["M24"].target_date == date(2026, 2, 28)
    time_machine.move_to(datetime(2023, 9, 5, 6, 0, tzinfo=UTC), tick=False)
    end_of_august = transplanted_participant(
        coordinator_a, site_a, trial, on=date(2023, 8, 31), name="Other"
    )
    assert _visits(end_of_august)["M06"].target_date == date(2024, 2, 29)


def test_a_procedure_at_23_30_in_tehran_is_on_that_tehran_date(
    time_machine, coordinator_a, site_a, trial
):
    # 23:30 Tehran (UTC+3:30) is 20:00 UTC on the same day; at 21:00 UTC Tehran is a day ahead.
    time_machine.move_to(datetime(2026, 3, 10, 21, 0, tzinfo=UTC), tick=False)
    participant = register(coordinator_a, site_a, trial, screened_on=date(2026, 2, 1))
    participant = enrol(coordinator_a, participant, date(2026, 2, 10))
    record = transplant(coordinator_a, participant, date(2026, 3, 10), at=time(23, 30))
    assert record.performed_at == datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    assert record.performed_on == date(2026, 3, 10)
    # It is already 11 March in Tehran although UTC is still on the 10th: that date is today.
    unscheduled = services.add_unscheduled_visit(
        actor=coordinator_a, participant=participant, actual_date=date(2026, 3, 11), reason="Fever"
    )
    assert (unscheduled.display_code, unscheduled.status) == ("UNS-1", "done")
    with pytest.raises(ValidationError) as future:
        services.add_unscheduled_visit(
            actor=coordinator_a,
            participant=participant,
            actual_date=date(2026, 3, 12),
            reason="Headache",
        )
    assert "future" in future.value.message_dict["actual_date"][0]
    time_machine.move_to(datetime(2026, 3, 10, 20, 0, tzinfo=UTC), tick=False)  # 23:30 Tehran
    with pytest.raises(ValidationError):
        services.add_unscheduled_visit(
            actor=coordinator_a,
            participant=participant,
            actual_date=date(2026, 3, 11),
            reason="Headache",
        )


def test_correcting_the_date_reschedules_only_visits_not_done(
    time_machine, coordinator_a, site_a, trial
):
    time_machine.move_to(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), tick=False)
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    m06 = participant.visits.get(code="M06")
    services.record_visit_date(actor=coordinator_a, visit=m06, actual_date=date(2025, 9, 15))
    before = _visits(participant)

    correct_transplantation(
        actor=coordinator_a,
        transplantation=participant.transplantation,
        performed_at=datetime(2025, 3, 5, 9, 0, tzinfo=site_a.zone),
        data=TX_DATA,
        reason="Date copied wrongly from the operating list",
    )
    after = _visits(participant)
    assert after["TX"].actual_date == date(2025, 3, 5)
    assert after["M06"].target_date == before["M06"].target_date == date(2025, 9, 10)
    assert after["M06"].actual_date == date(2025, 9, 15)
    assert after["BL"].window_start == before["BL"].window_start
    assert after["M12"].target_date == date(2026, 3, 5)
    assert after["M24"].target_date == date(2027, 3, 5)
    participant.refresh_from_db()
    assert participant.status_date == date(2025, 3, 5)
    event = participant.transplantation.events.order_by("pgh_id").last()
    assert event.performed_on == date(2025, 3, 5)
    assert event.pgh_context["reason"] == "Date copied wrongly from the operating list"
    assert event.pgh_context["actor_id"] == coordinator_a.pk


def test_a_correction_needs_a_reason_and_cannot_cross_done_visits(
    time_machine, coordinator_a, site_a, trial
):
    time_machine.move_to(datetime(2026, 3, 10, 8, 0, tzinfo=UTC), tick=False)
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    m06 = participant.visits.get(code="M06")
    services.record_visit_date(actor=coordinator_a, visit=m06, actual_date=date(2025, 9, 15))
    tx = participant.transplantation
    with pytest.raises(ValidationError) as no_reason:
        correct_transplantation(
            actor=coordinator_a,
            transplantation=tx,
            performed_at=tx.performed_at,
            data=TX_DATA,
            reason="",
        )
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(ValidationError) as crossing:
        correct_transplantation(
            actor=coordinator_a,
            transplantation=tx,
            performed_at=datetime(2025, 10, 1, 9, 0, tzinfo=site_a.zone),
            data=TX_DATA,
            reason="wrong year?",
        )
    assert "would precede the transplantation" in crossing.value.message_dict["performed_date"][0]
    with pytest.raises(ValidationError) as after_baseline:
        correct_transplantation(
            actor=coordinator_a,
            transplantation=tx,
            performed_at=datetime(2025, 3, 1, 9, 0, tzinfo=site_a.zone),
            data=TX_DATA,
            reason="x",
        )
    assert "baseline" in after_baseline.value.message_dict["performed_date"][0]
    assert Transplantation.objects.get().performed_on == date(2025, 3, 10)


def test_visit_dates_are_checked_against_transplantation_today_and_exit(
    frozen, coordinator_a, site_a, trial
):
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    visits = _visits(participant)

    def refused(visit, day) -> str:
        with pytest.raises(ValidationError) as error:
            services.record_visit_date(actor=coordinator_a, visit=visit, actual_date=day)
        return error.value.message_dict["actual_date"][0]

    assert "precede the transplantation" in refused(visits["M06"], date(2025, 3, 9))
    assert "future" in refused(visits["M12"], date(2026, 3, 11))
    assert "after the transplantation" in refused(visits["BL"], date(2025, 3, 11))
    assert "registration or transplantation form" in refused(visits["TX"], date(2025, 3, 11))
    participant_services.record_contact_attempt(
        actor=coordinator_a,
        participant=participant,
        attempted_on=date(2025, 11, 20),
        method="phone",
        outcome="no_answer",
    )
    participant_services.change_status(
        actor=coordinator_a,
        participant=participant,
        to_status="lost_to_follow_up",
        effective_date=date(2025, 12, 1),
        reason="No contact since December",
    )
    visits["M06"].refresh_from_db()
    assert "end of study" in refused(visits["M06"], date(2025, 12, 2))
    done = services.record_visit_date(
        actor=coordinator_a, visit=visits["M06"], actual_date=date(2025, 10, 20)
    )
    assert (done.status, done.days_from_target) == ("done_out_of_window", 40)
    with pytest.raises(ValidationError) as no_reason:
        services.record_visit_date(actor=coordinator_a, visit=done, actual_date=date(2025, 10, 1))
    assert "reason" in no_reason.value.message_dict


def test_out_of_range_procedure_values_are_refused(frozen, coordinator_a, site_a, trial):
    participant = enrol(
        coordinator_a,
        register(coordinator_a, site_a, trial, screened_on=date(2026, 2, 1)),
        date(2026, 2, 10),
    )
    with pytest.raises(ValidationError) as refused:
        transplant(
            coordinator_a, participant, date(2026, 3, 1), viability_percent=101, needle_gauge=40
        )
    assert {"viability_percent", "needle_gauge"} <= set(refused.value.message_dict)
    participant.refresh_from_db()
    assert participant.status == "enrolled"
    assert not participant.visits.filter(code="M06").exists()
    screening = register(coordinator_a, site_a, trial, screened_on=date(2026, 2, 1), name="B")
    with pytest.raises(ValidationError, match="Only an enrolled participant"):
        transplant(coordinator_a, screening, date(2026, 3, 1))


def test_missed_and_unscheduled_visits_carry_reasons(frozen, coordinator_a, site_a, trial):
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    m06 = participant.visits.get(code="M06")
    with pytest.raises(ValidationError):
        services.mark_visit_missed(actor=coordinator_a, visit=m06, reason="")
    missed = services.mark_visit_missed(actor=coordinator_a, visit=m06, reason="In hospital")
    assert (missed.status, missed.missed_reason) == ("missed", "In hospital")
    for day in (date(2025, 4, 1), date(2025, 5, 1)):
        services.add_unscheduled_visit(
            actor=coordinator_a, participant=participant, actual_date=day, reason="Headache"
        )
    assert list(participant.visits.filter(code="UNS").values_list("sequence", flat=True)) == [1, 2]
    with pytest.raises(ValidationError):
        services.add_unscheduled_visit(
            actor=coordinator_a, participant=participant, actual_date=date(2025, 6, 1), reason=" "
        )
    assert services.refresh_statuses() >= 0


def test_a_visit_turned_overdue_by_the_date_says_why_in_its_audit_trail(
    coordinator_a, site_a, trial, time_machine
):
    """Nobody touched it: the nightly refresh did, and the trail says so."""
    time_machine.move_to(datetime(2025, 3, 10, 8, 0, tzinfo=UTC))
    participant = transplanted_participant(coordinator_a, site_a, trial, on=date(2025, 3, 10))
    m06 = participant.visits.get(code="M06")
    time_machine.move_to(datetime(2025, 12, 1, 8, 0, tzinfo=UTC))
    assert services.refresh_statuses() >= 1
    m06.refresh_from_db()
    assert m06.status == "overdue"
    last = m06.events.order_by("pgh_id").last()
    assert last.pgh_context is not None
    assert last.pgh_context["reason"].startswith("visit status refresh")
