"""The site's language comes before the browser's (issue 16: "default from the site, then the
browser"): pages of a user who chose no language, and what is sent to them."""

from __future__ import annotations

import html

import pytest
from django.contrib.admin.sites import site as admin_site
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.preferences import save_preference
from trials import i18n, permissions
from trials.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    yield
    translation.deactivate()


def page_language(response) -> str:
    text = response.content.decode()
    head = text[: text.index("<head>")]
    return head.split('lang="')[1].split('"')[0]


def persian_site(site: Site) -> Site:
    site.language = "fa"
    site.save(update_fields=["language"])
    return site


def test_a_persian_site_comes_before_an_english_browser(coordinator_a, site_a):
    persian_site(site_a)
    client = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en")
    client.force_login(coordinator_a)
    assert page_language(client.get("/")) == "fa"  # a page of no site: the user's sites'
    site_page = client.get(reverse("participant-list", args=[site_a.code]))
    assert page_language(site_page) == "fa"


def test_an_english_site_comes_before_a_persian_browser(coordinator_a, site_a):
    site_a.language = "en"
    site_a.save(update_fields=["language"])
    client = Client(HTTP_ACCEPT_LANGUAGE="fa-IR,fa")
    client.force_login(coordinator_a)
    assert page_language(client.get("/")) == "en"


def test_a_site_without_a_language_leaves_the_browser_to_decide(coordinator_a, site_a):
    assert site_a.language == ""
    client = Client(HTTP_ACCEPT_LANGUAGE="fa-IR,fa")
    client.force_login(coordinator_a)
    assert page_language(client.get("/")) == "fa"


def test_the_users_choice_and_the_switch_come_before_the_site(coordinator_a, site_a):
    persian_site(site_a)
    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(coordinator_a)
    client.cookies["django_language"] = "en"  # the switch, before signing in
    assert page_language(client.get("/")) == "en"
    save_preference(coordinator_a, language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(coordinator_a)  # the saved choice comes into the session at login
    assert page_language(client.get("/")) == "en"


def test_the_login_page_knows_no_site_and_follows_the_browser(site_a):
    persian_site(site_a)
    assert page_language(Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("login"))) == "en"


def test_messages_follow_the_site_after_the_users_choice(coordinator_a, site_a, settings):
    assert i18n.preferred_language(coordinator_a) == settings.LANGUAGE_CODE == "en"
    persian_site(site_a)
    permissions.forget(coordinator_a)  # the sites are read once per request (cached)
    assert i18n.preferred_language(coordinator_a) == "fa"  # the user's one site
    assert i18n.preferred_language(None, site_a) == "fa"  # a contact without an account
    assert i18n.language_for(coordinator_a, "en") == "en"  # the language of reminders first
    save_preference(coordinator_a, language="en")
    assert i18n.preferred_language(coordinator_a, site_a) == "en"


def test_the_site_language_is_edited_where_sites_are_administered():
    admin = admin_site._registry[Site]
    assert "language" in admin.get_fields(None)
    assert "language" in admin.list_display


def test_the_reminder_language_help_says_what_empty_means(coordinator_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(coordinator_a)
    page = html.unescape(client.get(reverse("reminder-preferences")).content.decode())
    assert "if none, your site's language" in page
    assert "the site's default language" not in page
