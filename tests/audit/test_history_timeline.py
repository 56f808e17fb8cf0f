"""A record's history page tells its whole story in one timeline, newest first: its entry
and each correction (field, old → new, who, reason, path), the monitor's verification and
its clearing by a correction, the query opened, answered by the correction and closed, the
investigator's e-signature and its invalidation, the data manager's lock and unlock. The
breadcrumb leads back through the participant and the visit to the form; the page takes the
same number of queries however long the story."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from queries import services as query_services
from queries import tasks
from review import services as review_services
from review.models import Scope
from tests.audit.test_history import ALL_FOURS, entry_url, post_form
from tests.factories import PASSWORD, investigator_of, member, transplanted_participant
from trials import records
from trials.models import Role

pytestmark = pytest.mark.django_db


def history_url(record):
    site = record.visit.participant.site
    return reverse("audit-record-history", args=[site.code, "alsfrs_r", record.pk])


def kinds(html: str) -> list[str]:
    table = html.split('data-testid="audit-entries"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr data-kind="([^"]+)"', table)


def rows_by_kind(html: str) -> dict[str, list[str]]:
    table = html.split('data-testid="audit-entries"', 1)[1].split("</tbody>", 1)[0]
    found: dict[str, list[str]] = {}
    for row in table.split("<tr")[2:]:
        kind = re.match(r' data-kind="([^"]+)"', row)
        if kind:
            text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
            found.setdefault(kind.group(1), []).append(text)
    return found


def lock_participant(dm, participant, reason):
    return review_services.lock(
        actor=dm,
        target=review_services.Target(
            scope=Scope.PARTICIPANT, site=participant.site, participant=participant
        ),
        reason=reason,
    )


@pytest.fixture
def answered_after_commit(monkeypatch):
    """A save's after-commit work (answering queries by the correction) runs as the worker
    would run it: in another thread, outside the request's audit context."""

    def work(*args):
        def run():
            try:
                query_services.after_record_saved(*args)
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        thread.join()

    monkeypatch.setattr(tasks.after_record_saved, "delay", work)


# Committed for real, with the real clock: the audit trail's times are the database's
# (the transaction's start), the other steps' the application's, and one test transaction
# or a frozen clock would make them all one instant.
@pytest.mark.django_db(transaction=True)
def test_the_forms_history_tells_its_whole_story_in_time_order(
    client_for, coordinator_a, monitor_a, site_a, trial, answered_after_commit
):
    participant = transplanted_participant(
        coordinator_a, site_a, trial, on=site_a.local_today() - timedelta(days=200)
    )
    m06 = participant.visits.get(code="M06")
    from visits.services import record_visit_date

    record_visit_date(actor=coordinator_a, visit=m06, actual_date=m06.target_date)
    investigator = investigator_of(site_a)
    data_manager = member(Role.DATA_MANAGER, site_a, "dm_a")
    coordinator = client_for(coordinator_a)

    post_form(coordinator, m06, ALL_FOURS, version=0)
    record = AlsfrsR.objects.get(visit=m06)
    alsfrs = records.get("alsfrs_r")
    review_services.verify(actor=monitor_a, record_type=alsfrs, record=record)
    query = query_services.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="alsfrs_r",
        record_pk=record.pk,
        field_name="q1_speech",
        text="The source says 3.",
    )
    coordinator = client_for(coordinator_a)
    post_form(
        coordinator,
        m06,
        ALL_FOURS | {"q1_speech": 3},
        version=1,
        reason="typed from the wrong sheet",
    )
    query_services.post(actor=monitor_a, query=query, action="close", text="")
    review_services.sign(
        actor=investigator, participant=participant, kind="visit", password=PASSWORD, visit=m06
    )
    lock = lock_participant(data_manager, participant, "interim analysis")
    review_services.unlock(actor=data_manager, lock=lock, reason="analysis done")
    coordinator = client_for(coordinator_a)
    post_form(
        coordinator, m06, ALL_FOURS | {"q1_speech": 2}, version=2, reason="second look at source"
    )

    response = client_for(monitor_a).get(history_url(record))
    assert response.status_code == 200
    html = response.content.decode()
    assert kinds(html) == [
        "signature_invalidated",
        "update",
        "unlocked",
        "locked",
        "signed",
        "query_closed",
        "query_correction",
        "verification_cleared",
        "update",
        "query_opened",
        "verified",
        "insert",
    ]
    rows = rows_by_kind(html)
    first_fix = rows["update"][1]
    assert "1. Speech" in first_fix
    assert "4 · Normal speech processes → 3 · Detectable speech disturbance" in first_fix
    assert "coord_a" in first_fix and "typed from the wrong sheet" in first_fix
    assert "page" in first_fix and entry_url(m06) in first_fix
    assert "monitor_a" in rows["verified"][0] and "The whole record" in rows["verified"][0]
    assert "1. Speech changed" in rows["verification_cleared"][0]
    assert (
        "The source says 3." in rows["query_opened"][0] and "monitor_a" in rows["query_opened"][0]
    )
    assert "On 1. Speech" in rows["query_opened"][0]
    assert f"#{query.pk}" in rows["query_closed"][0]
    assert reverse("query-detail", args=[site_a.code, query.pk]) in html
    assert "investigator_isf" in rows["signed"][0]
    assert "I confirm that the data are accurate and complete." in rows["signed"][0]
    assert "by a change of this record" in rows["signature_invalidated"][0]
    assert "Participant locked" in rows["locked"][0]
    assert "dm_a" in rows["locked"][0] and "interim analysis" in rows["locked"][0]
    assert "analysis done" in rows["unlocked"][0]


def test_the_breadcrumb_leads_through_participant_and_visit_to_the_form(
    m06, coordinator_a, monitor_a, client_for
):
    post_form(client_for(coordinator_a), m06, ALL_FOURS, version=0)
    record = AlsfrsR.objects.get(visit=m06)
    participant = m06.participant
    html = client_for(monitor_a).get(history_url(record)).content.decode()
    crumbs = html.split('data-testid="history-breadcrumb"', 1)[1].split("</ol>", 1)[0]
    expected = [
        reverse("site", args=["ISF"]),
        reverse("participant-list", args=["ISF"]),
        reverse("participant-detail", args=["ISF", participant.pk]),
        reverse("visit-detail", args=["ISF", participant.pk, m06.pk]),
        entry_url(m06),
    ]
    positions = [crumbs.index(f'href="{url}"') for url in expected]
    assert positions == sorted(positions)
    assert participant.label in crumbs and "ALSFRS-R" in crumbs
    # The visit's history has the participant and the visit too.
    visit_page = client_for(monitor_a).get(
        reverse("audit-visit-history", args=["ISF", participant.pk, m06.pk])
    )
    crumbs = visit_page.content.decode().split('data-testid="history-breadcrumb"', 1)[1]
    assert reverse("participant-list", args=["ISF"]) in crumbs.split("</ol>", 1)[0]


def test_the_reason_wraps_between_words_by_the_apps_stylesheet(
    m06, coordinator_a, monitor_a, client_for
):
    coordinator = client_for(coordinator_a)
    post_form(coordinator, m06, ALL_FOURS, version=0)
    post_form(
        coordinator,
        m06,
        ALL_FOURS | {"q1_speech": 3},
        version=1,
        reason="the participant's speech was scored from the wrong visit's sheet",
    )
    record = AlsfrsR.objects.get(visit=m06)
    html = client_for(monitor_a).get(history_url(record)).content.decode()
    assert re.search(r'<td class="audit-reason">\s*<span class="long-text">the participant', html)
    assert "css/audit.css" in html and " style=" not in html.split("<body", 1)[1]
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/audit.css").read_text()
    assert re.search(r"\.audit-reason\s*\{[^}]*min-width", css)


def test_the_admin_says_locked_in_plain_text(
    m06, coordinator_a, client_for, django_user_model, site_a
):
    from tests.factories import save_crf

    record = save_crf(coordinator_a, m06, AlsfrsR, ALL_FOURS)
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    lock_participant(member(Role.DATA_MANAGER, site_a, "dm_a"), m06.participant, "interim")
    page = client_for(root).get(reverse("admin:crfs_alsfrsr_change", args=[record.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "The participant is locked (dm_a" in text
    assert "\N{LOCK}" not in text


def test_a_records_history_takes_the_same_queries_however_long_its_story(
    m06, coordinator_a, monitor_a, site_a, client_for
):
    coordinator = client_for(coordinator_a)
    post_form(coordinator, m06, ALL_FOURS, version=0)
    record = AlsfrsR.objects.get(visit=m06)
    url = history_url(record)
    client = Client()
    client.force_login(monitor_a)
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        assert client.get(url).status_code == 200

    alsfrs = records.get("alsfrs_r")
    data_manager = member(Role.DATA_MANAGER, site_a, "dm_a")
    investigator = investigator_of(site_a)
    for version, speech in enumerate((3, 2, 1), start=1):
        review_services.verify(actor=monitor_a, record_type=alsfrs, record=record)
        query = query_services.open_query(
            actor=monitor_a,
            site=site_a,
            record_type="alsfrs_r",
            record_pk=record.pk,
            field_name="q1_speech",
            text=f"Check speech ({version})",
        )
        query_services.post(actor=monitor_a, query=query, action="close", text="fine")
        review_services.sign(
            actor=investigator,
            participant=m06.participant,
            kind="visit",
            password=PASSWORD,
            visit=m06,
        )
        lock = lock_participant(data_manager, m06.participant, f"look {version}")
        review_services.unlock(actor=data_manager, lock=lock, reason="done")
        post_form(coordinator, m06, ALL_FOURS | {"q1_speech": speech}, version=version, reason="x")
    with CaptureQueriesContext(connection) as long:
        response = client.get(url)
        assert response.status_code == 200
    assert len(kinds(response.content.decode())) > 20
    assert len(long.captured_queries) == len(short.captured_queries) > 0
