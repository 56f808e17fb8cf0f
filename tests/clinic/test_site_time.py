"""Every date-time a page shows is in the time zone of the site it belongs to (the server keeps
UTC), and names its zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from config.middleware import page_time_zone
from crfs.alsfrs_r.models import AlsfrsR
from reminders.models import Notification
from tests.conftest import TX_DAY
from tests.factories import (
    MembershipFactory,
    SiteFactory,
    member,
    save_crf,
    transplanted_participant,
)
from tests.visits.test_pages import TX_FORM, enrolled  # noqa: F401 - a fixture
from trials.models import Role
from visits.services import record_visit_date

pytestmark = pytest.mark.django_db

# The `frozen` clock stands at 2026-03-10 08:00 UTC: 11:30 in Tehran (+0330), 08:00 in London.


@pytest.fixture
def site_london(db):
    return SiteFactory(
        code="LDN", name="London site", country="United Kingdom", time_zone="Europe/London"
    )


@pytest.fixture
def two_zones(site_a, site_london):
    """A coordinator of a Tehran-time site and a London-time site."""
    user = member(Role.COORDINATOR, site_a, "two_zones")
    MembershipFactory(user=user, site=site_london, role=Role.COORDINATOR)
    return user


def _dated_m06(actor, site, trial):
    participant = transplanted_participant(actor, site, trial, on=TX_DAY)
    visit = participant.visits.get(code="M06")
    # The dated visit: a form is saved only at a dated visit.
    return record_visit_date(
        actor=actor, visit=visit, actual_date=visit.target_date - timedelta(days=2)
    )


def _entry_url(visit):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, "alsfrs_r"])


def test_a_transplantation_entered_at_10_30_site_time_shows_10_30(
    client_for,
    coordinator_a,
    enrolled,  # noqa: F811 - the fixture imported above
):
    client = client_for(coordinator_a)
    url = reverse("transplantation", args=["ISF", enrolled.pk])
    assert client.post(url, TX_FORM | {"performed_time": "10:30"}).status_code == 302
    page = client.get(reverse("participant-detail", args=["ISF", enrolled.pk]))
    assert "2026-03-01 10:30 (Asia/Tehran)" in page.text
    correction = client.get(url)  # the correction form offers the time as entered
    assert 'value="10:30"' in correction.text


def test_last_saved_shows_the_site_time(frozen, client_for, coordinator_a, m06):
    save_crf(coordinator_a, m06, AlsfrsR, {"q1_speech": 3}, complete=False)
    page = client_for(coordinator_a).get(_entry_url(m06))
    assert "last saved by coord_a at 2026-03-10 11:30 +0330" in page.text


def test_a_user_of_two_sites_sees_each_site_in_its_own_zone(
    frozen, client_for, two_zones, site_a, site_london, trial
):
    tehran, london = _dated_m06(two_zones, site_a, trial), _dated_m06(two_zones, site_london, trial)
    for visit in (tehran, london):
        save_crf(two_zones, visit, AlsfrsR, {"q1_speech": 3}, complete=False)
    client = client_for(two_zones)
    assert "at 2026-03-10 11:30 +0330" in client.get(_entry_url(tehran)).text
    assert "at 2026-03-10 08:00 GMT" in client.get(_entry_url(london)).text
    london_page = client.get(reverse("participant-detail", args=["LDN", london.participant_id]))
    assert f"{TX_DAY.isoformat()} 10:00 (Europe/London)" in london_page.text
    # The team history (stamped by the database's clock) of each site, in that site's zone.
    for site, label in ((site_a, "+0330"), (site_london, "GMT")):
        granted = (
            apps.get_model("trials", "MembershipEvent")
            .objects.filter(site=site)
            .latest("pgh_created_at")
        )
        local = granted.pgh_created_at.astimezone(site.zone).strftime("%Y-%m-%d %H:%M")
        team = client.get(reverse("site-team", args=[site.code]))
        assert f"{local} {label}" in team.text


def test_notifications_show_each_in_its_sites_zone(
    frozen, client_for, two_zones, site_a, site_london
):
    for site in (site_a, site_london):
        Notification.objects.create(user=two_zones, site=site, subject=site.code, body="")
    page = client_for(two_zones).get(reverse("notifications")).text
    assert "ISF · 2026-03-10 11:30 +0330" in page and "LDN · 2026-03-10 08:00 GMT" in page


def test_pages_of_no_site_use_the_zone_the_users_sites_share(coordinator_a, two_zones, site_london):
    assert page_time_zone(coordinator_a, None) == "Asia/Tehran"
    assert page_time_zone(two_zones, None) is None  # UTC, and every time names its zone
    assert page_time_zone(two_zones, "LDN") == "Europe/London"
    assert page_time_zone(coordinator_a, "LDN") is None  # not a site this user may see


def test_a_pages_zone_does_not_outlive_its_request(frozen, client_for, coordinator_a, m06):
    client_for(coordinator_a).get(_entry_url(m06))
    assert timezone.get_current_timezone_name() == "UTC"
