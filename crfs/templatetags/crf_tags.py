"""How every CRF entry page renders a field, its help text and its errors.

The ids follow Django's own (`<auto_id>_error`, `<auto_id>_helptext`): Django puts
aria-invalid and aria-describedby on an input in error with those ids, so the messages
rendered here are what a screen reader reads with the input. A radio group is a fieldset
whose inputs carry no aria-describedby (Django leaves it to the group): `group_aria` puts
it, with aria-invalid, on the fieldset.
"""

from __future__ import annotations

import datetime

from django import forms, template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crfs.base import MISSING_SUFFIX

register = template.Library()


@register.filter
def instrument_text(text: object, form: object) -> object:
    """An instrument's item or answer text; in the published English on a page of another
    language (no validated wording loaded: `form.wording_missing`), isolated as English
    written left to right, digits included ("1. Speech" is not mirrored to "Speech .1" on a
    right-to-left page)."""
    if not getattr(form, "wording_missing", False):
        return text
    return format_html('<span dir="ltr" lang="en" data-digits="latin">{}</span>', text)


@register.filter
def field(form, name: str):
    return form[name]


@register.filter
def missing_field(form, name: str):
    key = name + MISSING_SUFFIX
    return form[key] if key in form.fields else None


@register.filter
def add_class(bound_field: forms.BoundField, css: str) -> SafeString:
    """The field's input with `css`, marked invalid (Bootstrap's is-invalid) when in error;
    Django adds aria-invalid and aria-describedby to it."""
    if bound_field.errors:
        css = f"{css} is-invalid"
    return bound_field.as_widget(widget=_typed_input(bound_field.field), attrs={"class": css})


def _typed_input(form_field: forms.Field) -> forms.Widget:
    """A number's input as text with a numeric keyboard: a browser's number input drops
    what a Persian keyboard types (its digits and U+066B are submitted as nothing), while
    the entry form reads them (`trials.digits.ascii_number`)."""
    widget = form_field.widget
    # DecimalField and FloatField are IntegerFields in django.forms.
    if not isinstance(form_field, forms.IntegerField) or not isinstance(widget, forms.NumberInput):
        return widget
    decimal = isinstance(form_field, forms.DecimalField | forms.FloatField)
    attrs = {k: v for k, v in widget.attrs.items() if k not in ("step", "min", "max")}
    return forms.TextInput(attrs={"inputmode": "decimal" if decimal else "numeric"} | attrs)


def error_id(bound_field: forms.BoundField) -> str:
    return f"{bound_field.auto_id}_error"


def help_id(bound_field: forms.BoundField) -> str:
    return f"{bound_field.auto_id}_helptext"


def described_by(bound_field: forms.BoundField) -> str:
    """The ids of the help text and the error message shown with the field, as Django
    names them."""
    if not bound_field.auto_id or bound_field.is_hidden:
        return ""
    ids = [help_id(bound_field)] if bound_field.help_text else []
    if bound_field.errors:
        ids.append(error_id(bound_field))
    return " ".join(ids)


@register.filter
def group_aria(bound_field: forms.BoundField | None) -> SafeString:
    """aria-invalid and aria-describedby for the fieldset of a choice list (radios)."""
    # Any other input carries these attributes itself (Django adds them).
    if bound_field is None or not bound_field.use_fieldset:
        return mark_safe("")
    ids = described_by(bound_field)
    invalid = mark_safe(' aria-invalid="true"') if bound_field.errors else ""
    described = format_html(' aria-describedby="{}"', ids) if ids else ""
    return format_html("{}{}", invalid, described)


@register.simple_tag
def field_errors(bound_field: forms.BoundField | None) -> SafeString:
    """The field's error messages under the id its input (or fieldset) points at."""
    if bound_field is None or not bound_field.errors:
        return mark_safe("")
    lines = format_html_join("", "<div>{}</div>", ((message,) for message in bound_field.errors))
    return format_html(
        '<div class="invalid-feedback d-block" id="{}">{}</div>', error_id(bound_field), lines
    )


@register.simple_tag
def field_help(bound_field: forms.BoundField, css: str = "form-text") -> SafeString:
    """The field's help text under the id its input (or fieldset) points at."""
    if not bound_field.help_text:
        return mark_safe("")
    return format_html(
        '<div class="{}" id="{}">{}</div>', css, help_id(bound_field), bound_field.help_text
    )


@register.filter
def shown(value: object) -> object:
    """A stored value as the entry page shows it: dates ISO (Y-m-d), date-times in the
    page's time zone with its name, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return date_format(local, "Y-m-d H:i T")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value
