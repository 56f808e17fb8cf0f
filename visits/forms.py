"""Forms of the visit pages; business rules stay in visits.services / visits.transplantation."""

from __future__ import annotations

from datetime import datetime

from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from trials.forms import FREE_TEXT_MAX_LENGTH, CrispyFields, DateInput, limit_length
from trials.models import Site
from visits.models import Transplantation
from visits.transplantation import FIELDS


class TransplantationForm(CrispyFields, forms.ModelForm):
    performed_date = forms.DateField(label=_("Date of the procedure"), widget=DateInput())
    performed_time = forms.TimeField(
        label=_("Time (site time)"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    reason = forms.CharField(
        label=_("Reason for the correction"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=FREE_TEXT_MAX_LENGTH,
        required=False,
    )

    class Meta:
        model = Transplantation
        fields = FIELDS
        widgets = {"immediate_complications": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, site: Site, correcting: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site
        limit_length(self.fields["immediate_complications"], FREE_TEXT_MAX_LENGTH)
        if correcting:
            self.fields["reason"].required = True
            local = self.instance.performed_at.astimezone(site.zone)
            self.initial.setdefault("performed_date", local.date())
            self.initial.setdefault("performed_time", local.time().replace(second=0))
        else:
            del self.fields["reason"]
        self.helper.layout = Layout(
            Fieldset(
                _("Procedure"), "performed_date", "performed_time", "route", "injection_level"
            ),
            Fieldset(_("Cells"), "cell_dose", "viability_percent", "volume_ml", "cell_lot"),
            Fieldset(
                _("Technique"), "needle_type", "needle_gauge", "operator", "immediate_complications"
            ),
            *([Fieldset(_("Correction"), "reason")] if correcting else []),
        )

    def performed_at(self) -> datetime:
        """The entered site-local date and time as an aware datetime."""
        naive = datetime.combine(
            self.cleaned_data["performed_date"], self.cleaned_data["performed_time"]
        )
        return naive.replace(tzinfo=self.site.zone)

    def data_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in FIELDS}


class VisitDateForm(CrispyFields, forms.Form):
    actual_date = forms.DateField(label=_("Visit date"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason (when changing a recorded date)"),
        max_length=FREE_TEXT_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MissedVisitForm(CrispyFields, forms.Form):
    missed_reason = forms.CharField(
        label=_("Reason the visit was missed"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=FREE_TEXT_MAX_LENGTH,
    )


class UnscheduledVisitForm(CrispyFields, forms.Form):
    actual_date = forms.DateField(label=_("Visit date"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=FREE_TEXT_MAX_LENGTH,
    )
