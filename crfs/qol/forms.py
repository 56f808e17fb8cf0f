"""The quality-of-life entry forms: ALSAQ-40 as a grid of items, SEIQoL-DW as five cues."""

from __future__ import annotations

from typing import Any, TypedDict

from django import forms
from django.utils.translation import gettext_lazy as _

from crfs.base import FormRecordForm
from crfs.qol.models import ALSAQ40_FIELDS, SEIQOL_CUE_NUMBERS, Alsaq40, Seiqol, cue_fields
from crfs.qol.scoring import ALSAQ40_ITEMS, DOMAIN_LABELS, RESPONSES
from crfs.wording.forms import InstrumentWordingMixin
from crfs.wording.spec import ALSAQ40, SEIQOL


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


class Alsaq40Form(InstrumentWordingMixin, MissingReasonsBelow, FormRecordForm):
    wording_instrument = ALSAQ40

    class Meta:
        model = Alsaq40
        fields = list(ALSAQ40_FIELDS.values())
        widgets = {
            name: forms.RadioSelect(attrs={"class": "form-check-input"})
            for name in ALSAQ40_FIELDS.values()
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wording = self.load_wording()
        # The answer scale: the validated translation's, else the published English.
        self.responses = tuple(
            (score, wording.anchor(score) if wording else label)
            for score, label in RESPONSES.items()
        )
        if wording is not None:
            for number, name in ALSAQ40_FIELDS.items():
                field = self.fields[name]
                field.label = f"{number}. {wording.item_text(str(number))}"
                field.choices = [  # type: ignore[attr-defined]
                    (value, label if value == "" else f"{value} · {wording.anchor(value)}")
                    for value, label in field.choices  # type: ignore[attr-defined]
                ]

    def missing_short_label(self, name: str) -> str:
        return str(_("Item %(n)s") % {"n": int(name.removeprefix("item_"))})

    def item_rows(self) -> list[dict[str, object]]:
        """One table row per item: number, domain, the bound field and its missing reason."""
        return [
            {
                "item": item,
                # The licensed wording when the trial loaded its validated translation, else
                # the neutral label (the copyrighted English wording is not reproduced).
                "label": self.wording.item_text(str(item.number)) if self.wording else item.label,
                "domain": DOMAIN_LABELS[item.domain],
                "field": self[ALSAQ40_FIELDS[item.number]],
                "missing": self.missing_field(ALSAQ40_FIELDS[item.number]),
            }
            for item in ALSAQ40_ITEMS
        ]


class SeiqolForm(InstrumentWordingMixin, MissingReasonsBelow, FormRecordForm):
    wording_instrument = SEIQOL

    class Meta:
        model = Seiqol
        fields = list(Seiqol.required_answers)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.load_wording()

    def cue_rows(self) -> list[dict[str, object]]:
        return [
            {"number": number, "fields": [self[name] for name in cue_fields(number)]}
            for number in SEIQOL_CUE_NUMBERS
        ]
