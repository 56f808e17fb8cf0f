"""The EMG entry form: CMAP and MUNIX, and an inline formset of per-muscle findings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crfs.base import MISSING_SUFFIX, FormRecordForm
from crfs.emg.models import (
    CMAP_FIELDS,
    FINDING_FIELDS,
    MUNIX_FIELDS,
    MUSCLES_AND_REASON,
    NEEDLE,
    Emg,
    EmgMuscleFinding,
    finding_label,
)
from crfs.emg.scoring import MUSCLES, Muscle

NEEDLE_MISSING = NEEDLE + MISSING_SUFFIX
EXTRA_FINDING_ROWS = 4  # for a second side or a repeated catalogue muscle


class FindingForm(forms.ModelForm):
    """One muscle row; a row without any finding is blank and ignored."""

    class Meta:
        model = EmgMuscleFinding
        fields = ["muscle", "side", *FINDING_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form_field in self.fields.values():
            form_field.required = False
        if self.initial.get("muscle") in MUSCLES:  # pre-listed: the muscle is fixed
            self.fields["muscle"].widget = forms.HiddenInput()

    @property
    def catalogue_muscle(self) -> Muscle | None:
        return MUSCLES.get(self.initial.get("muscle", ""))

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return all(data.get(name) in (None, "") for name in FINDING_FIELDS)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.is_blank():
            return cleaned
        for name in ("muscle", "side", *FINDING_FIELDS):
            if cleaned.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, _("Needed when the muscle has findings."))
        return cleaned

    def validate_unique(self):
        # Duplicates are checked across the rows by the formset (blank rows aside) and,
        # at the end, by the database constraint; no query per row.
        pass


class BaseFindingFormSet(forms.BaseInlineFormSet):
    def clean(self):
        # Not the model formset's validate_unique: it would count blank rows too.
        seen: set[tuple[str, str]] = set()
        for form in self.forms:
            assert isinstance(form, FindingForm)  # the formset's form class
            if not hasattr(form, "cleaned_data") or form.is_blank():
                continue
            key = (form.cleaned_data.get("muscle") or "", form.cleaned_data.get("side") or "")
            if not all(key):
                continue
            if key in seen:
                form.add_error(
                    "side",
                    _("%(muscle)s is already entered on this side: keep one row.")
                    % {"muscle": finding_label(*key)},
                )
            seen.add(key)


FindingFormSet = forms.inlineformset_factory(
    Emg,
    EmgMuscleFinding,
    form=FindingForm,
    formset=BaseFindingFormSet,
    fields=["muscle", "side", *FINDING_FIELDS],
    extra=0,
    can_delete=False,
)


def _initial_rows(record: Emg | None) -> list[dict[str, Any]]:
    """Every catalogue muscle pre-listed (with its saved rows), then a few free rows."""
    saved: dict[str, list[EmgMuscleFinding]] = {}
    if record is not None and record.pk:
        for finding in record.findings.all():
            saved.setdefault(finding.muscle, []).append(finding)
    rows: list[dict[str, Any]] = []
    for code in MUSCLES:
        mine = sorted(saved.pop(code, []), key=lambda f: f.side)
        rows.extend([f.as_row() for f in mine] or [{"muscle": code}])
    for others in saved.values():  # a muscle no longer in the catalogue
        rows.extend(f.as_row() for f in others)
    return rows + [{} for _i in range(EXTRA_FINDING_ROWS)]


class EmgForm(FormRecordForm):
    """CMAP amplitudes, MUNIX and, as an inline formset, the per-muscle findings."""

    class Meta:
        model = Emg
        fields = [*CMAP_FIELDS.values(), "munix_side", *MUNIX_FIELDS.values()]
        widgets = {
            name: forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"})
            for name in CMAP_FIELDS.values()
        } | {
            name: forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"})
            for name in MUNIX_FIELDS.values()
        }

    cmap_names = tuple(CMAP_FIELDS.values())
    munix_names = ("munix_side", *MUNIX_FIELDS.values())
    # The needle examination's only input is its missing-reason select: the service's
    # errors on the muscle count are shown there.
    error_fields = {NEEDLE: NEEDLE_MISSING}

    def __init__(self, data=None, *args, instance: Emg | None = None, **kwargs):
        super().__init__(data, *args, instance=instance, **kwargs)
        initial = _initial_rows(instance)
        self.findings = FindingFormSet(
            data,
            instance=instance if instance is not None else Emg(),
            queryset=EmgMuscleFinding.objects.none(),  # rows are keyed by muscle and side
            initial=initial,
            prefix="finding",
            form_kwargs={"empty_permitted": False},
        )
        self.findings.extra = len(initial)

    def is_valid(self) -> bool:
        record_ok = super().is_valid()
        rows_ok = self.findings.is_valid()
        if record_ok and not rows_ok:
            self.add_error(None, _("Check the muscle rows marked below."))
        if not (record_ok and rows_ok):
            return False
        # The answer is the number of rows, not an input: counted here so an unchanged
        # page compares equal to the stored record.
        count = len(self.child_rows()) or None
        if count and self.cleaned_data["missing_reasons"].get(NEEDLE):
            self.add_error(NEEDLE_MISSING, MUSCLES_AND_REASON)
            return False
        self.cleaned_data[NEEDLE] = count
        return True

    def child_rows(self) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for form in self.findings.forms:
            if form.is_blank():
                continue
            data = form.cleaned_data
            row = {"muscle": data["muscle"], "side": data["side"]}
            row |= {name: data[name] for name in FINDING_FIELDS}
            rows[finding_label(row["muscle"], row["side"])] = row
        return rows
