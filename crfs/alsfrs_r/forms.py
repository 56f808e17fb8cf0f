"""The ALSFRS-R entry form: one radio row per item."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from crfs.base import FormRecordForm


class AlsfrsRForm(FormRecordForm):
    class Meta:
        model = AlsfrsR
        fields = list(FIELD_BY_CODE.values())
        widgets = {
            name: forms.RadioSelect(attrs={"class": "form-check-input"})
            for name in FIELD_BY_CODE.values()
        }

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
