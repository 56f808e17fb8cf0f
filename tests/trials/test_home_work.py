"""Each role's home page leads with its work at the site: the coordinator's forms in
progress, visits due and queries to answer; the monitor's records to verify and queries to
close; the investigator's records and serious events to sign; the data manager's
unresolved queries by age, edit checks with findings and locks. Every count links to the
list behind it and costs the same queries however much work there is."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from queries import services as queries
from tests.conftest import NOW, TX_DAY
from tests.factories import ALSFRS_NORMAL, home_work, member, save_crf, transplanted_participant
from trials.models import Role

pytestmark = pytest.mark.django_db

PARTIAL = dict(list(ALSFRS_NORMAL.items())[:3])


def work_of(client_for, user) -> dict[str, int]:
    return home_work(client_for(user).get(reverse("home")).text, "ISF")


def test_each_role_sees_its_own_work_first(client_for, coordinator_a, monitor_a, site_a, m06):
    investigator = member(Role.INVESTIGATOR, site_a, "inv")
    data_manager = member(Role.DATA_MANAGER, site_a, "dm")
    site_admin = member(Role.SITE_ADMIN, site_a, "admin")

    assert set(work_of(client_for, coordinator_a)) == {
        "Forms in progress",
        "Visits due",
        "Queries to answer",
    }
    assert set(work_of(client_for, monitor_a)) == {"Records to verify", "Queries to close"}
    assert set(work_of(client_for, investigator)) == {
        "Forms in progress",
        "Visits due",
        "Queries to answer",
        "Records to sign",
        "Serious adverse events to sign",
    }
    assert set(work_of(client_for, data_manager)) == {
        "Queries to close",
        "Unresolved queries",
        "Edit checks with open findings",
        "Active locks",
    }
    # The site admin manages the team; no data waits for them.
    assert work_of(client_for, site_admin) == {}


def test_the_counts_follow_the_work_and_lead_to_its_list(
    client_for, coordinator_a, monitor_a, site_a, m06, time_machine
):
    data_manager = member(Role.DATA_MANAGER, site_a, "dm")
    assert work_of(client_for, coordinator_a)["Forms in progress"] == 0

    # The coordinator saves half an ALSFRS-R: one form in progress, and the list behind the
    # count shows that participant only.
    record = save_crf(coordinator_a, m06, AlsfrsR, PARTIAL, complete=False)
    other = transplanted_participant(
        coordinator_a, site_a, m06.participant.trial, on=TX_DAY, name="Other Person"
    )
    assert work_of(client_for, coordinator_a)["Forms in progress"] == 1
    listing = client_for(coordinator_a).get(
        reverse("participant-list", args=["ISF"]), {"forms": "in_progress"}
    )
    assert m06.participant.label in listing.text and other.label not in listing.text

    # The monitor asks; the coordinator has a query to answer, the monitor none to close.
    query = queries.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="alsfrs_r",
        record_pk=record.pk,
        field_name="",
        text="Please complete the form.",
    )
    assert work_of(client_for, coordinator_a)["Queries to answer"] == 1
    assert work_of(client_for, monitor_a)["Queries to close"] == 0
    queries.post(actor=coordinator_a, query=query, action=queries.Action.ANSWER, text="Done.")
    assert work_of(client_for, coordinator_a)["Queries to answer"] == 0
    assert work_of(client_for, monitor_a)["Queries to close"] == 1

    # The data manager sees its age: under a week now, a month or more later.
    page = client_for(data_manager).get(reverse("home")).text
    assert home_work(page, "ISF")["Unresolved queries"] == 1
    assert "1 under 7 days old · 0 under 30 days · 0 of 30 days or more" in page
    time_machine.move_to(NOW + timedelta(days=31), tick=False)
    page = client_for(data_manager).get(reverse("home")).text
    assert "0 under 7 days old · 0 under 30 days · 1 of 30 days or more" in page


def test_visits_due_count_the_open_and_the_overdue(
    client_for, coordinator_a, site_a, tx_participant, time_machine
):
    m12 = tx_participant.visits.get(code="M12")
    time_machine.move_to(
        datetime.combine(m12.window_end + timedelta(days=3), time(8), tzinfo=UTC), tick=False
    )
    page = client_for(coordinator_a).get(reverse("home")).text
    due = home_work(page, "ISF")["Visits due"]
    overdue_open = tx_participant.visits.open().filter(window_start__lte=site_a.local_today())
    assert due == overdue_open.count() >= 2  # M06 was never dated either
    assert f"{overdue_open.filter(window_end__lt=site_a.local_today()).count()} overdue" in page


def test_the_home_page_costs_the_same_queries_with_more_work(
    client_for, coordinator_a, monitor_a, site_a, m06, trial
):
    person = member(Role.COORDINATOR, site_a, "busy")
    member(Role.MONITOR, site_a, "busy")
    member(Role.INVESTIGATOR, site_a, "busy")
    member(Role.DATA_MANAGER, site_a, "busy")
    person.refresh_from_db()
    client = client_for(person)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    record = save_crf(coordinator_a, m06, AlsfrsR, PARTIAL, complete=False)
    for _ in range(3):
        transplanted_participant(coordinator_a, site_a, trial, on=TX_DAY)
    queries.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="alsfrs_r",
        record_pk=record.pk,
        field_name="",
        text="Why?",
    )
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("home"))
    assert home_work(page.text, "ISF")["Forms in progress"] == 1
    assert len(many.captured_queries) == len(few.captured_queries)


def test_forms_in_progress_are_counted_at_their_own_site_only(
    client_for, coordinator_a, coordinator_b, site_b, m06
):
    from visits.services import record_visit_date

    save_crf(coordinator_a, m06, AlsfrsR, PARTIAL, complete=False)
    for name in ("Elsewhere One", "Elsewhere Two"):
        elsewhere = transplanted_participant(
            coordinator_b, site_b, m06.participant.trial, on=TX_DAY, name=name
        )
        visit = elsewhere.visits.get(code="M06")
        record_visit_date(
            actor=coordinator_b, visit=visit, actual_date=visit.target_date - timedelta(days=2)
        )
        visit.refresh_from_db()
        save_crf(coordinator_b, visit, AlsfrsR, PARTIAL, complete=False)

    assert work_of(client_for, coordinator_a)["Forms in progress"] == 1
    page = client_for(coordinator_b).get(reverse("home")).text
    assert home_work(page, "THR")["Forms in progress"] == 2
