"""The adverse-event page's answers are marked up like the CRFs': Bootstrap radios, and each
field in error points at its message (aria-describedby), so a screen reader reads why."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_ae_form_styles_its_radios_and_describes_its_errors(client_for, coordinator_a, m06):
    participant = m06.participant
    url = reverse("adverse-event-new", args=[participant.site.code, participant.pk])
    client = client_for(coordinator_a)
    page = client.get(f"{url}?visit={m06.pk}").content.decode()
    radios = re.findall(r'<input type="radio"[^>]*>', page)
    assert radios and all('class="form-check-input' in radio for radio in radios)

    response = client.post(f"{url}?visit={m06.pk}", {"visit": m06.pk, "mark_complete": "on"})
    assert response.status_code == 400
    page = response.content.decode()
    described = set(re.findall(r'aria-describedby="([^"]+)"', page))
    assert described
    for ids in described:
        for element_id in ids.split():
            assert f'id="{element_id}"' in page, element_id


def test_a_recorded_seriousness_is_shown_ticked_when_the_event_is_opened_again(
    client_for, coordinator_a, m06
):
    """Saved as serious, the event's page showed neither Yes nor No ticked: the next save of
    the page would have dropped the seriousness the coordinator recorded."""
    from tests.safety.conftest import serious_post

    participant = m06.participant
    client = client_for(coordinator_a)
    new = reverse("adverse-event-new", args=[participant.site.code, participant.pk])
    response = client.post(new, serious_post(m06))
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(response["Location"]).content.decode()
    ticked = re.findall(r'<input type="radio" name="serious" value="(\w+)"[^>]*checked', page)
    assert ticked == ["true"]
