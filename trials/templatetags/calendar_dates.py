"""Dates and numbers as the user reads them, for every template (a template builtin, see
TEMPLATES in config/settings.py, so no template loads it).

`date` replaces Django's filter of the same name: the same format characters, in the user's
calendar (`trials.jalali`: Jalali for a Persian page unless the user chose Gregorian), with
Persian digits on a Persian page. `digits` shows a number with the page's digits; identifiers
(study IDs, codes) are left as they are.
"""

from __future__ import annotations

from datetime import date as date_type
from typing import Any

from django import template
from django.utils import formats

from trials import jalali

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def date(value: Any, arg: str | None = None) -> str:
    """Django's `date` filter in the user's calendar and digits."""
    if value in (None, ""):
        return ""
    if not isinstance(value, date_type):
        return ""
    format_string = arg or "DATE_FORMAT"
    if format_string.isupper() and format_string.endswith("_FORMAT"):
        format_string = str(formats.get_format(format_string))
    try:
        return jalali.format_value(value, format_string)
    except (AttributeError, ValueError, OverflowError):
        return ""


@register.filter(is_safe=True)
def digits(value: Any) -> str:
    """A number (or any text of digits) with Persian digits on a Persian page."""
    if value is None:
        return ""
    return jalali.local_digits(str(value))


@register.filter(is_safe=False)
def partial_date(value: Any) -> str:
    """A partial date's text (2024-03-17, 2024-03, 2024) in the user's calendar and digits
    (`trials.jalali.partial_display`)."""
    return jalali.partial_display(str(value)) if value else ""
