"""The FVC entry form: measure and position, then one row per manoeuvre."""

from __future__ import annotations

from django import forms

from crfs.base import FormRecordForm
from crfs.fvc.models import (
    ACCEPTABLE_FIELDS,
    LITRES_FIELDS,
    MANOEUVRES,
    Fvc,
    manoeuvre_errors,
)
from crfs.fvc.scoring import MAX_VOLUME_L, MIN_VOLUME_L


class LitresInput(forms.NumberInput):
    def __init__(self, attrs=None):
        super().__init__(
            {
                "step": "0.01",
                "min": str(MIN_VOLUME_L),
                "max": str(MAX_VOLUME_L),
                "inputmode": "decimal",
                "autocomplete": "off",
                **(attrs or {}),
            }
        )


class FvcForm(FormRecordForm):
    """Measure and position, then a table of 8 rows (litres + acceptable), row by row."""

    class Meta:
        model = Fvc
        fields = [
            "measure",
            "position",
            *(f for pair in zip(LITRES_FIELDS, ACCEPTABLE_FIELDS, strict=True) for f in pair),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in LITRES_FIELDS:
            # Plain decimals: the plausibility check below gives the reason for any refusal
            # (too many decimals, too small, too large), as the pure code words it.
            self.fields[name] = forms.DecimalField(
                label=self.fields[name].label, required=False, widget=LitresInput
            )
        for name in ACCEPTABLE_FIELDS:
            self.fields[name].required = False

    def setting_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        """(answer, missing reason) of measure and position."""
        return [(self[name], self.missing_field(name)) for name in ("measure", "position")]

    def manoeuvre_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        """(number, litres field, acceptable field) per row, for the entry table."""
        return [
            (n, self[litres], self[acceptable])
            for n, litres, acceptable in zip(
                MANOEUVRES, LITRES_FIELDS, ACCEPTABLE_FIELDS, strict=True
            )
        ]

    def clean(self):
        cleaned = super().clean()
        values = [None if name in self.errors else cleaned.get(name) for name in LITRES_FIELDS]
        filled = [
            value is not None or name in self.errors
            for name, value in zip(LITRES_FIELDS, values, strict=True)
        ]
        for name, message in manoeuvre_errors(values, filled).items():
            self.add_error(name, message)
        for litres, acceptable in zip(LITRES_FIELDS, ACCEPTABLE_FIELDS, strict=True):
            if cleaned.get(litres) is None and litres not in self.errors:
                cleaned[acceptable] = True
        return cleaned
