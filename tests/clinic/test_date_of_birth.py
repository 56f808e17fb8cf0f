"""Only users who may see the identity see a participant's date of birth; others the age."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import member
from trials.models import Role

pytestmark = pytest.mark.django_db

BORN = "1970-01-15"  # tests.factories.register


def _participant_page(client, participant):
    return client.get(reverse("participant-detail", args=[participant.site.code, participant.pk]))


def test_roles_without_identifiers_see_the_age_not_the_date(
    client_for, tx_participant, site_a, monitor_a
):
    # Screened 40 days before the transplantation of 2025-08-01: 55 years old.
    viewers = [
        monitor_a,
        member(Role.DATA_MANAGER, site_a, "dm_a"),
        member(Role.SITE_ADMIN, site_a, "admin_a"),
    ]
    for user in viewers:
        page = _participant_page(client_for(user), tx_participant)
        assert page.status_code == 200, user
        assert BORN not in page.text, user
        assert "55 years" in page.text, user


def test_roles_with_identifiers_see_both(client_for, tx_participant, coordinator_a, site_a):
    for user in (coordinator_a, member(Role.INVESTIGATOR, site_a, "inv_a")):
        page = _participant_page(client_for(user), tx_participant).text
        assert BORN in page and "55 years" in page


def test_the_fvc_page_names_the_date_of_birth_only_to_those_who_may_see_it(
    client_for, m06, coordinator_a, monitor_a
):
    p = m06.participant
    url = reverse("crf-entry", args=[p.site.code, p.pk, m06.pk, "fvc"])
    shown = client_for(monitor_a).get(url)
    assert shown.status_code == 200
    assert BORN not in shown.text and "Predicted values use the demographics" in shown.text
    assert BORN in client_for(coordinator_a).get(url).text
