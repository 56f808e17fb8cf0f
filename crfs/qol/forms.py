"""The quality-of-life entry forms: ALSAQ-40 as a grid of items, SEIQoL-DW as five cues."""

from __future__ import annotations

from typing import TypedDict

from django import forms
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecordForm
from crfs.qol.models import ALSAQ40_FIELDS, SEIQOL_CUE_NUMBERS, Alsaq40, Seiqol, cue_fields
from crfs.qol.scoring import ALSAQ40_ITEMS, DOMAIN_LABELS, RESPONSES


class MissingRow(TypedDict):
    short: str
    missing: forms.BoundField


class MissingReasonsBelow(FormRecordForm):
    """For grid pages: the missing-data reasons listed after the answers, not between them."""

    def missing_short_label(self, name: str) -> str:
        return str(self[name].label)

    def missing_rows(self) -> list[MissingRow]:
        return [
            {"short": self.missing_short_label(name), "missing": self.missing_field(name)}
            for name in self._meta.model.required_answers
        ]

    def missing_open(self) -> bool:
        return any(row["missing"].value() or row["missing"].errors for row in self.missing_rows())


class Alsaq40Form(MissingReasonsBelow, FormRecordForm):
    class Meta:
        model = Alsaq40
        fields = list(ALSAQ40_FIELDS.values())
        widgets = {
            name: forms.RadioSelect(attrs={"class": "form-check-input"})
            for name in ALSAQ40_FIELDS.values()
        }

    responses = tuple(RESPONSES.items())

    def missing_short_label(self, name: str) -> str:
        return str(_("Item %(n)s") % {"n": int(name.removeprefix("item_"))})

    def item_rows(self) -> list[dict[str, object]]:
        """One table row per item: number, domain, the bound field and its missing reason."""
        return [
            {
                "item": item,
                "domain": DOMAIN_LABELS[item.domain],
                "field": self[ALSAQ40_FIELDS[item.number]],
                "missing": self.missing_field(ALSAQ40_FIELDS[item.number]),
            }
            for item in ALSAQ40_ITEMS
        ]


class SeiqolForm(MissingReasonsBelow, FormRecordForm):
    class Meta:
        model = Seiqol
        fields = list(Seiqol.required_answers)

    def cue_rows(self) -> list[dict[str, object]]:
        return [
            {"number": number, "fields": [self[name] for name in cue_fields(number)]}
            for number in SEIQOL_CUE_NUMBERS
        ]
