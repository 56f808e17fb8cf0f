"""The idle timeout's warning in a real browser (static/js/idle.js)."""

from __future__ import annotations

import pytest

from tests.e2e.test_alsfrs_entry import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_minute_before_the_timeout_the_page_offers_to_stay_signed_in(
    live_server, page, monitor_a, settings
):
    # One minute: the warning is due at once.
    settings.ECRF_IDLE_TIMEOUT_MINUTES = 1
    log_in(page, live_server.url, monitor_a.username)
    warning = page.get_by_test_id("idle-warning")
    warning.wait_for()
    assert "signed out in one minute" in warning.inner_text()
    with page.expect_response(lambda r: "/accounts/keep-alive/" in r.url) as answer:
        warning.get_by_role("button", name="Stay signed in").click()
    # The server's clock restarted (with a one-minute timeout, the warning is due again at once).
    assert answer.value.status == 200 and answer.value.json() == {"seconds_left": 60}
    assert "/accounts/login/" not in page.url
