"""Helpers of the whole-journey browser test (tests/e2e/test_full_journey.py): signing in with
a real authenticator code typed into the page, walking a form with the keyboard only, and
recording every page the journey shows (a screenshot each, and axe-core's verdict)."""

from __future__ import annotations

import os
import re
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django_otp.oath import TOTP

from tests.e2e.test_accessibility import violations
from tests.factories import PASSWORD


def artefacts_dir() -> Path:
    """Where the screenshots go: $ECRF_SCREENSHOTS/journey (CI keeps that folder), else a
    folder of the temporary directory. Emptied first, so it holds this run's pictures only."""
    root = os.environ.get("ECRF_SCREENSHOTS")
    folder = Path(root) / "journey" if root else Path(tempfile.gettempdir()) / "ecrf-journey"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


class Recorder:
    """Each page the journey shows: a numbered full-page screenshot and axe-core's WCAG 2.1
    AA violations, kept by step so one run lists them all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.steps: list[str] = []
        self.found: dict[str, list[str]] = {}

    def page(self, page, name: str) -> None:
        page.wait_for_load_state("domcontentloaded")
        number = len(self.steps) + 1
        label = f"{number:02d}_{name}"
        self.steps.append(label)
        page.screenshot(path=str(self.folder / f"{label}.png"), full_page=True)
        found = violations(page)
        if found:
            self.found[f"{label} {urlsplit(page.url).path}"] = found


# --- Registration: the same participant in every browser test that registers one.

# The registration form's lists, as a coordinator picks them for the demo participant.
REGISTRATION_CHOICES = {
    "#id_sex": "female",
    "#id_ethnicity": "iranian",
    "#id_onset_region": "lower_limb",
    "#id_el_escorial": "probable",
    "#id_family_history": "no",
}


def typed_registration(full_name: str, today: date) -> dict[str, str]:
    """The registration's text boxes as typed in English (ISO dates): onset 400 days and the
    diagnosis 30 days before `today`, so the participant can be screened today."""
    onset = today - timedelta(days=400)
    return {
        "#id_full_name": full_name,
        "#id_date_of_birth": "1970-01-15",
        "#id_height_cm": "165",
        "#id_weight_kg": "60",
        "#id_onset": f"{onset.year:04d}-{onset.month:02d}",
        "#id_diagnosis_date": (today - timedelta(days=30)).isoformat(),
    }


def register(page, typed: dict[str, str]) -> None:
    """On the open registration page: type `typed` (selector: text as the user types it, in
    any language and calendar), pick the usual choices, submit, and wait for the new
    participant's page."""
    for selector, text in typed.items():
        page.fill(selector, text)
    for selector, value in REGISTRATION_CHOICES.items():
        page.select_option(selector, value)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/participants/\d+/$"))


# --- The second factor: the code the authenticator app shows, typed key by key.


def _step_now(device) -> int:
    return int((time.time() - device.t0) // device.step)


def fresh_code(device) -> str:
    """The code the app shows now, or the next one when this 30-second step's code was
    already spent (a code is accepted once). Read from the device as it is stored."""
    device.refresh_from_db()
    ahead = 0
    if device.last_t is not None and device.last_t >= _step_now(device):
        ahead = device.last_t + 1 - _step_now(device)
    while ahead > device.tolerance:  # at most one step ahead is accepted: wait for it
        time.sleep(1)
        ahead = device.last_t + 1 - _step_now(device)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def type_password_login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").press_sequentially(username)
    page.get_by_label("Password").press_sequentially(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def sign_in(page, base: str, user, device, recorder: Recorder | None = None) -> None:
    """Password, then the authenticator's code typed into the second-factor page."""
    type_password_login(page, base, user.username)
    page.wait_for_url("**/accounts/two-factor/?next=*")
    if recorder is not None:
        recorder.page(page, f"second_factor_{user.username}")
    page.get_by_label("Code from your authenticator app").press_sequentially(fresh_code(device))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)


# --- The keyboard.


def focus_ring_visible(page) -> bool:
    """Whether the focused element draws a focus indicator (an outline or a box shadow)."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return true;
          const s = getComputedStyle(el);
          const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
          return outline || (s.boxShadow && s.boxShadow !== 'none');
        }"""
    )


def tab_to(page, selector: str, *, limit: int = 150, unringed: list[str] | None = None) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user
    reaches it). Focused elements without a visible focus indicator go to `unringed`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? (e.id ? '#' + e.id : e.tagName.toLowerCase() +"
            " (e.name ? '[name=' + e.name + ']' : '')) : ''; }"
        )
        if unringed is not None and not focus_ring_visible(page):
            unringed.append(f"{urlsplit(page.url).path} {here}")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} never took the focus after {limit} Tabs")


def press_persian_digit(page, digit: str) -> None:
    """A key of a Persian keyboard layout, through the browser's own input pipeline (DevTools
    Input.dispatchKeyEvent: a trusted key event, as the operating system would send it).
    Playwright's keyboard knows US keys only."""
    session = page.context.new_cdp_session(page)
    ascii_digit = str(ord(digit) - 0x06F0)
    common = {
        "key": digit,
        "code": f"Digit{ascii_digit}",
        "windowsVirtualKeyCode": 48 + int(ascii_digit),
    }
    session.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": digit, **common})
    session.send("Input.dispatchKeyEvent", {"type": "keyUp", **common})
    session.detach()
