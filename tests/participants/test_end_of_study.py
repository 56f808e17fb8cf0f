"""End of study: completion, withdrawal (who decided, follow-up allowed?), loss to follow-up
after recorded contact attempts, death (cause, ALS-related); what happens to the visits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from participants import services
from participants.choices import ParticipantStatus as S
from participants.models import EndOfStudy
from tests.factories import enrol, register, transplant, transplanted_participant
from visits import services as visit_services
from visits.choices import VisitStatus

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)
TX_DAY = date(2025, 5, 1)  # M06 due Nov 2025 (overdue), M12 May 2026 …


@pytest.fixture
def transplanted(frozen, coordinator_a, site_a, trial):
    return transplanted_participant(coordinator_a, site_a, trial, on=TX_DAY)


def end(actor, participant, status, day=TODAY, reason="reason", **details):
    return services.change_status(
        actor=actor,
        participant=participant,
        to_status=status,
        effective_date=day,
        reason=reason,
        details=details,
    )


def statuses(participant) -> dict[str, str]:
    return dict(participant.visits.values_list("code", "status"))


def test_withdrawal_needs_who_and_whether_follow_up_continues(coordinator_a, transplanted):
    with pytest.raises(ValidationError) as refused:
        end(coordinator_a, transplanted, S.WITHDRAWN)
    assert set(refused.value.message_dict) == {"withdrawn_by", "follow_up_allowed"}
    transplanted.refresh_from_db()
    assert transplanted.status == S.TRANSPLANTED and not EndOfStudy.objects.exists()


def test_withdrawal_without_follow_up_closes_every_future_visit(
    coordinator_a, transplanted, time_machine
):
    done = end(
        coordinator_a,
        transplanted,
        S.WITHDRAWN,
        reason="Adverse event",
        withdrawn_by="investigator",
        follow_up_allowed=False,
    )
    record = EndOfStudy.objects.get()
    assert (record.outcome, record.withdrawn_by, record.follow_up_allowed) == (
        S.WITHDRAWN,
        "investigator",
        False,
    )
    visits = statuses(done)
    assert visits["M06"] == VisitStatus.OVERDUE  # due before the withdrawal: still to resolve
    assert visits["M12"] == visits["M18"] == visits["M24"] == VisitStatus.NOT_EXPECTED
    time_machine.move_to("2026-05-02 08:00Z", tick=False)
    m12 = done.visits.get(code="M12")
    with pytest.raises(ValidationError, match="end of study"):
        visit_services.record_visit_date(
            actor=coordinator_a, visit=m12, actual_date=date(2026, 5, 2)
        )


def test_withdrawal_with_follow_up_keeps_the_follow_up_visits(
    coordinator_a, transplanted, time_machine
):
    done = end(
        coordinator_a,
        transplanted,
        S.WITHDRAWN,
        reason="No longer wishes to attend the clinic",
        withdrawn_by="participant",
        follow_up_allowed=True,
    )
    assert done.follow_up_continues
    visits = statuses(done)
    assert VisitStatus.NOT_EXPECTED not in {visits["M12"], visits["M18"], visits["M24"]}
    time_machine.move_to("2026-05-02 08:00Z", tick=False)
    m12 = done.visits.get(code="M12")
    recorded = visit_services.record_visit_date(
        actor=coordinator_a, visit=m12, actual_date=date(2026, 5, 2)
    )
    assert recorded.status == VisitStatus.DONE


def test_death_needs_cause_and_relation_to_als(coordinator_a, transplanted):
    with pytest.raises(ValidationError) as refused:
        end(coordinator_a, transplanted, S.DIED, death_cause=" ")
    assert set(refused.value.message_dict) == {"death_cause", "death_als_related"}
    end(
        coordinator_a,
        transplanted,
        S.DIED,
        day=date(2026, 1, 10),
        reason="Respiratory failure",
        death_cause="Respiratory failure",
        death_als_related="yes",
    )
    record = EndOfStudy.objects.get()
    assert (record.ended_on, record.death_cause, record.death_als_related) == (
        date(2026, 1, 10),
        "Respiratory failure",
        "yes",
    )


def test_lost_to_follow_up_needs_a_recorded_contact_attempt(coordinator_a, transplanted):
    with pytest.raises(ValidationError) as refused:
        end(coordinator_a, transplanted, S.LOST_TO_FOLLOW_UP)
    assert "contact" in refused.value.message_dict["effective_date"][0]
    services.record_contact_attempt(
        actor=coordinator_a,
        participant=transplanted,
        attempted_on=TODAY - timedelta(days=3),
        method="phone",
        outcome="no_answer",
        notes="Rang three times",
    )
    with pytest.raises(ValidationError, match="future"):
        services.record_contact_attempt(
            actor=coordinator_a,
            participant=transplanted,
            attempted_on=TODAY + timedelta(days=1),
            method="letter",
            outcome="no_answer",
        )
    lost = end(coordinator_a, transplanted, S.LOST_TO_FOLLOW_UP, reason="No contact")
    assert lost.status == S.LOST_TO_FOLLOW_UP
    assert lost.contact_attempts.get().method == "phone"
    with pytest.raises(ValidationError, match="ended"):
        services.record_contact_attempt(
            actor=coordinator_a,
            participant=lost,
            attempted_on=TODAY,
            method="phone",
            outcome="no_answer",
        )


def test_completion(coordinator_a, transplanted):
    done = end(coordinator_a, transplanted, S.COMPLETED, reason="")
    assert (done.status, done.exited_on) == (S.COMPLETED, TODAY)
    assert EndOfStudy.objects.get().outcome == S.COMPLETED


def test_an_exited_participant_gets_no_new_visits(coordinator_a, site_a, trial, frozen):
    participant = enrol(
        coordinator_a,
        register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=20)),
        TODAY - timedelta(days=15),
    )
    gone = end(
        coordinator_a,
        participant,
        S.WITHDRAWN,
        day=TODAY - timedelta(days=10),
        withdrawn_by="participant",
        follow_up_allowed=False,
    )
    before = set(gone.visits.values_list("pk", flat=True))
    assert statuses(gone)["BL"] == VisitStatus.NOT_EXPECTED
    with pytest.raises(ValidationError, match="no new visits"):
        visit_services.add_unscheduled_visit(
            actor=coordinator_a,
            participant=gone,
            actual_date=TODAY - timedelta(days=12),
            reason="Review",
        )
    with pytest.raises(ValidationError, match="Only an enrolled participant"):
        transplant(coordinator_a, gone, TODAY)
    with pytest.raises(ValidationError, match="cannot become"):
        services.enrol_participant(actor=coordinator_a, participant=gone, enrolled_on=TODAY)
    assert visit_services.refresh_statuses() >= 0
    gone.refresh_from_db()
    assert set(gone.visits.values_list("pk", flat=True)) == before
    assert statuses(gone)["BL"] == VisitStatus.NOT_EXPECTED  # the daily job does not reopen it


def test_status_page_asks_for_the_end_of_study_details(client_for, coordinator_a, transplanted):
    client = client_for(coordinator_a)
    status_url = reverse("participant-status", args=["ISF", transplanted.pk])
    missing = client.post(
        status_url, {"status": "died", "effective_date": "2026-03-01", "reason": "x"}
    )
    assert missing.status_code == 400
    assert {"death_cause", "death_als_related"} <= set(missing.context["form"].errors)
    bad = client.post(
        status_url,
        {
            "status": "withdrawn",
            "effective_date": "2026-03-01",
            "reason": "x",
            "withdrawn_by": "the moon",
            "follow_up_allowed": "perhaps",
        },
    )
    assert bad.status_code == 400
    assert {"withdrawn_by", "follow_up_allowed"} <= set(bad.context["form"].errors)
    assert not EndOfStudy.objects.exists()
    ok = client.post(
        status_url,
        {
            "status": "died",
            "effective_date": "2026-03-01",
            "reason": "Respiratory failure",
            "death_cause": "Respiratory failure",
            "death_als_related": "yes",
        },
    )
    assert ok.status_code == 302
    detail = client.get(reverse("participant-detail", args=["ISF", transplanted.pk]))
    assert 'data-testid="end-of-study"' in detail.text and "Respiratory failure" in detail.text
