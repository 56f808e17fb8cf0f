"""The eligibility checklist's entry form: radio buttons for the recorded answers."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from crfs.base import FormRecordForm
from crfs.eligibility.models import Eligibility
from trials.forms import DateInput


class EligibilityForm(FormRecordForm):
    class Meta:
        model = Eligibility
        fields = list(Eligibility.required_answers + Eligibility.optional_answers)
        widgets = {
            "polysomnography_date": DateInput(),
            **{
                name: forms.RadioSelect(attrs={"class": "form-check-input"})
                for name in Eligibility.required_answers + Eligibility.optional_answers
                if name != "polysomnography_date"
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.TypedChoiceField) and field.choices:
                # The getter answers the normalised list of a model field's choices (the
                # stubs type it as any accepted input).
                choices = cast(list[tuple[Any, Any]], field.choices)
                # Radio buttons: no "---------" choice (leaving it unanswered is the blank).
                field.choices = [(v, label) for v, label in choices if v != ""]
