"""The site's audit log (filters, page, streamed CSV safe for spreadsheets) and the path of
every change: page, API, admin, management command, Celery task."""

from __future__ import annotations

import csv
import datetime as dt
import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.context import AuditContextMiddleware
from config.celery import app as celery_app
from participants.models import Participant
from tests.factories import UserFactory, member, register
from trials import services
from trials.models import Membership, Role, Site, Trial

pytestmark = pytest.mark.django_db


def context_of(model, **filters) -> dict:
    event = model.pgh_event_model.objects.filter(**filters).last()
    assert event is not None and event.pgh_context is not None
    return event.pgh_context


def register_two(coordinator_a, coordinator_b, site_a, site_b, trial):
    here = register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 1), name="Here Person")
    there = register(
        coordinator_b, site_b, trial, screened_on=date(2026, 3, 1), name="There Person"
    )
    return here, there


@pytest.fixture
def two_sites(coordinator_a, coordinator_b, site_a, site_b, trial):
    return register_two(coordinator_a, coordinator_b, site_a, site_b, trial)


def test_a_monitor_reads_the_sites_log_and_filters_it(
    time_machine, coordinator_a, coordinator_b, site_a, site_b, trial, monitor_a, client_for
):
    # 20:45 UTC is already tomorrow in Tehran: the date filter counts the site's days, not
    # the server's (this test once failed in CI run at that hour, comparing with UTC's day).
    time_machine.move_to(dt.datetime(2026, 11, 30, 20, 45, tzinfo=dt.UTC), tick=False)
    here, there = register_two(coordinator_a, coordinator_b, site_a, site_b, trial)
    client = client_for(monitor_a)
    url = reverse("audit-log", args=["ISF"])
    html = client.get(url).content.decode()
    assert here.screening_number in html and there.screening_number not in html
    assert "register participant" in html
    # By user: nobody else changed anything at the site.
    other = member(Role.MONITOR, here.site, "quiet")
    assert "No change recorded." in client.get(url, {"user": str(other.pk)}).content.decode()
    assert (
        here.screening_number in client.get(url, {"user": str(coordinator_a.pk)}).content.decode()
    )
    # By record type: only consent rows, and none here yet.
    consent_key = Participant.pgh_event_model._meta.label_lower.replace(
        "participantevent", "consentevent"
    )
    assert "No change recorded." in client.get(url, {"record_type": consent_key}).content.decode()
    # By date, in the site's days.
    today = here.site.local_today()
    assert today == date(2026, 12, 1)
    assert (
        "No change recorded."
        in client.get(url, {"start": "2026-11-30", "end": "2026-11-30"}).content.decode()
    )
    assert (
        here.screening_number
        in client.get(url, {"start": today.isoformat(), "end": today.isoformat()}).content.decode()
    )
    assert (
        "No change recorded."
        in client.get(url, {"end": (today - timedelta(days=2)).isoformat()}).content.decode()
    )


def test_bad_filters_are_form_errors_not_500(two_sites, monitor_a, client_for):
    client = client_for(monitor_a)
    url = reverse("audit-log", args=["ISF"])
    for query in (
        {"start": "2026-03-05", "end": "2026-03-01"},
        {"start": "yesterday"},
        {"user": "x"},
        {"record_type": "auth.user"},
        {"page": "99999999999"},
    ):
        response = client.get(url, query)
        assert response.status_code == 200, query
    assert (
        "The end date is before the start date."
        in client.get(url, {"start": "2026-03-05", "end": "2026-03-01"}).content.decode()
    )
    assert client.get(reverse("audit-log-csv", args=["ISF"]), {"start": "nope"}).status_code == 400


def test_only_reviewers_of_the_site_read_its_log(two_sites, coordinator_a, monitor_a, client_for):
    assert client_for(coordinator_a).get(reverse("audit-log", args=["ISF"])).status_code == 404
    assert client_for(monitor_a).get(reverse("audit-log", args=["THR"])).status_code == 404
    assert client_for(monitor_a).get(reverse("audit-log-csv", args=["THR"])).status_code == 404


def test_the_csv_streams_every_change_safe_for_spreadsheets(
    two_sites, coordinator_a, monitor_a, client_for
):
    here, _there = two_sites
    services.grant_role(
        actor=member(Role.SITE_ADMIN, here.site, "admin_a"),
        site=here.site,
        user=UserFactory(username="=cmd|calc"),
        role=Role.MONITOR,
    )
    response = client_for(monitor_a).get(reverse("audit-log-csv", args=["ISF"]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Time (UTC)", "Record type", "Record"]
    assert any(r[3] == here.screening_number for r in rows[1:])
    assert "There Person" not in text and "There" not in "".join(r[3] for r in rows[1:])
    # A value a spreadsheet would run is quoted; identifiers are withheld from a monitor.
    assert "'=cmd|calc" in text and "\n=cmd" not in text and ",=cmd" not in text
    assert "Here Person" not in text and "(identifier withheld)" in text


def test_the_log_page_takes_the_same_queries_for_one_participant_or_several(
    two_sites, coordinator_a, monitor_a, site_a, trial
):
    client = Client()
    client.force_login(monitor_a)
    url = reverse("audit-log", args=["ISF"])
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(3):
        register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 2), name=f"More {n}")
    with CaptureQueriesContext(connection) as more:
        assert client.get(url).status_code == 200
    assert len(more.captured_queries) == len(one.captured_queries)


# --- through which path ---------------------------------------------------------------


def test_a_change_on_a_page_says_page_and_its_url(site_a, client_for):
    admin = member(Role.SITE_ADMIN, site_a, "admin_a")
    newcomer = UserFactory(username="newcomer")
    url = reverse("site-team", args=["ISF"])
    client_for(admin).post(url, {"username": "newcomer", "role": Role.MONITOR})
    metadata = context_of(Membership, user_id=newcomer.pk)
    assert metadata["path"] == "page" and metadata["url"] == url
    assert metadata["reason"] == "grant role"


def test_a_change_in_the_admin_says_admin(site_a, client_for):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    url = reverse("admin:trials_site_change", args=[site_a.pk])
    response = client_for(root).post(
        url,
        {
            "code": "ISF",
            "name": "Renamed",
            "country": site_a.country,
            "time_zone": site_a.time_zone,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    metadata = context_of(Site, pgh_obj_id=site_a.pk, name="Renamed")
    assert metadata["path"] == "admin" and metadata["user"] == root.pk


def test_a_change_through_the_api_says_api(site_a):
    """The read API writes no record today: the middleware is what marks a future write."""
    admin = member(Role.SITE_ADMIN, site_a, "admin_a")
    newcomer = UserFactory(username="newcomer")
    request = RequestFactory().post("/api/v1/memberships/")
    request.user = admin

    def view(request):
        services.grant_role(actor=admin, site=site_a, user=newcomer, role=Role.MONITOR)
        return None

    AuditContextMiddleware(view)(request)
    assert context_of(Membership, user_id=newcomer.pk)["path"] == "api"


def test_a_management_command_says_command_and_its_name(db):
    call_command("load_protocol", stdout=io.StringIO())
    metadata = context_of(Trial)
    assert metadata["path"] == "command" and metadata["command"] == "load_protocol"
    assert metadata["reason"].startswith("load protocol")


def test_a_celery_task_says_task_and_its_name(site_a):
    admin = member(Role.SITE_ADMIN, site_a, "admin_a")
    newcomer = UserFactory(username="newcomer")

    @celery_app.task(name="tests.audit.grant")
    def grant() -> None:
        services.grant_role(actor=admin, site=site_a, user=newcomer, role=Role.MONITOR)

    grant.apply()
    metadata = context_of(Membership, user_id=newcomer.pk)
    assert metadata["path"] == "task" and metadata["task"] == "tests.audit.grant"
    # After the task, changes are no longer attributed to it.
    later = UserFactory(username="later")
    services.grant_role(actor=admin, site=site_a, user=later, role=Role.MONITOR)
    assert "path" not in context_of(Membership, user_id=later.pk)


def test_the_history_page_names_the_path(site_a, client_for, monitor_a):
    admin = member(Role.SITE_ADMIN, site_a, "admin_a")
    call_command("load_protocol", stdout=io.StringIO())
    client_for(admin).post(
        reverse("site-team", args=["ISF"]), {"username": "monitor_a", "role": Role.DATA_MANAGER}
    )
    html = client_for(monitor_a).get(reverse("audit-log", args=["ISF"])).content.decode()
    assert "page" in html and reverse("site-team", args=["ISF"]) in html
