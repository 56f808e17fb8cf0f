"""Dates on the CRF entry pages are ISO (Y-m-d), as on every other page: the EMG's study
date among its derived values, and a date answer in the "saved meanwhile" differences."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.dateformat import format as date_format

from crfs.eligibility.models import Eligibility
from crfs.emg.models import Emg
from tests.crfs.test_emg_form import CMAP, FINDINGS, form_data

pytestmark = pytest.mark.django_db


def url(visit, form_code):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code])


def derived_block(html: str) -> str:
    return html[html.index("Derived scores") : html.index("</dl>", html.index("Derived scores"))]


def test_the_emg_study_date_is_shown_iso(client_for, coordinator_a, m06):
    client = client_for(coordinator_a)
    assert client.post(url(m06, "emg"), form_data(CMAP, FINDINGS, version=0)).status_code == 302
    assert Emg.objects.get(visit=m06).study_date == m06.actual_date

    derived = derived_block(client.get(url(m06, "emg")).text)
    assert m06.actual_date.isoformat() in derived
    assert date_format(m06.actual_date, "N j, Y") not in derived  # Django's default format
    assert not re.search(r"[A-Z][a-z]{2}\.? \d{1,2}, \d{4}", derived)


def test_a_date_answer_saved_meanwhile_is_shown_iso_in_the_differences(
    client_for, coordinator_a, tx_participant
):
    screening = tx_participant.visits.get(code="SCR")
    saved = Eligibility.objects.get(visit=screening)
    assert saved.polysomnography_date is not None and saved.version > 0
    mine = saved.polysomnography_date.replace(day=1 if saved.polysomnography_date.day > 1 else 2)

    # Opened before the last save (version 0): the page lists what differs.
    response = client_for(coordinator_a).post(
        url(screening, "eligibility"), {"version": 0, "polysomnography_date": mine.isoformat()}
    )
    assert response.status_code == 400
    html = response.text
    conflict = html[
        html.index('data-testid="conflict"') : html.index(
            "</table>", html.index('data-testid="conflict"')
        )
    ]
    assert (
        f"<td>{saved.polysomnography_date.isoformat()}</td><td>{mine.isoformat()}</td>" in conflict
    )
    assert date_format(saved.polysomnography_date, "N j, Y") not in conflict
