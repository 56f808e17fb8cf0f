"""A coordinator types measurements on a Persian keyboard: Persian digits with the Persian
decimal separator U+066B, and the Arabic thousands separator U+066C, are read
as the numbers they are in every kind of numeric CRF field, and the pages offer inputs a
Persian keyboard can type into (a browser's number input drops such text)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from crfs.emg.models import Emg
from crfs.fvc.models import Fvc
from crfs.qol.models import Seiqol
from crfs.vitals.models import Vitals
from tests.crfs.test_crf_aria import Page
from tests.crfs.test_emg_form import form_data
from tests.trials.test_digits_numbers import arabic, persian

pytestmark = pytest.mark.django_db


def url(visit, form_code):
    p = visit.participant
    return reverse("crf-entry", args=[p.site.code, p.pk, visit.pk, form_code])


def saved(client, visit, form_code, data):
    response = client.post(url(visit, form_code), {"version": 0} | data)
    assert response.status_code == 302, response.context["form"].errors
    return response


def test_vital_signs_decimals_and_integers_in_persian(client_for, coordinator_a, m06):
    typed = {
        "weight_kg": persian("72.5"),
        "height_cm": persian("172.5"),
        "temperature_c": arabic("36.8"),  # Arabic-Indic digits
        "heart_rate": persian("72"),
        "systolic_bp": persian("120"),
    }
    saved(client_for(coordinator_a), m06, "vitals", typed)
    record = Vitals.objects.get(visit=m06)
    assert (record.weight_kg, record.height_cm, record.temperature_c) == (
        Decimal("72.5"),
        Decimal("172.5"),
        Decimal("36.8"),
    )
    assert (record.heart_rate, record.systolic_bp) == (72, 120)


def test_fvc_litres_in_persian(client_for, coordinator_a, m06):
    blows = {
        "measure": "FVC",
        "position": "sitting",
        "trial_1_litres": persian("2.58"),
        "trial_1_acceptable": "on",
        "trial_2_litres": persian("2.65"),
        "trial_2_acceptable": "on",
    }
    saved(client_for(coordinator_a), m06, "fvc", blows)
    record = Fvc.objects.get(visit=m06)
    assert (record.trial_1_litres, record.trial_2_litres) == (Decimal("2.58"), Decimal("2.65"))
    assert record.best_litres == Decimal("2.65")


def test_emg_amplitude_and_munix_with_a_thousands_separator(client_for, coordinator_a, m06):
    answers = {
        "cmap_median": persian("5.2"),
        "munix_side": "right",
        "munix_biceps": persian("1,000"),
    }
    saved(client_for(coordinator_a), m06, "emg", form_data(answers, [], version=0))
    record = Emg.objects.get(visit=m06)
    assert (record.cmap_median, record.munix_biceps) == (Decimal("5.2"), Decimal("1000"))


def test_seiqol_level_and_weight_in_persian(client_for, coordinator_a, m06):
    saved(
        client_for(coordinator_a),
        m06,
        "seiqol",
        {"cue_1_name": "family", "cue_1_level": persian("87.5"), "cue_1_weight": persian("30")},
    )
    record = Seiqol.objects.get(visit=m06)
    assert (record.cue_1_level, record.cue_1_weight) == (Decimal("87.5"), Decimal("30"))


def test_a_refused_number_is_shown_as_it_will_be_read(client_for, coordinator_a, m06):
    response = client_for(coordinator_a).post(
        url(m06, "vitals"), {"version": 0, "weight_kg": persian("999.5")}
    )
    assert response.status_code == 400
    page = Page(response.text)
    assert page.by_id["id_weight_kg"]["value"] == "999.5"
    assert not Vitals.objects.filter(visit=m06).exists()


@pytest.mark.parametrize("form_code", ["vitals", "fvc", "emg", "seiqol"])
def test_numeric_inputs_take_what_a_persian_keyboard_types(
    client_for, coordinator_a, m06, form_code
):
    html = client_for(coordinator_a).get(url(m06, form_code)).text
    assert 'type="number"' not in html
    page = Page(html)
    numeric = [a for a in page.by_id.values() if a.get("inputmode") in ("decimal", "numeric")]
    assert numeric and all(a.get("type") == "text" for a in numeric)
    if form_code == "vitals":
        assert page.by_id["id_weight_kg"]["inputmode"] == "decimal"
        assert page.by_id["id_heart_rate"]["inputmode"] == "numeric"
