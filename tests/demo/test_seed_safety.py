"""seed_demo's adverse events, concomitant medication and visit safety reviews: plausible
rates, the trial's rules kept, the rows the safety services themselves would store, and a
site listing that stays at a constant number of queries over them."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from participants.models import Consent, Participant
from participants.partial_dates import PartialDate
from safety import coding, services
from safety.choices import Grade, Outcome
from safety.models import (
    AdverseEvent,
    AdverseEventAssessment,
    ConcomitantMedication,
    VisitSafetyReview,
)
from tests.factories import investigator_of
from visits.models import Visit

pytestmark = pytest.mark.django_db

AE_ANSWERS = (*AdverseEvent.required_answers, *AdverseEvent.optional_answers)
CONMED_ANSWERS = (*ConcomitantMedication.required_answers, *ConcomitantMedication.optional_answers)


@pytest.fixture
def seeded(frozen, site_a, coordinator_a, trial):
    """A seeding function for the Isfahan site, whose investigator signs assessments."""
    investigator = investigator_of(site_a)

    def seed(n: int, seed: int) -> tuple:
        call_command("seed_demo", participants=n, seed=seed, site="ISF", force=True)
        return site_a, coordinator_a, investigator

    return seed


def onset(event: AdverseEvent) -> PartialDate:
    assert event.onset_date is not None
    return PartialDate.of(event.onset_date, event.onset_precision)


def test_a_seeded_study_of_200_has_plausible_safety_data_within_the_trials_rules(seeded):
    site, _coordinator, investigator = seeded(200, 11)
    events = list(
        AdverseEvent.objects.select_related("visit", "participant").prefetch_related("assessments")
    )
    assert len(events) > 100

    # The rules every event keeps, whoever entered it.
    first_consent = {}
    for participant_id, signed_on in Consent.objects.order_by("-signed_on").values_list(
        "participant_id", "signed_on"
    ):
        first_consent[participant_id] = signed_on
    numbers = defaultdict(list)
    for event in events:
        assert event.visit.participant_id == event.participant_id
        assert event.visit.actual_date is not None
        assert "adverse_events" in event.visit.expected_forms()
        assert onset(event).first_day <= event.visit.actual_date
        assert onset(event).last_day >= first_consent[event.participant_id], "before consent"
        assert event.term_code in coding.BY_CODE
        assert bool(event.serious) == bool(event.criteria()), "serious ⇔ a criterion"
        if event.status == "complete":
            assert (event.action == "hospitalisation") == event.sae_hospitalisation
        if event.grade == Grade.DEATH:
            assert event.outcome == Outcome.FATAL
        if event.ongoing:
            assert event.end_date is None
        elif event.status == "complete":
            assert event.end_date is not None
            end = PartialDate.of(event.end_date, event.end_precision)
            assert end.last_day >= onset(event).first_day
        numbers[event.participant_id].append(event.number)
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in numbers.values())
    assert not AdverseEvent.objects.filter(grade__gte=Grade.LIFE_THREATENING).exists()
    assert not ConcomitantMedication.objects.exclude(visit__participant=F("participant")).exists()

    # Rates among the transplanted people followed to a dated follow-up visit.
    tx_days = dict(
        Visit.objects.filter(code="TX", actual_date__isnull=False).values_list(
            "participant_id", "actual_date"
        )
    )
    followed = set(
        Visit.objects.filter(
            code__in=("M06", "M12", "M18", "M24"), actual_date__isnull=False
        ).values_list("participant_id", flat=True)
    )
    assert len(followed) > 50
    people_with: dict[str, set[int]] = defaultdict(set)
    for event in events:
        people_with[event.term_code or ""].add(event.participant_id)

    def share(*codes: str) -> float:
        having = set().union(*(people_with[code] for code in codes)) & followed
        return len(having) / len(followed)

    assert 0.2 <= share("post_lp_headache") <= 0.5
    assert 0.15 <= share("back_pain", "injection_site_pain") <= 0.45
    assert 0.02 <= share("fever") <= 0.2
    assert share("fall") > 0.05 and share("upper_respiratory_infection", "lung_infection") > 0.05

    for event in events:
        tx_day = tx_days[event.participant_id]
        if coding.BY_CODE[event.term_code or ""].procedure:
            # In the days after the transplantation, on the day itself reported at TX.
            assert 0 <= (onset(event).first_day - tx_day).days <= 3
            assert (event.visit.code == "TX") == (onset(event).first_day == tx_day)
            assert event.related_procedure in ("possible", "probable", "definite")
        else:
            # Later events come with advancing ALS, not from the procedure.
            assert event.visit.code in ("M06", "M12", "M18", "M24")
            assert onset(event).last_day > tx_day
            assert event.related_procedure in ("not", "unlikely")

    grades = Counter(event.grade for event in events)
    assert grades[1] > grades[2] > grades[3] > 0
    assert (grades[1] + grades[2]) / len(events) >= 0.85
    serious = [event for event in events if event.serious]
    assert 0.005 <= len(serious) / len(events) <= 0.08
    assert all(event.sae_hospitalisation and event.grade == 3 for event in serious)
    assessed = [event for event in serious if event.latest_assessment()]
    assert len(assessed) >= len(serious) / 2
    for event in assessed:
        assessment = event.latest_assessment()
        assert assessment is not None and assessment.investigator == investigator
        assert assessment.event_version == event.version and assessment.serious
        assert assessment.signed_at.astimezone(site.zone).date() >= event.visit.actual_date
    ended = [event for event in events if event.end_date is not None]
    assert len(ended) / len(events) > 0.6
    assert any(event.onset_precision == "month" for event in events), "partial dates"
    assert any(event.ongoing for event in events)

    # Riluzole as the ALS history says (most people), started before screening; edaravone
    # for some.
    with_baseline = Participant.objects.filter(
        visits__code="BL", visits__actual_date__isnull=False
    ).select_related("als_history")
    assert with_baseline.count() > 80
    riluzole = {
        med.participant_id: med
        for med in ConcomitantMedication.objects.filter(medication="riluzole").select_related(
            "visit"
        )
    }
    for participant in with_baseline:
        assert (participant.pk in riluzole) == participant.als_history.riluzole
        if participant.pk in riluzole:
            med = riluzole[participant.pk]
            assert med.dose and med.frequency == "bid"
            # Recorded at baseline, or moved to the follow-up that reported its stop.
            if med.visit.code == "BL":
                assert med.ongoing
            else:
                assert med.stop_date and med.stop_date <= med.visit.actual_date
            assert med.start_date is not None
            assert PartialDate.of(med.start_date, med.start_precision).last_day < (
                participant.screened_on
            )
    assert 0.65 <= len(riluzole) / with_baseline.count() <= 0.92
    assert any(med.visit.code != "BL" for med in riluzole.values()), "a stopped riluzole"
    edaravone = ConcomitantMedication.objects.filter(medication="edaravone").count()
    assert 0 < edaravone / with_baseline.count() < 0.35
    assert ConcomitantMedication.objects.filter(medication="other").count() > 20

    # A follow-up without events says so; one with events never says "none".
    reviews = dict(VisitSafetyReview.objects.values_list("visit_id", "no_adverse_events"))
    with_events = {event.visit_id for event in events}
    quiet = Visit.objects.filter(
        code__in=("M06", "M12", "M18", "M24"), actual_date__isnull=False
    ).exclude(pk__in=with_events)
    answered = [visit for visit in quiet if reviews.get(visit.pk) is True]
    assert len(answered) >= 0.9 * quiet.count() and quiet.count() > 20
    assert not any(reviews.get(visit_id) for visit_id in with_events)


class Rollback(Exception):
    """Raised to undo a re-save inside its savepoint."""


def resaved(save) -> object:
    """What `save()` stores, inside a savepoint that is then rolled back."""
    stored = None
    try:
        with transaction.atomic():
            stored = save()
            raise Rollback
    except Rollback:
        pass
    return stored


def test_seeded_safety_rows_are_what_the_safety_services_store(seeded):
    """Each seeded event, medication and review is saved again through safety.services (then
    rolled back): the services accept the answers and store the same record fields, and each
    seeded row has its audit event with the entering user."""
    _site, coordinator, investigator = seeded(60, 11)
    events = list(AdverseEvent.objects.select_related("visit__participant"))
    assert any(event.serious for event in events) and len(events) > 20
    event_audit = apps.get_model("safety", "AdverseEventEvent")
    for event in events:
        event.full_clean()
        answers = {name: getattr(event, name) for name in AE_ANSWERS}
        copy = resaved(
            lambda event=event, answers=answers: services.save_adverse_event(
                actor=coordinator,
                participant=event.visit.participant,
                visit=event.visit,
                event_id=None,
                answers=answers,
                missing_reasons=event.missing_reasons,
                expected_version=0,
                complete=event.status == "complete",
            )
        )
        assert isinstance(copy, AdverseEvent)
        for name in (*AE_ANSWERS, "status", "version", "missing_reasons", "completed_at"):
            assert getattr(copy, name) == getattr(event, name), name
        assert (copy.sae_alerted_at, copy.created_by, copy.updated_by) == (
            event.sae_alerted_at,
            event.created_by,
            event.updated_by,
        )
        audit = event_audit.objects.get(pgh_obj_id=event.pk)
        assert audit.pgh_context["actor_id"] == coordinator.pk
        assert audit.pgh_context["form"] == "adverse_event"

    assessments = AdverseEventAssessment.objects.select_related("adverse_event")
    assert assessments.exists()
    for assessment in assessments:
        assessment.full_clean()
        assert assessment.adverse_event.serious and assessment.investigator == investigator

    meds = list(ConcomitantMedication.objects.select_related("visit__participant"))
    assert len(meds) > 40
    for med in meds:
        med.full_clean()
        answers = {name: getattr(med, name) for name in CONMED_ANSWERS}
        copy = resaved(
            lambda med=med, answers=answers: services.save_conmed(
                actor=coordinator,
                participant=med.visit.participant,
                visit=med.visit,
                conmed_id=None,
                answers=answers,
                expected_version=0,
                complete=True,
            )
        )
        assert isinstance(copy, ConcomitantMedication)
        for name in (*CONMED_ANSWERS, "status", "version", "missing_reasons", "completed_at"):
            assert getattr(copy, name) == getattr(med, name), name

    reviews = list(VisitSafetyReview.objects.select_related("visit__participant"))
    assert len(reviews) > 40
    for review in reviews:
        review.full_clean()
        answers = {"no_adverse_events": review.no_adverse_events}
        answers["no_conmed_changes"] = review.no_conmed_changes

        def save_again(review=review, answers=answers):
            VisitSafetyReview.objects.filter(pk=review.pk).delete()
            return services.save_visit_review(
                actor=coordinator, visit=review.visit, answers=answers, expected_version=0
            )

        copy = resaved(save_again)
        assert isinstance(copy, VisitSafetyReview)
        for name in ("status", "version", "missing_reasons", "completed_at", "updated_by"):
            assert getattr(copy, name) == getattr(review, name), name


def test_the_listing_of_a_seeded_site_renders_at_a_constant_query_count(seeded, client_for):
    site, coordinator, _investigator = seeded(60, 11)
    listing = reverse("ae-listing", args=[site.code])
    client = client_for(coordinator)
    client.get(listing)  # the session and permissions warmed up

    sizes, queries = [], []
    for query in ("?grade3=1", "", "?related=1", "?serious=1"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(listing + query)
        assert response.status_code == 200
        sizes.append(len(response.context["page"]))
        queries.append(len(captured.captured_queries))
    assert len(set(sizes)) == len(sizes) and min(sizes) > 0, sizes
    assert len(set(queries)) == 1, queries
    counts = client.get(listing).context["counts"]
    assert counts.total == AdverseEvent.objects.count()
    page = client.get(listing).content.decode()
    assert "Headache (post-lumbar puncture)" in page


def test_a_seed_run_sends_no_sae_alert(seeded, mailoutbox):
    """Synthetic serious events are data to look at: no e-mail or notification goes to the
    investigators or the sponsor for them, and no escalation is waiting."""
    from reminders.models import Reminder

    seeded(60, 11)
    assert AdverseEvent.objects.filter(serious=True).exists()
    assert not Reminder.objects.filter(topic__startswith="sae").exists()
    assert mailoutbox == []
