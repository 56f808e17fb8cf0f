# ruff: noqa: RUF001  (Persian digits in the expected text are meant)
"""The language switch and each user's language and calendar (accounts.preferences): saved,
brought back at the next login, activated on every page without an extra query."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.models import Preference
from tests.factories import PASSWORD, member, register
from trials.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    """A page in Persian activates Persian in this thread (as any Persian request does); the
    next test starts in the default language."""
    yield
    translation.deactivate()


def page_direction(response) -> tuple[str, str]:
    text = response.content.decode()
    head = text[: text.index("<head>")]
    lang = head.split('lang="')[1].split('"')[0]
    direction = head.split('dir="')[1].split('"')[0]
    return lang, direction


def test_the_switch_saves_the_users_language_and_pages_turn_right_to_left(coordinator_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(coordinator_a)
    response = client.post(reverse("accounts-language"), {"language": "fa", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Preference.objects.get(user=coordinator_a).language == "fa"
    home = client.get("/")
    assert page_direction(home) == ("fa", "rtl")
    assert "bootstrap.rtl.min.css" in home.text and "bootstrap.min.css" not in home.text
    # The switch offers the other language, in its own name.
    assert 'id="language-en"' in home.text and 'id="language-fa"' not in home.text


def test_the_saved_language_comes_back_at_the_next_login_whatever_the_browser(coordinator_a):
    Preference.objects.create(user=coordinator_a, language="fa")
    client = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en")
    assert (
        client.post(
            reverse("login"), {"username": coordinator_a.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    client.force_login(coordinator_a)  # the second factor, as the other page stories pass it
    assert page_direction(client.get("/")) == ("fa", "rtl")


def test_without_a_choice_the_browser_decides(coordinator_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="fa-IR,fa")
    client.force_login(coordinator_a)
    assert page_direction(client.get("/")) == ("fa", "rtl")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(coordinator_a)
    assert page_direction(client.get("/")) == ("en", "ltr")


def test_the_switch_before_signing_in_sets_the_cookie_only(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        reverse("accounts-language"), {"language": "fa", "next": "/accounts/login/"}
    )
    assert response.status_code == 302
    assert page_direction(client.get(reverse("login"))) == ("fa", "rtl")
    assert not Preference.objects.exists()


@pytest.mark.parametrize("language", ["xx", "", "fa\x00"])
def test_an_unknown_language_changes_nothing(coordinator_a, language):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(coordinator_a)
    response = client.post(reverse("accounts-language"), {"language": language, "next": "/"})
    assert response.status_code in (302, 400)
    assert not Preference.objects.exists()
    assert page_direction(client.get("/")) == ("en", "ltr")


def test_the_switch_is_open_before_the_second_factor(site_a):
    investigator = member(Role.INVESTIGATOR, site_a, "inv_fa")  # needs a second factor
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.post(reverse("login"), {"username": "inv_fa", "password": PASSWORD})
    response = client.post(reverse("accounts-language"), {"language": "fa", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert Preference.objects.get(user=investigator).language == "fa"


def test_no_page_pays_a_query_for_the_preference(coordinator_a, site_a):
    def count(client: Client) -> int:
        client.get("/")  # the session's first page
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/").status_code == 200
        return len(queries)

    plain = Client(HTTP_ACCEPT_LANGUAGE="en")
    plain.force_login(coordinator_a)
    without = count(plain)
    Preference.objects.create(user=coordinator_a, language="fa", calendar="gregorian")
    chosen = Client(HTTP_ACCEPT_LANGUAGE="en")
    chosen.force_login(coordinator_a)
    assert count(chosen) == without


def participant_page(client, participant):
    url = reverse("participant-detail", args=[participant.site.code, participant.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def test_dates_in_the_users_calendar(coordinator_a, site_a, trial):
    participant = register(coordinator_a, site_a, trial, screened_on=date(2025, 3, 21))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(coordinator_a)
    assert "2025-03-21" in participant_page(client, participant)

    # Persian: Jalali by default, Persian digits (Nowruz 1404).
    client.post(reverse("accounts-language"), {"language": "fa", "next": "/"})
    text = participant_page(client, participant)
    assert "۱۴۰۴/۰۱/۰۱" in text
    assert "2025-03-21" not in text

    # Persian with the Gregorian calendar chosen on the preferences page.
    response = client.post(
        reverse("accounts-preferences"), {"language": "fa", "calendar": "gregorian"}
    )
    assert response.status_code == 302
    text = participant_page(client, participant)
    assert "۲۰۲۵-۰۳-۲۱" in text and "۱۴۰۴/۰۱/۰۱" not in text

    # English with the Jalali calendar.
    client.post(reverse("accounts-preferences"), {"language": "en", "calendar": "jalali"})
    text = participant_page(client, participant)
    assert "1404/01/01" in text and 'lang="en"' in text


def test_the_preferences_page_refuses_an_unknown_calendar(coordinator_a):
    client = Client()
    client.force_login(coordinator_a)
    response = client.post(reverse("accounts-preferences"), {"language": "fa", "calendar": "lunar"})
    assert response.status_code == 400
    assert not Preference.objects.exists()
    assert client.get(reverse("accounts-preferences")).status_code == 200


def test_a_visit_date_typed_in_jalali_is_stored_gregorian(coordinator_a, site_a, trial):
    """Registration through the page with Jalali dates in Persian digits."""
    from participants.models import Participant

    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(coordinator_a)
    url = reverse("participant-register", args=[site_a.code])
    form = client.get(url)
    assert form.status_code == 200
    assert 'data-calendar="jalali"' in form.text
    data = {
        "trial": str(trial.pk),
        "screened_on": "۱۴۰۴/۱۲/۲۹",
        "full_name": "Maryam Test",
        "national_id": "۱۲۳۴۵۶۷۸۹۰",
        "phone": "۰۹۱۲۱۲۳۴۵۶۷",
        "address": "",
        "date_of_birth": "۱۳۵۰/۰۱/۰۱",
        "sex": "female",
        "height_cm": "۱۶۵",
        "weight_kg": "۶۰",
        "ethnicity": "iranian",
        "onset": "۱۴۰۳/۰۵/۱۰",
        "onset_region": "lower_limb",
        "diagnosis_date": "۱۴۰۴/۱۰/۰۱",
        "el_escorial": "probable",
        "family_history": "no",
        "riluzole": "on",
        "form_token": form.context["form"]["form_token"].value(),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    participant = Participant.objects.get()
    assert participant.screened_on == date(2026, 3, 20)
    assert participant.demographics.date_of_birth == date(1971, 3, 21)
    assert participant.als_history.diagnosis_date == date(2025, 12, 22)
    assert participant.als_history.onset_date == date(2024, 7, 31)
    assert participant.als_history.onset_precision == "day"
    # A Jalali month alone is a Jalali month (1 Mordad 1403 = 22 July 2024 to 21 August).
    data |= {"onset": "۱۴۰۳/۰۵", "national_id": "", "full_name": "Other Person"}
    data["form_token"] = client.get(url).context["form"]["form_token"].value()
    assert client.post(url, data).status_code == 302
    other = Participant.objects.get(identity__full_name="Other Person")
    assert other.als_history.onset_date == date(2024, 7, 22)
    assert other.als_history.onset_precision == "jmon"
    # A Jalali month that does not exist is refused with its reason, nothing saved.
    data |= {"onset": "۱۴۰۳/۱۳", "full_name": "Third Person"}
    data["form_token"] = client.get(url).context["form"]["form_token"].value()
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert refused.context["form"].errors["onset"]
    assert Participant.objects.count() == 2


def test_nowruz_at_the_site_while_utc_is_still_in_esfand(
    coordinator_a, site_a, trial, time_machine
):
    """00:30 in Isfahan on 21 March 2025 is 1 Farvardin 1404; UTC is still 20 March (30
    Esfand 1403, a leap year). The registration page's screening date is the site's day."""
    from datetime import UTC, datetime

    time_machine.move_to(datetime(2025, 3, 20, 21, 0, tzinfo=UTC), tick=False)
    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(coordinator_a)
    page = client.get(reverse("participant-register", args=[site_a.code]))
    assert 'value="۱۴۰۴/۰۱/۰۱"' in page.text
    time_machine.move_to(datetime(2025, 3, 20, 20, 0, tzinfo=UTC), tick=False)  # 23:30 there
    page = client.get(reverse("participant-register", args=[site_a.code]))
    assert 'value="۱۴۰۳/۱۲/۳۰"' in page.text
