"""Participant pages: scoped to the user's sites, constant queries, field errors on bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from participants.models import Participant
from tests.factories import register, screen_eligible

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)

REGISTRATION = {
    "screened_on": "2026-03-09",
    "full_name": "Maryam Example",
    "national_id": "1234567890",
    "phone": "+98 31 555 0101",
    "address": "Isfahan",
    "email": "maryam@example.org",
    "date_of_birth": "1971-04-02",
    "sex": "female",
    "height_cm": "162.5",
    "weight_kg": "58.0",
    "ethnicity": "iranian",
    "onset": "2025-03",
    "onset_region": "upper_limb",
    "diagnosis_date": "2025-11-20",
    "el_escorial": "probable_lab",
    "family_history": "no",
    "riluzole": "on",
}


def _pages(participant, visit) -> list[str]:
    code, pk = participant.site.code, participant.pk
    return [
        reverse("participant-detail", args=[code, pk]),
        reverse("participant-enrol", args=[code, pk]),
        reverse("participant-status", args=[code, pk]),
        reverse("transplantation", args=[code, pk]),
        reverse("visit-detail", args=[code, pk, visit.pk]),
        reverse("visit-unscheduled", args=[code, pk]),
    ]


def test_coordinator_of_site_a_gets_404_on_every_page_of_site_b(
    frozen, client_for, coordinator_a, coordinator_b, site_a, site_b, trial
):
    other = register(coordinator_b, site_b, trial, screened_on=TODAY)
    visit = other.visits.get()
    client = client_for(coordinator_a)
    assert client.get(reverse("participant-list", args=["THR"])).status_code == 404
    assert client.get(reverse("participant-register", args=["THR"])).status_code == 404
    for url in _pages(other, visit):
        assert client.get(url).status_code == 404, url
        posted = client.post(url, {"action": "date", "actual_date": "2026-03-01"})
        assert posted.status_code in {404, 405}, url  # 405: the participant page is read-only
        # …and the record is not reachable through the user's own site code either.
        own = url.replace("/sites/THR/", "/sites/ISF/")
        assert client.get(own).status_code == 404, own
    other.refresh_from_db()
    assert other.status == "screening"


def test_coordinator_registers_a_participant_from_the_site_card(
    frozen, client_for, coordinator_a, site_a, trial
):
    client = client_for(coordinator_a)
    home = client.get(reverse("home"))
    assert reverse("participant-list", args=["ISF"]) in home.text
    assert reverse("participant-register", args=["ISF"]) in home.text
    response = client.post(
        reverse("participant-register", args=["ISF"]), REGISTRATION | {"trial": trial.pk}
    )
    participant = Participant.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("participant-detail", args=["ISF", participant.pk])
    assert participant.als_history.onset_display == "2025-03"
    assert participant.als_history.riluzole is True
    page = client.get(response.url)
    assert "Maryam Example" in page.text
    assert "Eligibility" in page.text  # expected forms of the screening visit


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("onset", "March 2024", "Enter a date as YYYY-MM-DD, YYYY-MM or YYYY."),
        ("screened_on", "2026-03-11", "This date is in the future at the site."),
        ("date_of_birth", "2026-03-09", "The date of birth must precede the screening date."),
        ("height_cm", "320", "Height must be between 100 and 230 cm."),
        ("weight_kg", "9999", "Weight must be between 25 and 250 kg."),
        ("sex", "unknown", "Select a valid choice."),
        ("email", "not-an-address", "Enter a valid email address."),
        ("diagnosis_date", "2024-01-01", "The diagnosis cannot precede symptom onset."),
    ],
)
def test_bad_registration_input_gives_field_errors_and_saves_nothing(
    frozen, client_for, coordinator_a, site_a, trial, field, value, message
):
    response = client_for(coordinator_a).post(
        reverse("participant-register", args=["ISF"]),
        REGISTRATION | {"trial": trial.pk, field: value},
    )
    assert response.status_code == 400
    assert message in response.text
    assert field in response.context["form"].errors
    assert not Participant.objects.exists()


def test_monitor_sees_participants_but_no_names_and_cannot_register(
    frozen, client_for, coordinator_a, monitor_a, site_a, trial
):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY, name="Secret Name")
    client = client_for(monitor_a)
    listing = client.get(reverse("participant-list", args=["ISF"]))
    assert participant.screening_number in listing.text
    assert "Secret Name" not in listing.text
    assert (
        client.get(reverse("participant-list", args=["ISF"]), {"q": "Secret"})
        .context["page"]
        .paginator.count
        == 0
    )
    detail = client.get(reverse("participant-detail", args=["ISF", participant.pk]))
    assert detail.status_code == 200 and "Secret Name" not in detail.text
    assert client.get(reverse("participant-register", args=["ISF"])).status_code == 404
    assert client.get(reverse("participant-enrol", args=["ISF", participant.pk])).status_code == 404


def test_enrol_and_status_pages(frozen, client_for, coordinator_a, site_a, trial):
    participant = register(
        coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=3), name="P"
    )
    screen_eligible(coordinator_a, participant)
    client = client_for(coordinator_a)
    enrol_url = reverse("participant-enrol", args=["ISF", participant.pk])
    bad = client.post(enrol_url, {"effective_date": "2026-03-20"})
    assert bad.status_code == 400 and "future" in bad.text
    assert client.post(enrol_url, {"effective_date": "yesterday"}).status_code == 400
    assert client.post(enrol_url, {"effective_date": "2026-03-09"}).status_code == 302
    participant.refresh_from_db()
    assert participant.study_id == "ISF-0001-8"
    again = client.post(enrol_url, {"effective_date": "2026-03-09"})
    assert again.status_code == 400 and "cannot become" in again.text

    status_url = reverse("participant-status", args=["ISF", participant.pk])
    no_reason = client.post(status_url, {"status": "withdrawn", "effective_date": "2026-03-10"})
    assert no_reason.status_code == 400
    assert "Give the reason for this change." in no_reason.text
    illegal = client.post(status_url, {"status": "completed", "effective_date": "2026-03-10"})
    assert illegal.status_code == 400 and "status" in illegal.context["form"].errors
    done = client.post(
        status_url,
        {
            "status": "withdrawn",
            "effective_date": "2026-03-10",
            "reason": "Declined",
            "withdrawn_by": "participant",
            "follow_up_allowed": "False",
        },
    )
    assert done.status_code == 302
    participant.refresh_from_db()
    assert participant.status == "withdrawn"
