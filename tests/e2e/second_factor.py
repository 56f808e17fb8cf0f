"""Browser logins past the second factor.

The stories of other pages log in through the login page with the password, then mark the
browser's session as having passed the second factor, as `force_login` does for the test
client (tests/conftest.py): the user has no device, so their signatures ask for the password
alone. The second factor's own pages are proven in tests/accounts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY


def pass_second_factor(page, base: str) -> None:
    """After the login form's submit: when the app asks for the second factor, mark the
    session verified and go where the login was going."""
    page.wait_for_url(lambda url: "/login/" not in url)
    if "/accounts/two-factor/" not in page.url:
        return
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=cookie["value"])
    session[DEVICE_ID_SESSION_KEY] = "tests.e2e"
    session.save()
    target = parse_qs(urlsplit(page.url).query).get("next", ["/"])[0]
    page.goto(f"{base}{target}")
