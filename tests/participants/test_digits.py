"""Digits typed on a Persian or Arabic keyboard are accepted wherever digits are expected
(phone, national ID, dates, the participant search) and stored as ASCII digits."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from participants.models import Participant
from tests.factories import register
from tests.participants.test_pages import REGISTRATION, TODAY
from trials.digits import ascii_digits

pytestmark = pytest.mark.django_db

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_ascii_digits_reads_persian_and_arabic_indic_digits_and_leaves_text_alone():
    mixed = "+98 (31) ".translate(PERSIAN) + "555-0101".translate(ARABIC_INDIC)
    assert ascii_digits(mixed) == "+98 (31) 555-0101"
    assert ascii_digits("Maryam مریم 12") == "Maryam مریم 12"


@pytest.mark.parametrize("script", [PERSIAN, ARABIC_INDIC], ids=["persian", "arabic-indic"])
def test_registration_accepts_phone_national_id_and_dates_in_other_digits(
    frozen, client_for, coordinator_a, site_a, trial, script
):
    typed = {
        name: REGISTRATION[name].translate(script)
        for name in ("national_id", "phone", "screened_on", "date_of_birth", "diagnosis_date")
    }
    response = client_for(coordinator_a).post(
        reverse("participant-register", args=["ISF"]),
        REGISTRATION | typed | {"trial": trial.pk},
    )
    assert response.status_code == 302, response.context["form"].errors
    participant = Participant.objects.get()
    identity = participant.identity
    assert (identity.national_id, identity.phone) == ("1234567890", "+98 31 555 0101")
    assert participant.screened_on == date(2026, 3, 9)
    assert participant.demographics.date_of_birth == date(1971, 4, 2)


def test_a_refused_registration_shows_the_digits_as_they_will_be_stored(
    frozen, client_for, coordinator_a, site_a, trial
):
    response = client_for(coordinator_a).post(
        reverse("participant-register", args=["ISF"]),
        REGISTRATION | {"trial": trial.pk, "phone": "۰۹۱۲"},
    )
    assert response.status_code == 400
    assert "phone" in response.context["form"].errors  # too short, in any digits
    assert 'value="0912"' in response.text
    assert not Participant.objects.exists()


def test_the_participant_list_finds_a_study_id_typed_in_persian_digits(
    frozen, client_for, coordinator_a, site_a, trial
):
    participant = register(coordinator_a, site_a, trial, screened_on=TODAY)
    other = register(coordinator_a, site_a, trial, screened_on=TODAY)
    typed = participant.screening_number.translate(PERSIAN)
    assert typed != participant.screening_number
    response = client_for(coordinator_a).get(
        reverse("participant-list", args=["ISF"]), {"q": typed}
    )
    assert response.status_code == 200
    shown = [p.pk for p in response.context["page"].object_list]
    assert shown == [participant.pk] and other.pk not in shown
