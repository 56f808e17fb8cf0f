"""On a phone (390 px) the site team page and the export log never scroll sideways: their
wide tables scroll inside their own box (the team history was 461 px wide, the export log
582 px, seen on `make run`)."""

from __future__ import annotations

import pytest

from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import UserFactory, member
from trials import services
from trials.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_team_and_export_log_fit_a_phone(live_server, page, site_a):
    admin = member(Role.SITE_ADMIN, site_a, "siteadmin_a")
    investigator = member(Role.INVESTIGATOR, site_a, "investigator_a")
    for index, role in enumerate((Role.COORDINATOR, Role.DATA_MANAGER, Role.MONITOR)):
        person = UserFactory(
            username=f"person{index}", first_name="Mohammadreza", last_name="Hosseinzadeh"
        )
        services.grant_role(actor=admin, site=site_a, user=person, role=role)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, investigator.username)
    page.goto(f"{live_server.url}/sites/{site_a.code}/team/")
    assert page.locator("#team-history").count() == 1
    assert fits(page)
    page.goto(f"{live_server.url}/exports/log/")
    assert fits(page)


def test_notifications_fit_a_phone_in_persian(live_server, page, site_a):
    """The notification list on a 390 px phone in Persian was 405 px wide (seen on `make
    run`): its two buttons stayed on one line beside the text."""
    from reminders.models import Notification

    investigator = member(Role.INVESTIGATOR, site_a, "investigator_a")
    for number in range(3):
        Notification.objects.create(
            user=investigator,
            site=site_a,
            # As the reminder writes it for a Persian reader: a serious AE's subject.
            subject=f"[ALS eCRF] {site_a.code}-000{number}-4: عارضه جانبی جدی · Meningismus",
            body=f"یک عارضه جانبی جدی برای شرکت‌کننده {site_a.code}-000{number}-4 گزارش شد.",
            url=f"/sites/{site_a.code}/",
        )
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, investigator.username)
    page.locator("#language-fa").click()
    page.wait_for_load_state("domcontentloaded")
    page.goto(f"{live_server.url}/notifications/")
    assert page.locator("html").get_attribute("lang") == "fa"
    assert page.locator("form[action$='/read/'] button").count() == 6
    assert fits(page)


def test_a_visits_forms_fit_a_phone_in_persian(live_server, page, site_a, trial):
    """A visit's form list on a 390 px phone in Persian was 432 px wide (seen on `make run`):
    the medications' answer, 'no change since the last visit (answered)', could not wrap."""
    from datetime import timedelta

    from safety.services import save_visit_review
    from tests.factories import transplanted_participant
    from visits.services import record_visit_date

    coordinator = member(Role.COORDINATOR, site_a, "coordinator_a")
    today = site_a.local_today()
    participant = transplanted_participant(
        coordinator, site_a, trial, on=today - timedelta(days=190)
    )
    m06 = participant.visits.get(code="M06")
    record_visit_date(actor=coordinator, visit=m06, actual_date=today - timedelta(days=5))
    m06.refresh_from_db()
    save_visit_review(
        actor=coordinator,
        visit=m06,
        answers={"no_adverse_events": True, "no_conmed_changes": True},
        expected_version=0,
    )
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_server.url, coordinator.username)
    page.locator("#language-fa").click()
    page.wait_for_load_state("domcontentloaded")
    page.goto(
        f"{live_server.url}/sites/{site_a.code}/participants/{participant.pk}/visits/{m06.pk}/"
    )
    assert page.get_by_test_id("form-conmeds").count() == 1
    assert fits(page)
