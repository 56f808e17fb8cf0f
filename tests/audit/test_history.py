"""History pages: a form's changes field by field (old → new with the answers' labels), who,
when, the reason and the path; a visit's and a participant's whole trail; identifiers only
for those who may see them; other sites get 404; the queries do not grow with the trail."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from tests.factories import member
from trials.models import Role

ALL_FOURS = {name: 4 for code, name in FIELD_BY_CODE.items() if code != "5b"}


def entry_url(visit, form_code="alsfrs_r"):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code])


def post_form(client, visit, answers, *, version, reason=""):
    data = {"version": version, "reason_for_change": reason, "mark_complete": "on"}
    data.update(answers)
    response = client.post(entry_url(visit), data)
    assert response.status_code == 302, response.content[:2000]


def history_url(record):
    site = record.visit.participant.site
    return reverse("audit-record-history", args=[site.code, "alsfrs_r", record.pk])


def rows(html: str) -> list[str]:
    body = html.split('data-testid="audit-entries"', 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)) for r in body.split("<tr")[2:]]


@pytest.fixture
def corrected(m06, coordinator_a, client_for):
    """An ALSFRS-R entered on the page, then its speech corrected with a reason."""
    client = client_for(coordinator_a)
    post_form(client, m06, ALL_FOURS, version=0)
    post_form(
        client, m06, ALL_FOURS | {"q1_speech": 3}, version=1, reason="typed from the wrong sheet"
    )
    return AlsfrsR.objects.get(visit=m06)


def test_a_forms_history_shows_the_correction_field_by_field(corrected, monitor_a, client_for):
    response = client_for(monitor_a).get(history_url(corrected))
    assert response.status_code == 200
    newest, first = rows(response.content.decode())
    # Newest first: the correction, with the answers' labels, who, why and through which page.
    assert "Changed" in newest and "1. Speech" in newest
    assert "4 · Normal speech processes → 3 · Detectable speech disturbance" in newest
    assert "coord_a" in newest and "typed from the wrong sheet" in newest
    assert "page" in newest and entry_url(corrected.visit) in newest
    assert "Created" in first and "4 · Normal speech processes" in first
    # Derived scores and bookkeeping are not the form's entered data.
    assert "version" not in first.lower()


def test_the_history_of_a_visit_and_of_a_participant_show_the_form(
    corrected, monitor_a, client_for
):
    visit = corrected.visit
    participant = visit.participant
    client = client_for(monitor_a)
    for url in (
        reverse("audit-visit-history", args=["ISF", participant.pk, visit.pk]),
        reverse("audit-participant-history", args=["ISF", participant.pk]),
    ):
        html = client.get(url).content.decode()
        assert history_url(corrected) in html  # each entry links its record's history
        assert "typed from the wrong sheet" in html
    participant_html = client.get(
        reverse("audit-participant-history", args=["ISF", participant.pk])
    ).content.decode()
    assert "consent" in participant_html.lower()  # everything of the participant


def test_identifiers_are_shown_only_to_those_who_may_see_them(
    corrected, monitor_a, coordinator_a, client_for
):
    participant = corrected.visit.participant
    url = reverse("audit-participant-history", args=["ISF", participant.pk])
    monitor_html = client_for(monitor_a).get(url).content.decode()
    assert "1234567890" not in monitor_html and "1970-01-15" not in monitor_html
    assert "identifier withheld" in monitor_html
    coordinator_html = client_for(coordinator_a).get(url).content.decode()
    assert "1234567890" in coordinator_html and "1970-01-15" in coordinator_html


def test_another_sites_member_gets_404(corrected, site_b, client_for):
    outsider = member(Role.MONITOR, site_b, "monitor_b")
    participant = corrected.visit.participant
    client = client_for(outsider)
    for url in (
        reverse("audit-record-history", args=["ISF", "alsfrs_r", corrected.pk]),
        reverse("audit-record-history", args=["THR", "alsfrs_r", corrected.pk]),
        reverse("audit-participant-history", args=["THR", participant.pk]),
        reverse("audit-visit-history", args=["THR", participant.pk, corrected.visit_id]),
        reverse("audit-record-history", args=["ISF", "no_such_type", 1]),
    ):
        assert client.get(url).status_code == 404, url


def test_a_deleted_form_keeps_its_history_page(corrected, monitor_a, client_for):
    url = history_url(corrected)
    corrected.delete()
    html = client_for(monitor_a).get(url + "?page=x").content.decode()
    newest = rows(html)[0]
    assert "Deleted" in newest and "3 · Detectable speech disturbance" in newest


def test_the_participant_history_takes_the_same_queries_however_long(
    m06, coordinator_a, monitor_a, client_for
):
    coordinator = client_for(coordinator_a)
    post_form(coordinator, m06, ALL_FOURS, version=0)
    participant = m06.participant
    url = reverse("audit-participant-history", args=["ISF", participant.pk])
    client = Client()
    client.force_login(monitor_a)
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200
    for version, speech in enumerate((3, 2, 1, 0), start=1):
        post_form(coordinator, m06, ALL_FOURS | {"q1_speech": speech}, version=version, reason="x")
    with CaptureQueriesContext(connection) as long:
        assert client.get(url).status_code == 200
    assert len(long.captured_queries) == len(short.captured_queries) > 0
