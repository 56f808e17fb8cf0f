"""The entry forms of the safety records. Adverse events and medications are entry forms of
crfs (`FormRecordForm`: optional answers for partial saves, a missing-reason select beside
each required answer, version, completion, reason for change) plus the visit they are
reported at and partial dates typed as text."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crfs.base import MISSING_SUFFIX, FormRecordForm
from participants.models import Participant
from participants.partial_dates import PartialDate
from safety import coding
from safety.choices import CRITERIA_FIELDS, Relatedness
from safety.models import AdverseEvent, ConcomitantMedication
from trials import jalali
from trials.digits import ascii_digits
from trials.forms import (
    FREE_TEXT_MAX_LENGTH,
    PARTIAL_DATE_MAX_LENGTH,
    CrispyFields,
    jalali_partial_help,
    limit_length,
)
from trials.protocols.definitions import UNSCHEDULED_CODE
from visits.models import Visit


class PartialDateField(forms.CharField):
    """'2025-03-17', '2025-03' or '2025' → PartialDate (None when empty); in the Jalali
    calendar '1404/07/15', '1404/07' or '1404' too (a Jalali month or year is a precision of
    its own, participants.partial_dates), and a Jalali period's ISO interval as a Gregorian
    page shows it."""

    default_error_messages = {
        "invalid": _("Enter a date as YYYY-MM-DD, YYYY-MM or YYYY."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text", _("YYYY-MM-DD; YYYY-MM or YYYY when only the month or year is known.")
        )
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("placeholder", "YYYY-MM-DD")
        self.widget.attrs.setdefault("inputmode", "numeric")
        self.widget.attrs.setdefault("maxlength", str(PARTIAL_DATE_MAX_LENGTH))

    def to_python(self, value: Any) -> PartialDate | None:  # type: ignore[override]
        text = ascii_digits(str(value or "")).strip()
        if not text:
            return None
        if len(text) > PARTIAL_DATE_MAX_LENGTH:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            typed_jalali = jalali.parse_partial(text)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from error
        if typed_jalali is not None:
            return PartialDate.of(*typed_jalali)
        try:
            return PartialDate.parse(text)
        except ValueError as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error

    def prepare_value(self, value: Any) -> Any:
        text = str(value) if isinstance(value, PartialDate) else value
        return jalali.partial_input(text) if isinstance(text, str) else text


class VisitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Visit) -> str:
        return f"{obj.display_code} · {obj.actual_date.isoformat() if obj.actual_date else ''}"


def visits_with(participant: Participant, form_code: str):
    """The participant's dated visits at which the protocol asks for `form_code`."""
    protocol = participant.trial.protocol
    codes = [v.code for v in protocol.visits if form_code in v.forms]
    if form_code in protocol.unscheduled_forms:
        codes.append(UNSCHEDULED_CODE)
    return Visit.objects.filter(
        participant=participant, code__in=codes, actual_date__isnull=False
    ).order_by("position", "sequence")


YES_NO = [("true", _("Yes")), ("false", _("No"))]


class YesNoRadio(forms.RadioSelect):
    """Yes / No radios for a stored boolean: the stored True / False is shown as the
    "true" / "false" choice (a plain RadioSelect compares "True" with "true", shows neither
    ticked, and the next save would then drop a recorded seriousness)."""

    def format_value(self, value):
        value = {True: "true", False: "false"}.get(value, value)
        return super().format_value(value)


class _LogForm(FormRecordForm):
    """What the adverse-event and medication forms share: the visit and partial dates."""

    form_code: str
    partial_dates: tuple[str, ...] = ()

    visit = VisitChoiceField(label=_("Reported at visit"), queryset=Visit.objects.none())
    # One nonce per rendered "new" form: submitted twice (a double click, a retry), it saves
    # one record and raises one SAE alert (the service finds the first by its token).
    form_token = forms.CharField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)

    def __init__(
        self,
        data=None,
        files=None,
        *,
        participant: Participant,
        instance=None,
        visit: Visit | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, files, instance=instance, **kwargs)
        # What the page built it for: a stale save shows the same form again.
        self.participant = participant
        self.instance_given = instance
        for field in self.fields.values():
            if isinstance(field.widget, forms.RadioSelect):
                # Bootstrap's radio style (and its 44 px rows on a phone), as the CRFs have.
                field.widget.attrs["class"] = "form-check-input"
            if isinstance(field, PartialDateField) and jalali.is_jalali():
                field.help_text = jalali_partial_help()
                field.widget.attrs["placeholder"] = jalali.local_digits("1404/07/15")
        visit_field = self.fields["visit"]
        assert isinstance(visit_field, VisitChoiceField)
        visit_field.queryset = visits_with(participant, self.form_code)
        if instance is not None and instance.pk:
            self.initial["visit"] = instance.visit_id
            for name in self.partial_dates:
                value = getattr(instance, name)
                precision = getattr(instance, name.replace("_date", "_precision"))
                self.initial[name] = str(PartialDate.of(value, precision)) if value else ""
        elif visit is not None:
            self.initial["visit"] = visit.pk

    def entry_fields(self) -> list[forms.BoundField]:
        """The fields a page lays out one per row (missing reasons go beside their answer)."""
        shared = ("version", "mark_complete", "reason_for_change", "form_token")
        return [
            self[name]
            for name in self.fields
            if not name.endswith(MISSING_SUFFIX) and name not in shared
        ]

    def clean_form_token(self) -> uuid.UUID | None:
        token = self.cleaned_data["form_token"]
        if not token:
            return None
        try:
            return uuid.UUID(token)
        except ValueError:
            self.add_error(None, _("This form is damaged: open it again and re-enter it."))
            return None

    def answers(self) -> dict[str, Any]:
        """The model's answers from the cleaned form (partial dates split in two)."""
        cleaned = self.cleaned_data
        model = self._meta.model
        result: dict[str, Any] = {}
        for name in model.answer_fields():
            if name in self.partial_dates:
                value: PartialDate | None = cleaned.get(name)
                result[name] = value.first_day if value else None
                result[name.replace("_date", "_precision")] = value.precision if value else ""
            elif not name.endswith("_precision"):
                result[name] = cleaned.get(name)
        return result


class AdverseEventForm(_LogForm):
    form_code = "adverse_events"
    partial_dates = ("onset_date", "end_date")

    term_code = forms.ChoiceField(
        label=_("Coded term"),
        choices=[("", "—"), *coding.term_choices()],
        help_text=_(
            "The procedure's expected events first, then CTCAE v5.0 terms by organ class; "
            "type to search the list. 'Other' when none fits: the verbatim term says what."
        ),
    )
    onset_date = PartialDateField(label=_("Onset"))
    end_date = PartialDateField(label=_("End"), help_text=_("Leave empty while ongoing."))
    serious = forms.NullBooleanField(
        label=_("Serious"),
        widget=YesNoRadio(choices=YES_NO),
        help_text=_("Serious (ICH E2A): tick every criterion it meets."),
    )

    class Meta:
        model = AdverseEvent
        fields = [
            "verbatim_term",
            "term_code",
            "ongoing",
            "grade",
            "serious",
            *CRITERIA_FIELDS,
            "related_procedure",
            "related_cells",
            "action",
            "outcome",
            "treatment",
        ]
        widgets = {
            "grade": forms.RadioSelect,
            "related_procedure": forms.RadioSelect,
            "related_cells": forms.RadioSelect,
            "treatment": forms.Textarea(attrs={"rows": 2}),
        }

    field_order = [
        "visit",
        "verbatim_term",
        "term_code",
        "onset_date",
        "end_date",
        "ongoing",
        "grade",
        "serious",
        *CRITERIA_FIELDS,
        "related_procedure",
        "related_cells",
        "action",
        "outcome",
        "treatment",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["term_code"].required = False
        limit_length(self.fields["treatment"], FREE_TEXT_MAX_LENGTH)


class ConcomitantMedicationForm(_LogForm):
    form_code = "conmeds"
    partial_dates = ("start_date", "stop_date")

    start_date = PartialDateField(label=_("Start"))
    stop_date = PartialDateField(label=_("Stop"), help_text=_("Leave empty while ongoing."))

    class Meta:
        model = ConcomitantMedication
        fields = [
            "medication",
            "other_name",
            "indication",
            "dose",
            "dose_unit",
            "route",
            "frequency",
            "ongoing",
        ]
        widgets = {"medication": forms.RadioSelect}

    field_order = [
        "visit",
        "medication",
        "other_name",
        "indication",
        "dose",
        "dose_unit",
        "route",
        "frequency",
        "start_date",
        "stop_date",
        "ongoing",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visit"].label = _("Recorded at visit")
        self.fields["other_name"].help_text = _("Only for a medication not in the list.")


class AssessmentForm(CrispyFields, forms.Form):
    serious = forms.TypedChoiceField(
        label=_("Serious"),
        choices=YES_NO,
        coerce=lambda value: value == "true",
        widget=YesNoRadio,
    )
    related_procedure = forms.ChoiceField(
        label=_("Related to the procedure"), choices=Relatedness.choices, widget=forms.RadioSelect
    )
    related_cells = forms.ChoiceField(
        label=_("Related to the cells"), choices=Relatedness.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    password = forms.CharField(
        label=_("Your password (signature)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        required=False,
        help_text=_("Entering your password signs the assessment in your name."),
    )


class VisitReviewForm(CrispyFields, forms.Form):
    no_adverse_events = forms.BooleanField(
        label=_("No adverse events since the last visit"), required=False
    )
    no_conmed_changes = forms.BooleanField(
        label=_("No change in concomitant medication since the last visit"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required to change an answer already saved."),
    )

    def __init__(self, *args: Any, asks: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "adverse_events" not in asks:
            del self.fields["no_adverse_events"]
        if "conmeds" not in asks:
            del self.fields["no_conmed_changes"]

    def answers(self) -> dict[str, bool | None]:
        """A ticked box is the answer; an unticked one is no answer (not 'there were some')."""
        return {
            name: True if self.cleaned_data.get(name) else None
            for name in ("no_adverse_events", "no_conmed_changes")
            if name in self.fields
        }
