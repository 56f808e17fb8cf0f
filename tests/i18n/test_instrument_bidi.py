"""English instrument text on a Persian page is isolated as left-to-right English (issue 16:
bidi isolation): without it, "1. Speech" in a right-to-left paragraph reads "Speech .1", and
the page's digits turned the item number Persian."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from crfs.qol.scoring import ALSAQ40_ITEMS
from tests.i18n.test_instrument_wording import ALSFRS_R_FILE

pytestmark = pytest.mark.django_db
ISOLATED = '<span dir="ltr" lang="en" data-digits="latin">'


@pytest.fixture(autouse=True)
def back_to_the_default_language():
    yield
    translation.deactivate()


def page(client, visit, form_code, language):
    p = visit.participant
    response = client.get(
        reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code]),
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    return response.text


def test_english_alsfrs_r_items_and_answers_are_isolated_on_a_persian_page(
    client_for, coordinator_a, m06
):
    html = page(client_for(coordinator_a), m06, "alsfrs_r", "fa")
    assert f'crf-legend">{ISOLATED}1. Speech</span></legend>' in html
    assert f"{ISOLATED}4 · Normal speech processes</span>" in html
    # The project's own words around them stay Persian, with Persian digits.
    assert 'lang="fa"' in html and 'dir="rtl"' in html


def test_a_loaded_persian_wording_and_an_english_page_are_not_isolated(
    client_for, coordinator_a, m06
):
    client = client_for(coordinator_a)
    assert ISOLATED not in page(client, m06, "alsfrs_r", "en")
    call_command("load_instrument_wording", str(ALSFRS_R_FILE), stdout=io.StringIO())
    assert ISOLATED not in page(client, m06, "alsfrs_r", "fa")


def test_alsaq40_english_labels_and_answers_are_isolated_on_a_persian_page(
    client_for, coordinator_a, m06
):
    html = page(client_for(coordinator_a), m06, "alsaq40", "fa")
    assert f"{ISOLATED}{ALSAQ40_ITEMS[0].label}</span>" in html
    assert f"{ISOLATED}Always or cannot do at all</span>" in html
