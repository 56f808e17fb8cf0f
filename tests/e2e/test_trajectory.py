"""An investigator looks at a participant's trajectory on a phone (390 x 844) and on a
desktop: the four charts fit the screen (no sideways scrolling; the SVG scales by its
viewBox), each has its title and its data table one tap away. Screenshots go to
/tmp/trajectory_*.png for a person to look at."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.e2e.test_alsfrs_entry import log_in
from tests.factories import investigator_of
from tests.reports.test_trajectory import course  # noqa: F401 - the participant's story

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("name", "width", "height"), [("phone", 390, 844), ("desktop", 1280, 900)])
def test_the_trajectory_fits_the_screen(live_server, page, course, site_a, name, width, height):  # noqa: F811
    investigator = investigator_of(site_a)
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server.url, investigator.username)
    page.goto(f"{live_server.url}/sites/{site_a.code}/participants/{course.pk}/")
    card = page.get_by_test_id("trajectory-card")
    card.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    figures = card.locator("figure")
    assert figures.count() == 4
    for i in range(4):
        svg = figures.nth(i).locator("svg").bounding_box()
        assert svg is not None and svg["x"] >= 0 and svg["x"] + svg["width"] <= width
    first = figures.first
    first.get_by_text("Data table").click()
    assert first.locator("table").first.is_visible()
    assert first.get_by_text("M12 missed (target date)").is_visible()
    card.screenshot(path=str(Path(tempfile.gettempdir()) / f"trajectory_{name}.png"))
