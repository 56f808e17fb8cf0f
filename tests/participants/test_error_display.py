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


def test_a_10000_character_address_is_a_field_error(frozen, client_for, coordinator_a, trial):
    from participants.models import Participant
    from tests.participants.test_pages import REGISTRATION

    response = client_for(coordinator_a).post(
        reverse("participant-register", args=["ISF"]),
        REGISTRATION | {"trial": trial.pk, "address": "Isfahan " * 1250},
    )
    assert response.status_code == 400
    assert "address" in response.context["form"].errors
    assert "at most 500 characters" in response.text
    assert not Participant.objects.exists()


def test_long_free_text_is_shown_collapsed(frozen, client_for, coordinator_a, site_a, trial):
    person = register(coordinator_a, site_a, trial, screened_on=TODAY)
    # Stored before the forms had a limit (the column has none): still shown collapsed.
    person.identity.address = "x" * 10_000
    person.identity.save()
    page = client_for(coordinator_a).get(reverse("participant-detail", args=["ISF", person.pk]))
    assert page.status_code == 200
    collapsed = page.text.split('<details class="long-text"', 1)[1].split("</details>", 1)[0]
    assert "x" * 10_000 in collapsed and "Show all" in collapsed


def _summary(html: str) -> str:
    assert html.count('data-testid="error-summary"') == 1
    return html.split('data-testid="error-summary"', 1)[1].split("</div>", 1)[0]


def test_the_error_summary_links_to_each_field_in_error(
    frozen, client_for, coordinator_a, site_a, trial
):
    from tests.participants.test_pages import REGISTRATION

    bad = {"height_cm": "2", "email": "not-an-address", "onset": "March", "sex": ""}
    response = client_for(coordinator_a).post(
        reverse("participant-register", args=["ISF"]), REGISTRATION | {"trial": trial.pk} | bad
    )
    assert response.status_code == 400
    summary = _summary(response.text)
    assert 'role="alert"' in response.text.split('data-testid="error-summary"', 1)[0][-300:]
    for field in bad:
        assert f'href="#id_{field}"' in summary, field
    assert "Height must be between 100 and 230 cm." in summary
    # The summary is the page's only list of non-field errors: crispy prints none of its own.
    assert "alert-block" not in response.text


def test_the_error_summary_shows_a_non_field_error_once(
    frozen, client_for, coordinator_a, site_a, trial
):
    person = register(coordinator_a, site_a, trial, screened_on=TODAY)
    response = client_for(coordinator_a).post(
        reverse("participant-contact", args=["ISF", person.pk]),
        {"attempted_on": "", "method": "phone", "outcome": "no_answer", "form_token": "bad"},
    )
    summary = _summary(response.text)
    assert response.text.count(DAMAGED) == 1 and DAMAGED in summary
    assert 'href="#id_attempted_on"' in summary


def test_a_page_without_errors_has_no_summary(frozen, client_for, coordinator_a, site_a, trial):
    page = client_for(coordinator_a).get(reverse("participant-register", args=["ISF"]))
    assert page.status_code == 200 and "error-summary" not in page.text
