"""`make run` loads the protocol, the demo team and demo participants, idempotently."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from participants.models import Participant
from visits.choices import VisitStatus
from visits.models import AlsfrsR
from visits.seed import SYNTHETIC_ID_PREFIX

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
    from visits.crfs.eligibility import Eligibility

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
