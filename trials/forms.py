from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import Enum, auto
from typing import Any, Final, TypeVar

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from trials import jalali, permissions
from trials.digits import AsciiDigitsWidget
from trials.models import Role
from trials.services import NO_SUCH_USER

T = TypeVar("T")

# A partial date's longest text: a Jalali month's or year's ISO interval, as a Gregorian page
# shows it ("2025-03-21/2026-03-20", participants.partial_dates).
PARTIAL_DATE_MAX_LENGTH: Final = 21


def jalali_partial_help() -> str:
    """A partial-date input's help in the Jalali calendar."""
    return str(_("As precise as known: 1404/07/15, or the Jalali month 1404/07 or year 1404."))


class GrantRoleForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not permissions.may_hold_roles(user):
            raise forms.ValidationError(NO_SUCH_USER)
        self.cleaned_data["user"] = user
        return username


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its fields where they exist. A form
    shows the errors on a name it has no input for on the field its `error_fields` maps
    that name to (e.g. a counted answer's missing-reason select)."""
    if hasattr(error, "error_dict"):
        moved = getattr(form, "error_fields", {})
        for field, messages in error.message_dict.items():
            field = moved.get(field, field)
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class NotRun(Enum):
    """What `run_service` answers when the service did not run or refused: its own type, so
    that a service answering None or False still counts as having run."""

    NOT_RUN = auto()


NOT_RUN: Final = NotRun.NOT_RUN


def run_service(form: forms.BaseForm, action: Callable[[dict[str, Any]], T]) -> T | NotRun:
    """For a bound, valid form, call `action(form.cleaned_data)` and answer what it returns; a
    ValidationError from the service lands on the form's fields. NOT_RUN when the form was
    not submitted, is invalid or the service refused. Other exceptions (e.g. a stale form)
    reach the caller."""
    if not (form.is_bound and form.is_valid()):
        return NOT_RUN
    try:
        return action(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return NOT_RUN


class CrispyFields:
    """Mixin for a form crispy renders inside a <form> its page writes (a page may show
    several forms, each with its own submit button): the helper draws the fields only. A form
    with fieldsets sets `self.helper.layout` after calling super().__init__."""

    helper: FormHelper

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


# Free text typed into a form: long enough for any real reason or address, short enough that
# a page showing it stays readable (a pasted 10,000-character text is a field error).
FREE_TEXT_MAX_LENGTH: Final = 1000
ADDRESS_MAX_LENGTH: Final = 500


def limit_length(field: forms.Field, max_length: int) -> None:
    """Give a form field made from a model TextField a maximum length (validated, with a
    field error, and told to the browser); the column stays unlimited, so no migration."""
    assert isinstance(field, forms.CharField)
    field.max_length = max_length
    field.validators.append(MaxLengthValidator(max_length))
    field.widget.attrs.update(field.widget_attrs(field.widget))


class DateInput(AsciiDigitsWidget, forms.DateInput):
    """Every date input: the browser's date picker (ISO) in the Gregorian calendar; in the
    Jalali one (`trials.jalali`), a text input showing and reading '1405/09/09' (any digits),
    whose typed date reaches the field as ISO, so the field, the service and the database see
    the Gregorian date. What cannot be read is passed on as typed: the field's "Enter a valid
    date." and the form shown again with the text the user typed."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")

    def format_value(self, value):
        if jalali.is_jalali():
            if isinstance(value, str):
                try:
                    value = date.fromisoformat(value)
                except ValueError:
                    return value
            if isinstance(value, date):
                return jalali.input_value(value)
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if jalali.is_jalali():
            widget = context["widget"]
            widget["type"] = "text"
            widget["attrs"] = {
                "inputmode": "numeric",
                "placeholder": jalali.local_digits("1405/01/31"),
                "maxlength": "10",
                "autocomplete": "off",
                "dir": "ltr",
                "data-calendar": "jalali",
                **widget["attrs"],
            }
        return context

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        if isinstance(value, str) and value.strip() and jalali.is_jalali():
            try:
                return jalali.parse_date(value).isoformat()
            except (ValueError, OverflowError):
                return value
        return value


def form_status(*forms: forms.BaseForm | None) -> int:
    """The HTTP status of a page that shows these forms: 400 when a submitted one has errors."""
    return 400 if any(f is not None and f.is_bound and f.errors for f in forms) else 200
