"""How a refused form speaks: each message once, a summary at the top that links to each field
in error, free text of bounded length shown collapsed when long."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.factories import register

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)
DAMAGED = "This form is damaged: open it again and re-enter the attempt."


def test_a_non_field_error_is_shown_once(frozen, client_for, coordinator_a, site_a, trial):
    person = register(coordinator_a, site_a, trial, screened_on=TODAY)
    url = reverse("participant-contact", args=["ISF", person.pk])
    response = client_for(coordinator_a).post(
        url,
        {
            "attempted_on": "2026-03-09",
            "method": "phone",
            "outcome": "no_answer",
            "form_token": "not-a-token",
        },
    )
    assert response.status_code == 400
    assert response.text.count(DAMAGED) == 1
