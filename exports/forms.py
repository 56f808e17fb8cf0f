from __future__ import annotations

from typing import Any

from django import forms as djforms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from exports import selectors
from exports.options import DATE_MODES, FORMATS, LAYOUTS, ExportOptions
from exports.review_tables import review_choices
from participants.choices import ParticipantStatus
from trials import permissions
from trials.models import Site

FORMAT_LABELS = {
    "csv": _("CSV (UTF-8)"),
    "xlsx": _("Excel (.xlsx, one sheet per form + codebook)"),
    "sav": _("SPSS (.sav)"),
    "dta": _("Stata (.dta)"),
    "xpt": _("SAS transport (.xpt)"),
    "odm": _("CDISC ODM 1.3.2 XML"),
}
LAYOUT_LABELS = {
    "long": _("Long: one row per participant x visit x form"),
    "wide": _("Wide: one row per participant, variables suffixed by visit"),
}
DATE_MODE_LABELS = {
    "shift": _("Shift each participant's dates by a random number of days"),
    "days": _("Replace dates by days from transplantation"),
}


class SiteChoiceField(djforms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.code} · {obj.name}"


class ExportForm(djforms.Form):
    forms = djforms.MultipleChoiceField(label=_("Forms"), widget=djforms.CheckboxSelectMultiple)
    visits = djforms.MultipleChoiceField(label=_("Visits"), widget=djforms.CheckboxSelectMultiple)
    sites = SiteChoiceField(label=_("Sites"), queryset=None, widget=djforms.CheckboxSelectMultiple)
    statuses = djforms.MultipleChoiceField(
        label=_("Participants' statuses"),
        choices=ParticipantStatus.choices,
        widget=djforms.CheckboxSelectMultiple,
    )
    fmt = djforms.ChoiceField(
        label=_("Format"), choices=[(f, FORMAT_LABELS[f]) for f in FORMATS], initial="csv"
    )
    layout = djforms.ChoiceField(
        label=_("Layout"),
        choices=[(v, LAYOUT_LABELS[v]) for v in LAYOUTS],
        initial="long",
        widget=djforms.RadioSelect,
    )
    deidentify = djforms.BooleanField(
        label=_("De-identify"),
        required=False,
        initial=True,
        help_text=_("Leaves out identity, free text, screening numbers and user names."),
    )
    pseudonymise = djforms.BooleanField(
        label=_("Replace study IDs by pseudonyms"), required=False, initial=True
    )
    date_mode = djforms.ChoiceField(
        label=_("Dates when de-identified"),
        choices=[(v, DATE_MODE_LABELS[v]) for v in DATE_MODES],
        initial="shift",
        widget=djforms.RadioSelect,
    )
    identifiers = djforms.BooleanField(
        label=_(
            "Include the participants' identity (names, national IDs, contact details, "
            "dates of birth)"
        ),
        required=False,
        help_text=_("Identified exports only; needs the right to see identifiers."),
    )
    derived = djforms.BooleanField(label=_("Derived scores"), required=False, initial=True)
    audit = djforms.BooleanField(
        label=_("Audit log"),
        required=False,
        help_text=_(
            "Every change to the selected participants' records, field by field: old and new "
            "value, who, when and why (de-identified: dates and values only)."
        ),
    )
    review = djforms.MultipleChoiceField(
        label=_("Review tables"),
        required=False,
        widget=djforms.CheckboxSelectMultiple,
        help_text=_(
            "Queries, source data verification, e-signatures and locks, one file each (not "
            "in ODM; de-identified: no message text, reasons or user names)."
        ),
    )
    proact = djforms.BooleanField(
        label=_("PRO-ACT variable names for ALSFRS-R and FVC"), required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        sites, forms, visits = self.fields["sites"], self.fields["forms"], self.fields["visits"]
        assert isinstance(sites, SiteChoiceField)
        assert isinstance(forms, djforms.MultipleChoiceField)
        assert isinstance(visits, djforms.MultipleChoiceField)
        sites.queryset = selectors.export_sites(user)
        forms.choices = selectors.form_choices()
        visits.choices = selectors.visit_choices()
        review = self.fields["review"]
        assert isinstance(review, djforms.MultipleChoiceField)
        review.choices = review_choices()
        if not self.is_bound:
            self.initial.setdefault("forms", [c for c, _l in forms.choices])
            self.initial.setdefault("visits", [c for c, _l in visits.choices])
            self.initial.setdefault("statuses", [c for c, _l in ParticipantStatus.choices])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        sites = cleaned.get("sites") or []
        if cleaned.get("deidentify"):
            cleaned["identifiers"] = False
        elif cleaned.get("identifiers") and not all(
            permissions.can(self.user, permissions.VIEW_IDENTIFIERS, site) for site in sites
        ):
            self.add_error(
                "identifiers",
                _("You may not see the identity of participants at every chosen site."),
            )
        return cleaned

    def options(self) -> ExportOptions:
        data = self.cleaned_data
        return ExportOptions(
            forms=tuple(data["forms"]),
            visits=tuple(data["visits"]),
            site_ids=tuple(site.pk for site in data["sites"]),
            statuses=tuple(data["statuses"]),
            fmt=data["fmt"],
            layout=data["layout"],
            deidentify=data["deidentify"],
            pseudonymise=data["deidentify"] and data["pseudonymise"],
            date_mode=data["date_mode"],
            derived=data["derived"],
            audit=data["audit"],
            proact=data["proact"],
            review=tuple(data.get("review") or ()),
            identifiers=not data["deidentify"] and data["identifiers"],
        )
