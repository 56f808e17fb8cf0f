"""Forms of the participant pages; business rules stay in participants.services."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from participants import partial_dates
from participants.models import AlsHistory, Demographics, Participant, ParticipantIdentity
from trials.forms import DateInput
from trials.models import Trial

IDENTITY_FIELDS = ("full_name", "national_id", "phone", "address", "email")
DEMOGRAPHICS_FIELDS = ("date_of_birth", "sex", "height_cm", "weight_kg", "ethnicity")
HISTORY_FIELDS = (
    "onset_region",
    "diagnosis_date",
    "el_escorial",
    "family_history",
    "riluzole",
    "edaravone",
)


def _model_fields(model, names, widgets=None) -> dict[str, forms.Field]:
    fields = forms.fields_for_model(model, fields=names, widgets=widgets or {})
    return {name: fields[name] for name in names}


class RegistrationForm(forms.Form):
    trial = forms.ModelChoiceField(
        label=_("Trial"), queryset=Trial.objects.order_by("nct_id"), empty_label=None
    )
    screened_on = forms.DateField(label=_("Screening date"), widget=DateInput())
    onset = forms.CharField(
        label=_("Symptom onset"),
        max_length=10,
        help_text=_("As precise as known: 2024-03-17, 2024-03 or 2024."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_model_fields(ParticipantIdentity, IDENTITY_FIELDS))
        self.fields["address"].widget.attrs["rows"] = 2
        self.fields.update(
            _model_fields(Demographics, DEMOGRAPHICS_FIELDS, {"date_of_birth": DateInput()})
        )
        self.fields.update(
            _model_fields(AlsHistory, HISTORY_FIELDS, {"diagnosis_date": DateInput()})
        )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(_("Screening"), "trial", "screened_on"),
            Fieldset(_("Identity (confidential)"), *IDENTITY_FIELDS),
            Fieldset(_("Demographics"), *DEMOGRAPHICS_FIELDS),
            Fieldset(_("ALS history"), "onset", *HISTORY_FIELDS),
        )

    def clean_onset(self) -> str:
        value = self.cleaned_data["onset"]
        try:
            onset, precision = partial_dates.parse_partial_date(value)
        except ValueError:
            raise forms.ValidationError(_("Enter a date as YYYY-MM-DD, YYYY-MM or YYYY.")) from None
        self.cleaned_data["onset_date"] = onset
        self.cleaned_data["onset_precision"] = precision
        return value

    def section(self, names) -> dict:
        return {name: self.cleaned_data[name] for name in names}

    def als_history_data(self) -> dict:
        return self.section(HISTORY_FIELDS) | {
            "onset_date": self.cleaned_data["onset_date"],
            "onset_precision": self.cleaned_data["onset_precision"],
        }


class EnrolForm(forms.Form):
    effective_date = forms.DateField(label=_("Enrolment date"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class StatusChangeForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    effective_date = forms.DateField(label=_("Effective date"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, participant: Participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (s.value, s.label) for s in participant.manual_next_statuses()
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
