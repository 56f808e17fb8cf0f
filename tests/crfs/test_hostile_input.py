"""Numbers no instrument can hold (1e308, 29 digits, tiny, NaN) typed into any numeric
input of any entry form: a 400 with a field error, never a 500, and nothing saved."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.models import model_to_dict
from django.urls import reverse

from crfs import registry
from crfs.emg.forms import FindingForm

pytestmark = pytest.mark.django_db

HOSTILE = ("1e308", "9" * 29, "-1e308", "1e-308", "0." + "1" * 40, "NaN", "-Infinity")
FORM_CODES = [spec.code for spec in registry.entry_forms().values()]


def numeric_fields(form: forms.BaseForm) -> list[str]:
    # DecimalField and FloatField are IntegerFields in django.forms.
    return [name for name, field in form.fields.items() if isinstance(field, forms.IntegerField)]


def snapshot(spec, visit):
    records = spec.model.objects.filter(visit=visit)
    return [model_to_dict(record) for record in records]


@pytest.mark.parametrize("form_code", FORM_CODES)
def test_any_numeric_input_with_a_hostile_number_is_a_400_and_saves_nothing(
    client_for, coordinator_a, m06, form_code
):
    spec = registry.get(form_code)
    assert spec is not None
    visit = m06 if form_code in m06.expected_forms() else m06.participant.visits.get(code="SCR")
    client = client_for(coordinator_a)
    url = reverse(
        "crf-entry", args=[visit.participant.site.code, visit.participant.pk, visit.pk, form_code]
    )
    names = numeric_fields(spec.form_class())
    base = {"version": "0"}
    if form_code == "emg":
        names += [f"finding-0-{name}" for name in numeric_fields(FindingForm())]
        base |= {"finding-TOTAL_FORMS": "1", "finding-INITIAL_FORMS": "0"}
        base |= {"finding-0-muscle": "apb", "finding-0-side": "left"}
    assert names, "no numeric input found"
    before = snapshot(spec, visit)
    for name in names:
        for value in HOSTILE:
            response = client.post(url, base | {name: value})
            assert response.status_code == 400, (name, value, response.status_code)
            assert snapshot(spec, visit) == before, (name, value)
