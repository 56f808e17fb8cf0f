"""Forms of the participant pages; business rules stay in participants.services."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from participants import corrections, partial_dates, services
from participants.choices import ContactMethod, ContactOutcome, WithdrawnBy, YesNoUnknown
from participants.models import (
    AlsHistory,
    ConsentVersion,
    Demographics,
    Participant,
    ParticipantIdentity,
)
from trials import jalali, permissions
from trials.digits import DecimalInput, DigitsTextInput, PhoneInput
from trials.forms import (
    ADDRESS_MAX_LENGTH,
    FREE_TEXT_MAX_LENGTH,
    PARTIAL_DATE_MAX_LENGTH,
    CrispyFields,
    DateInput,
    jalali_partial_help,
    limit_length,
)
from trials.models import Site, Trial

if TYPE_CHECKING:
    from django.contrib.auth.models import User

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


class PlausibleDecimalField(forms.DecimalField):
    """A measurement: a value outside its plausible range (its model field's min and max
    validators) is told that range, where the column's digit limits would speak of digits
    before the decimal point."""

    range_validators: tuple[MinValueValidator | MaxValueValidator, ...] = ()

    def run_validators(self, value) -> None:
        if value not in self.empty_values:
            for validator in self.range_validators:
                validator(value)
        super().run_validators(value)


def _model_fields(model, names, widgets=None) -> dict[str, forms.Field]:
    decimals = {
        name: PlausibleDecimalField
        for name in names
        if isinstance(model._meta.get_field(name), models.DecimalField)
    }
    # A measurement is typed as text with a decimal keyboard: a browser's number input
    # submits nothing for what a Persian keyboard types (172.5 in Persian digits).
    widgets = {name: DecimalInput() for name in decimals} | (widgets or {})
    fields = forms.fields_for_model(model, fields=names, widgets=widgets, field_classes=decimals)
    for name in decimals:
        field = fields[name]
        assert isinstance(field, PlausibleDecimalField)
        field.range_validators = tuple(
            v
            for v in model._meta.get_field(name).validators
            if isinstance(v, MinValueValidator | MaxValueValidator)
        )
    return {name: fields[name] for name in names}


def refusal_with_link(refused: services.RegistrationRefused) -> ValidationError:
    """The service's refusal, its national ID message with a link to the earlier record."""
    errors: dict[str, list[str]] = refused.message_dict
    if refused.earlier is not None:
        url = reverse("participant-detail", args=[refused.earlier.site.code, refused.earlier.pk])
        label = _("Open %(number)s") % {"number": refused.earlier.screening_number}
        errors["national_id"] = [
            format_html('{} <a href="{}">{}</a>', message, url, label)
            for message in errors["national_id"]
        ]
    return ValidationError(errors)


class FormTokenMixin(forms.Form):
    """One nonce per rendered form, so that submitting it twice saves once (the service looks
    the token up). Its error goes on the form: a hidden field's own would not be shown. A post
    without one (a script) is saved as it comes."""

    damaged_message = _("This form is damaged: open it again and re-enter it.")
    form_token = forms.CharField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)

    def clean_form_token(self) -> uuid.UUID | None:
        token = self.cleaned_data["form_token"]
        if not token:
            return None
        try:
            return uuid.UUID(token)
        except ValueError:
            self.add_error(None, self.damaged_message)
            return None

    def renew_token(self) -> None:
        """A form shown again after a refusal was not saved, or was saved already with other
        answers: a fresh nonce lets its next submission save."""
        # items(), not {**data}: unpacking a QueryDict gives its lists of values.
        self.data = dict(self.data.items()) | {"form_token": str(uuid.uuid4())}


class RegistrationForm(FormTokenMixin, CrispyFields, forms.Form):
    # The service's errors on the stored onset go on the field it is typed in.
    error_fields = {"onset_date": "onset", "onset_precision": "onset"}

    trial = forms.ModelChoiceField(
        label=_("Trial"), queryset=Trial.objects.order_by("nct_id"), empty_label=None
    )
    screened_on = forms.DateField(label=_("Screening date"), widget=DateInput())
    onset = forms.CharField(
        label=_("Symptom onset"),
        max_length=PARTIAL_DATE_MAX_LENGTH,
        help_text=_("As precise as known: 2024-03-17, 2024-03 or 2024."),
    )

    def __init__(self, *args, site: Site, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.site, self.actor = site, actor
        if jalali.is_jalali():
            self.fields["onset"].help_text = jalali_partial_help()
        self.fields.update(
            _model_fields(
                ParticipantIdentity,
                IDENTITY_FIELDS,
                {"national_id": DigitsTextInput(), "phone": PhoneInput()},
            )
        )
        self.fields["address"].widget.attrs["rows"] = 2
        limit_length(self.fields["address"], ADDRESS_MAX_LENGTH)
        self.fields.update(
            _model_fields(Demographics, DEMOGRAPHICS_FIELDS, {"date_of_birth": DateInput()})
        )
        self.fields.update(
            _model_fields(AlsHistory, HISTORY_FIELDS, {"diagnosis_date": DateInput()})
        )
        self.helper.layout = Layout(
            Fieldset(_("Screening"), "trial", "screened_on"),
            Fieldset(_("Identity (confidential)"), *IDENTITY_FIELDS),
            Fieldset(_("Demographics"), *DEMOGRAPHICS_FIELDS),
            Fieldset(_("ALS history"), "onset", *HISTORY_FIELDS),
            "form_token",
        )

    def clean_onset(self) -> str:
        value = self.cleaned_data["onset"]
        try:
            typed_jalali = jalali.parse_partial(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        try:
            onset, precision = typed_jalali or partial_dates.parse_partial_date(value)
        except ValueError:
            raise forms.ValidationError(_("Enter a date as YYYY-MM-DD, YYYY-MM or YYYY.")) from None
        self.cleaned_data["onset_date"] = onset
        self.cleaned_data["onset_precision"] = precision
        return value

    def clean(self):
        cleaned = self.cleaned_data
        if self.errors:
            # The service will not run, and its checks would only be met in the next round:
            # ask it now what else is wrong, so that every field is answered at once.
            try:
                services.check_registration(
                    actor=self.actor,
                    site=self.site,
                    trial=cleaned.get("trial"),
                    screened_on=cleaned.get("screened_on"),
                    identity=self.section(IDENTITY_FIELDS),
                    demographics=self.section(DEMOGRAPHICS_FIELDS),
                    als_history=self.als_history_data(),
                )
            except services.RegistrationRefused as refused:
                for name, messages in refusal_with_link(refused).message_dict.items():
                    field = self.error_fields.get(name, name)
                    if field not in self.errors:  # its own error says more
                        self.add_error(field if field in self.fields else None, messages)
        return cleaned

    def section(self, names) -> dict:
        """The named values that are valid (all of them once the form is)."""
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}

    def als_history_data(self) -> dict:
        names = (*HISTORY_FIELDS, "onset_date", "onset_precision")
        return self.section(names)


class EnrolForm(CrispyFields, forms.Form):
    effective_date = forms.DateField(label=_("Enrolment date"), widget=DateInput())


def _yes_no(value):
    return {"True": True, "False": False}.get(value, value)


class StatusChangeForm(CrispyFields, forms.Form):
    status = forms.ChoiceField(label=_("New status"))
    effective_date = forms.DateField(
        label=_("Effective date"),
        widget=DateInput(),
        help_text=_("For a death, the date of death."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=FREE_TEXT_MAX_LENGTH,
        required=False,
    )
    withdrawn_by = forms.ChoiceField(
        label=_("Withdrawal decided"),
        choices=[("", "—"), *WithdrawnBy.choices],
        required=False,
    )
    follow_up_allowed = forms.TypedChoiceField(
        label=_("May follow-up data still be collected?"),
        choices=[("", "—"), ("True", _("Yes")), ("False", _("No"))],
        coerce=_yes_no,
        empty_value=None,
        required=False,
    )
    death_cause = forms.CharField(label=_("Cause of death"), max_length=300, required=False)
    death_als_related = forms.ChoiceField(
        label=_("Death related to ALS"),
        choices=[("", "—"), *YesNoUnknown.choices],
        required=False,
    )

    def __init__(self, *args, participant: Participant, **kwargs):
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [(s.value, s.label) for s in participant.manual_next_statuses()]
        self.helper.layout = Layout(
            "status",
            "effective_date",
            "reason",
            Fieldset(_("Withdrawal"), "withdrawn_by", "follow_up_allowed"),
            Fieldset(_("Death"), "death_cause", "death_als_related"),
        )

    def details(self) -> dict:
        names = ("withdrawn_by", "follow_up_allowed", "death_cause", "death_als_related")
        return {name: self.cleaned_data.get(name) for name in names}


class ConsentVersionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ConsentVersion) -> str:
        return _("Version %(version)s (approved %(approved)s, in use from %(start)s)") % {
            "version": obj.version,
            "approved": obj.approval_date.isoformat(),
            "start": obj.active_from.isoformat(),
        }


class UserField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


class ConsentForm(CrispyFields, forms.Form):
    version = ConsentVersionField(
        label=_("Consent form version"), queryset=ConsentVersion.objects.none()
    )
    signed_on = forms.DateField(label=_("Date signed"), widget=DateInput())
    taken_by = UserField(label=_("Consent taken by"), queryset=get_user_model().objects.none())

    def __init__(self, *args, participant: Participant, **kwargs):
        super().__init__(*args, **kwargs)
        version, taken_by = self.fields["version"], self.fields["taken_by"]
        assert isinstance(version, ConsentVersionField) and isinstance(taken_by, UserField)
        version.queryset = ConsentVersion.objects.filter(trial=participant.trial).order_by(
            "-active_from"
        )
        taken_by.queryset = (
            get_user_model()
            .objects.filter(
                memberships__site=participant.site,
                memberships__is_active=True,
                memberships__role__in=permissions.roles_with(permissions.ENROL),
            )
            .distinct()
            .order_by("username")
        )


class ContactAttemptForm(FormTokenMixin, CrispyFields, forms.Form):
    attempted_on = forms.DateField(label=_("Date"), widget=DateInput())
    method = forms.ChoiceField(label=_("Method"), choices=ContactMethod.choices)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactOutcome.choices)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)
    # See services.record_contact_attempt for what the token does.
    damaged_message = _("This form is damaged: open it again and re-enter the attempt.")


class CorrectionForm(CrispyFields, forms.Form):
    """What the correction pages share: the version of the row the page showed (optimistic
    locking) and the reason for change. Subclasses add the corrected fields, prefilled."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason = forms.CharField(
        label=_("Reason for change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=FREE_TEXT_MAX_LENGTH,
        required=False,  # required for a change: clean() says so beside the other errors
        help_text=_("Kept in the audit trail with the old and new values."),
    )

    model: type[Demographics] | type[AlsHistory]
    names: tuple[str, ...]

    def __init__(self, *args, participant: Participant, **kwargs):
        super().__init__(*args, **kwargs)
        self.participant = participant

    def clean(self):
        cleaned = self.cleaned_data
        edited = [name for name in self.changed_data if name not in ("version", "reason")]
        if edited and not (cleaned.get("reason") or "").strip() and "reason" not in self.errors:
            self.add_error("reason", _("Give the reason for the correction."))
        if self.errors:
            # The service will not run: ask it now what else is wrong with the valid values
            # (dates against birth, onset and screening), so every field is answered at once.
            moved = getattr(self, "error_fields", {})
            for name, messages in corrections.check_correction(
                self.participant, self.model, self.changes()
            ).items():
                field = moved.get(name, name)
                if field not in self.errors:  # its own error says more
                    self.add_error(field if field in self.fields else None, messages)
        return cleaned

    def changes(self) -> dict:
        """The corrected values (those that are valid, until the form is)."""
        return {name: self.cleaned_data[name] for name in self.names if name in self.cleaned_data}

    def renew_version(self, version: int) -> None:
        """After a stale refusal the person has been shown the newer values: their next save
        is made against that row."""
        self.data = dict(self.data.items()) | {"version": str(version)}


class DemographicsCorrectionForm(CorrectionForm):
    model = Demographics

    def __init__(self, *args, row: Demographics, may_see_identifiers: bool, **kwargs):
        # The date of birth is an identifier: without the right to see it, it is no field.
        names = DEMOGRAPHICS_FIELDS if may_see_identifiers else DEMOGRAPHICS_FIELDS[1:]
        initial = {name: getattr(row, name) for name in names} | {"version": row.version}
        super().__init__(*args, initial=initial, **kwargs)
        self.names = names
        self.fields.update(_model_fields(Demographics, names, {"date_of_birth": DateInput()}))
        self.helper.layout = Layout(*names, "reason", "version")


class AlsHistoryCorrectionForm(CorrectionForm):
    # The service's errors on the stored onset go on the field it is typed in.
    error_fields = {"onset_date": "onset", "onset_precision": "onset"}

    onset = forms.CharField(
        label=_("Symptom onset"),
        max_length=PARTIAL_DATE_MAX_LENGTH,
        help_text=_("As precise as known: 2024-03-17, 2024-03 or 2024."),
    )

    model = AlsHistory
    names = (*HISTORY_FIELDS, "onset_date", "onset_precision")

    def __init__(self, *args, row: AlsHistory, **kwargs):
        initial = {name: getattr(row, name) for name in HISTORY_FIELDS} | {
            "onset": jalali.partial_input(row.onset_display),
            "version": row.version,
        }
        super().__init__(*args, initial=initial, **kwargs)
        if jalali.is_jalali():
            self.fields["onset"].help_text = jalali_partial_help()
        self.fields.update(
            _model_fields(AlsHistory, HISTORY_FIELDS, {"diagnosis_date": DateInput()})
        )
        self.helper.layout = Layout("onset", *HISTORY_FIELDS, "reason", "version")

    def clean_onset(self) -> str:
        value = self.cleaned_data["onset"]
        try:
            typed_jalali = jalali.parse_partial(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        try:
            onset, precision = typed_jalali or partial_dates.parse_partial_date(value)
        except ValueError:
            raise forms.ValidationError(_("Enter a date as YYYY-MM-DD, YYYY-MM or YYYY.")) from None
        self.cleaned_data["onset_date"] = onset
        self.cleaned_data["onset_precision"] = precision
        return value


class ReturnToScreeningForm(CrispyFields, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=FREE_TEXT_MAX_LENGTH,
        help_text=_("Why the screen failure was wrong, e.g. the corrected onset region."),
    )
