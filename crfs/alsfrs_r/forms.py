"""The ALSFRS-R entry form: one radio row per item."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from crfs.base import FormRecordForm
from crfs.wording.forms import InstrumentWordingMixin
from crfs.wording.spec import ALSFRS_R


class AlsfrsRForm(InstrumentWordingMixin, FormRecordForm):
    wording_instrument = ALSFRS_R

    class Meta:
        model = AlsfrsR
        fields = list(FIELD_BY_CODE.values())
        widgets = {
            name: forms.RadioSelect(attrs={"class": "form-check-input"})
            for name in FIELD_BY_CODE.values()
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wording = self.load_wording()
        if wording is None:
            return  # the published English of the model's labels and choices
        for code, name in FIELD_BY_CODE.items():
            field = self.fields[name]
            field.label = f"{code}. {wording.item_text(code)}"
            field.choices = [  # type: ignore[attr-defined]
                (value, label if value == "" else f"{value} · {wording.item_anchor(code, value)}")
                for value, label in field.choices  # type: ignore[attr-defined]
            ]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get(FIELD_BY_CODE["5a"]) is not None
            and cleaned.get(FIELD_BY_CODE["5b"]) is not None
        ):
            self.add_error(
                FIELD_BY_CODE["5b"],
                _("Answer 5a (no gastrostomy) or 5b (with gastrostomy), not both."),
            )
        return cleaned
