"""An investigator opens the cohort view on a phone (390 x 844) and on a desktop: the page
never scrolls sideways (the tables scroll in their own box, the charts scale), each chart's
data table opens, the scatter is drawn. Screenshots go to /tmp/cohort_*.png for a person to
look at."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import member
from tests.reports.test_cohort import dated, person, save_alsfrs, visit
from trials.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shot(name: str) -> str:
    return str(Path(tempfile.gettempdir()) / f"cohort_{name}.png")


def test_the_cohort_view_fits_a_phone_and_shows_its_numbers(
    live_server,
    page,
    coordinator_a,
    site_a,
    trial,
):
    investigator = member(Role.INVESTIGATOR, site_a, "investigator_a")
    today = site_a.local_today()
    for i, months_ago in enumerate((26, 20, 14)):
        p = person(
            coordinator_a, site_a, trial, today - timedelta(days=months_ago * 31), name=f"P{i}"
        )
        save_alsfrs(coordinator_a, visit(p, "BL"), 3 + i)
        save_alsfrs(coordinator_a, dated(coordinator_a, p, "M06"), 6 + 2 * i)
        save_alsfrs(coordinator_a, dated(coordinator_a, p, "M12"), 8 + 3 * i)

    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        if name == "phone":
            log_in(page, live_server.url, investigator.username)
        page.goto(f"{live_server.url}{reverse('reports-cohort')}")
        page.wait_for_selector("#cohort-change-table")
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert page.locator("svg").count() == 3
        page.screenshot(path=shot(name), full_page=True)

    # The numbers behind a chart are one click away.
    page.locator("summary", has_text="Data table").first.click()
    assert page.locator("table caption", has_text="Data of:").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
