"""Two-factor sign-in in a real browser: enrol at the first login (the key from the page),
then the next login asks for the code."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import TOTP

from tests.factories import PASSWORD, SiteFactory, member
from trials.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def code_for(secret: str, steps_ahead: int = 0) -> str:
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time += steps_ahead * 30
    return f"{totp.token():06d}"


def password_login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_investigator_enrols_at_first_login_then_logs_in_with_the_code(
    live_server, browser, page
):
    base = live_server.url
    member(Role.INVESTIGATOR, SiteFactory(code="ISF", name="Isfahan"), "reza")

    password_login(page, base, "reza")
    page.wait_for_url("**/accounts/two-factor/enrol/**")
    assert page.get_by_test_id("qr").locator("svg").count() == 1
    secret = page.get_by_test_id("secret").inner_text()
    page.get_by_label("Code shown by the app").fill(code_for(secret))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/two-factor/backup-codes/**")
    assert page.get_by_test_id("backup-codes").locator("li").count() == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", name="Welcome, reza").is_visible()

    other = browser.new_context(locale="en-GB").new_page()
    password_login(other, base, "reza")
    other.wait_for_url("**/accounts/two-factor/?next=*")
    # The code of the next 30-second step: the current one was spent on enrolling.
    other.get_by_label("Code from your authenticator app").fill(code_for(secret, steps_ahead=1))
    other.get_by_role("button", name="Continue").click()
    other.wait_for_url(f"{base}/")
