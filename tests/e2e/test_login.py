"""A coordinator logs in through a real browser and sees her site."""

from __future__ import annotations

import pytest

from tests.e2e.second_factor import pass_second_factor
from tests.factories import PASSWORD, SiteFactory, member
from trials.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_coordinator_logs_in_and_sees_only_her_site(live_server, page):
    isfahan = SiteFactory(code="ISF", name="Neurosciences Research Center, Isfahan")
    SiteFactory(code="THR", name="Tehran site")
    member(Role.COORDINATOR, isfahan, "sara")

    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Username").fill("sara")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_second_factor(page, live_server.url)

    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Welcome, sara").is_visible()
    assert page.locator("#main").get_by_text("Neurosciences Research Center, Isfahan").is_visible()
    assert page.get_by_text("Tehran site").count() == 0
    assert page.locator("link[href*='bootstrap.min.css']").count() == 1

    response = page.goto(f"{live_server.url}/sites/THR/")
    assert response.status == 404
    assert "Tehran site" not in page.content()


def test_wrong_password_is_refused_with_a_message(live_server, page):
    member(Role.COORDINATOR, SiteFactory(code="ISF"), "sara")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("sara")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Please enter a correct username and password").is_visible()
    assert "/accounts/login/" in page.url
