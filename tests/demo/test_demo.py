"""`make run` loads the protocol, the demo team and demo participants, idempotently."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from crfs.alsfrs_r.models import AlsfrsR
from demo.seed import SYNTHETIC_ID_PREFIX
from participants.models import Participant
from visits.choices import VisitStatus

pytestmark = pytest.mark.django_db


def test_setup_demo_loads_participants_in_several_states_once():
    call_command("setup_demo", force=True)
    call_command("setup_demo", force=True)
    participants = Participant.objects.filter(site__code="ISF").exclude(
        identity__national_id__startswith=SYNTHETIC_ID_PREFIX
    )
    assert participants.count() == 6
    assert set(participants.values_list("status", flat=True)) == {
        "screening",
        "screen_failed",
        "enrolled",
        "transplanted",
        "withdrawn",
    }
    overdue = participants.get(identity__full_name="Demo Overdue Hosseini")
    m06 = overdue.visits.get(code="M06")
    assert m06.status_on(overdue.site.local_today()) == VisitStatus.OVERDUE


def test_demo_shows_screening_with_consent_checklist_and_a_named_screen_failure():
    call_command("setup_demo", force=True)
    from crfs.eligibility.models import Eligibility

    screening = Participant.objects.get(identity__full_name="Demo Screening Ahmadi")
    assert screening.consents.count() == 1
    checklist = Eligibility.objects.get(visit__participant=screening)
    assert checklist.status == "complete" and checklist.outcomes["alsfrs_swallowing"] == "pass"
    failed = Participant.objects.get(identity__full_name="Demo ScreenFail Karimi")
    assert failed.status == "screen_failed"
    assert "swallowing" in failed.status_changes.last().reason
    enrolled = Participant.objects.get(identity__full_name="Demo Enrolled Rahimi")
    assert Eligibility.objects.get(visit__participant=enrolled).current_override() is not None


def test_setup_demo_seeds_twenty_synthetic_participants_with_scores_once():
    call_command("setup_demo", force=True)
    call_command("setup_demo", force=True)
    synthetic = Participant.objects.filter(
        site__code="ISF", identity__national_id__startswith=SYNTHETIC_ID_PREFIX
    )
    assert synthetic.count() == 20
    assert AlsfrsR.objects.filter(visit__participant__in=synthetic, total__isnull=False).exists()


def test_the_demo_has_a_complete_month_6_visit_with_every_outcome_scored():
    """An investigator opening `make run` finds one participant whose month-6 visit has every
    outcome form complete, each with its derived scores, and a baseline to compare with."""
    from crfs.emg.models import Emg
    from crfs.fvc.models import Fvc
    from crfs.qol.models import Alsaq40, Seiqol
    from crfs.vitals.models import Vitals

    call_command("setup_demo", force=True)
    moradi = Participant.objects.get(identity__full_name="Demo Month12 Moradi")
    m06 = moradi.visits.get(code="M06")
    assert m06.actual_date == m06.target_date
    for model in (AlsfrsR, Fvc, Vitals, Emg, Alsaq40, Seiqol):
        assert model.objects.get(visit=m06).status == "complete", model.form_code

    baseline_alsfrs = AlsfrsR.objects.get(visit__participant=moradi, visit__code="BL")
    alsfrs = AlsfrsR.objects.get(visit=m06)
    assert (baseline_alsfrs.total, alsfrs.total) == (43, 37)
    assert (
        Fvc.objects.get(visit=m06).percent_predicted
        < Fvc.objects.get(visit__participant=moradi, visit__code="BL").percent_predicted
    )
    vitals = Vitals.objects.get(visit=m06)
    assert float(vitals.baseline_weight_kg) == 74.0
    assert vitals.weight_change_percent == pytest.approx(-2.4 / 74 * 100, abs=0.05)

    emg = Emg.objects.get(visit=m06)
    assert emg.needle_muscles == 6 and emg.findings.count() == 6
    # Biceps (C5-C6) and FDI (C8-T1); tibialis anterior and gastrocnemius (different
    # nerves and roots): Awaji LMN evidence in both limbs regions, not bulbar or thoracic.
    assert (emg.cervical_awaji_lmn, emg.lumbosacral_awaji_lmn) == (True, True)
    assert (emg.bulbar_awaji_lmn, emg.thoracic_awaji_lmn) == (False, False)
    assert emg.thoracic_active is True and emg.thoracic_chronic is False

    alsaq = Alsaq40.objects.get(visit=m06)
    assert alsaq.physical_mobility == 50 and alsaq.communication == 25
    assert alsaq.alsaq5_total is not None
    assert Seiqol.objects.get(visit=m06).index == pytest.approx(63.25)


def test_the_transplanted_demo_participants_have_adverse_events_and_riluzole():
    """Through the safety services: the procedure's expected events, one serious event the
    investigator has assessed, one this week that nobody has acknowledged (with its SAE
    alert raised, and shown by the listing's filter), riluzole for each."""
    from django.test import Client
    from django.urls import reverse

    from reminders.models import Reminder
    from safety.models import AdverseEvent, ConcomitantMedication, VisitSafetyReview
    from trials.models import Membership, Role

    call_command("setup_demo", force=True)
    call_command("setup_demo", force=True)
    names = ("Demo Overdue Hosseini", "Demo Month12 Moradi", "Demo Withdrawn Jafari")
    for name in names:
        participant = Participant.objects.get(identity__full_name=name)
        assert participant.adverse_events.exists(), name
        riluzole = ConcomitantMedication.objects.get(participant=participant, medication="riluzole")
        assert riluzole.visit.code == "BL" and riluzole.ongoing
        assert riluzole.start_date < participant.screened_on
    demo = AdverseEvent.objects.filter(participant__identity__full_name__in=names)
    assert all(event.visit.participant_id == event.participant_id for event in demo)

    serious = demo.filter(serious=True)
    assert serious.count() == 2
    assessed = serious.get(participant__identity__full_name="Demo Month12 Moradi")
    assessment = assessed.assessments.get()
    assert assessment.investigator.username == "investigator" and assessment.serious
    assert assessment.related_cells == "possible" and assessed.related_cells == "unlikely"
    assert assessed.visit.is_unscheduled and assessed.sae_hospitalisation

    open_sae = serious.get(participant__identity__full_name="Demo Overdue Hosseini")
    assert not open_sae.assessments.exists() and open_sae.ongoing
    assert Reminder.objects.filter(topic=f"sae:{open_sae.pk}", kind="sae").exists()
    moradi_m06 = assessed.participant.visits.get(code="M06")
    assert VisitSafetyReview.objects.get(visit=moradi_m06).no_conmed_changes is True

    investigator = Membership.objects.get(site__code="ISF", role=Role.INVESTIGATOR).user
    client = Client()
    client.force_login(investigator)
    listing = reverse("ae-listing", args=["ISF"])
    shown = client.get(listing + "?unacknowledged=1").context["page"]
    assert open_sae.pk in {event.pk for event in shown}
    assert assessed.pk not in {event.pk for event in shown}
