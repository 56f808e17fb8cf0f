"""The calendar a user reads and types dates in: Gregorian or Jalali (Solar Hijri).

Only what a person sees or types changes: storage, exports, the API, ODM and the visit
schedule's month arithmetic stay ISO 8601 Gregorian. The conversion is jdatetime's.

The calendar of the current request is a context variable, like Django's active language:
`accounts.middleware.PreferenceMiddleware` activates the user's choice; when nothing was
activated it follows the language (Jalali for Persian). The `date` template filter
(`trials.templatetags.calendar`, a template builtin), the date input (`trials.forms.DateInput`)
and the messages that name a date (`display_date`) read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from typing import Final, Literal

import jdatetime
from django.utils import dateformat
from django.utils.translation import get_language, gettext

from trials.digits import ascii_digits

Calendar = Literal["gregorian", "jalali"]
GREGORIAN: Final = "gregorian"
JALALI: Final = "jalali"
CALENDARS: Final = (GREGORIAN, JALALI)

_active: ContextVar[str | None] = ContextVar("ecrf_calendar", default=None)

# A typed year from this one on is a Gregorian year (Jalali 1700 is 2321 AD), so a Jalali user
# may still paste an ISO date; below it, a Jalali year (Gregorian 1700 and earlier are no
# clinical date either).
FIRST_GREGORIAN_YEAR: Final = 1700

_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_DATE = re.compile(r"^\s*(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*$")
_YEAR_MONTH = re.compile(r"^\s*(\d{1,4})\s*[-/.]\s*(\d{1,2})\s*$")
_YEAR = re.compile(r"^\s*(\d{1,4})\s*$")


def default_calendar(language: str | None = None) -> str:
    """The calendar of a language when the user chose none: Jalali for Persian."""
    language = language or get_language() or ""
    return JALALI if language.split("-")[0] == "fa" else GREGORIAN


def activate(calendar: str | None) -> None:
    """Use `calendar` for this request or task (None: follow the language)."""
    _active.set(calendar if calendar in CALENDARS else None)


def deactivate() -> None:
    _active.set(None)


def get_calendar() -> str:
    return _active.get() or default_calendar()


def is_jalali() -> bool:
    return get_calendar() == JALALI


@contextmanager
def override(calendar: str | None) -> Iterator[None]:
    token = _active.set(calendar if calendar in CALENDARS else None)
    try:
        yield
    finally:
        _active.reset(token)


# ---- digits ---------------------------------------------------------------------------


def persian_digits(text: str) -> str:
    return text.translate(_TO_PERSIAN)


def uses_persian_digits() -> bool:
    return (get_language() or "").split("-")[0] == "fa"


def local_digits(text: str) -> str:
    """`text` with Persian digits on a Persian page, as it is on any other."""
    return persian_digits(text) if uses_persian_digits() else text


# ---- conversion -----------------------------------------------------------------------


def to_jalali(day: date) -> tuple[int, int, int]:
    j = jdatetime.date.fromgregorian(date=day)
    return j.year, j.month, j.day


def from_jalali(year: int, month: int, day: int) -> date:
    """The Gregorian date of a Jalali one; ValueError if there is no such Jalali day."""
    return jdatetime.date(year, month, day).togregorian()


def jalali_month_name(month: int, language: str | None = None) -> str:
    language = (language or get_language() or "").split("-")[0]
    names = jdatetime.date.j_months_fa if language == "fa" else jdatetime.date.j_months_en
    return names[month - 1]


# ---- display --------------------------------------------------------------------------

# The Django format characters that name part of the date (the others, times, zones and
# weekdays, are the same in both calendars).
_DATE_CHARS: Final = frozenset("dDjlNFmMnbyYEtLS")


def _jalali_part(char: str, j: jdatetime.date) -> str:
    """The part `char` (of _DATE_CHARS but the weekday's D and l) of the Jalali date `j`."""
    match char:
        case "Y":
            return f"{j.year:04d}"
        case "y":
            return f"{j.year % 100:02d}"
        case "m":
            return f"{j.month:02d}"
        case "n":
            return str(j.month)
        case "d":
            return f"{j.day:02d}"
        case "j":
            return str(j.day)
        case "F" | "N" | "M" | "b" | "E":
            return jalali_month_name(j.month)
        case "t":
            leap_esfand = j.month == 12 and j.isleap()
            return str(jdatetime.j_days_in_month[j.month - 1] + (1 if leap_esfand else 0))
        case "L":
            return "True" if j.isleap() else "False"
    return ""  # S (the English ordinal suffix)


def format_value(value: date | datetime, format_string: str) -> str:
    """`value` in Django's date format `format_string`, in the active calendar (a Jalali
    'Y-m-d' reads 'Y/m/d', as Persian dates are written), with Persian digits on a Persian
    page."""
    if not is_jalali():
        return local_digits(dateformat.format(value, format_string))
    day = value.date() if isinstance(value, datetime) else value
    format_string = format_string.replace("Y-m-d", "Y/m/d").replace("Y-m", "Y/m")
    if format_string == "Y/m/d":  # the usual one, as the loop below writes it
        j = jdatetime.date.fromgregorian(date=day)
        return local_digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")
    # Each converted once, when a part first needs it (not once per format character).
    jalali_day: jdatetime.date | None = None
    formatter: dateformat.DateFormat | None = None
    out: list[str] = []
    escaped = False
    for char in format_string:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _DATE_CHARS and char not in "Dl":
            if jalali_day is None:
                jalali_day = jdatetime.date.fromgregorian(date=day)
            out.append(_jalali_part(char, jalali_day))
        elif char.isalpha():
            if formatter is None:
                formatter = dateformat.DateFormat(value)
            out.append(formatter.format(char))
        else:
            out.append(char)
    return local_digits("".join(out))


def display_date(value: date | None) -> str:
    """A date as the user reads it: ISO in the Gregorian calendar, Y/m/d in the Jalali one."""
    if value is None:
        return ""
    return format_value(value, "Y-m-d")


def input_value(value: date) -> str:
    """A date as a Jalali date input shows it (typing back what it shows gives the date)."""
    year, month, day = to_jalali(value)
    return local_digits(f"{year:04d}/{month:02d}/{day:02d}")


# ---- input ----------------------------------------------------------------------------


def parse_date(text: str, calendar: str | None = None) -> date:
    """A typed date: in the Jalali calendar '1405/09/09' (or '-' / '.' between the parts, in
    any digits); a year from FIRST_GREGORIAN_YEAR on is read as Gregorian ISO. In the
    Gregorian calendar, ISO 'YYYY-MM-DD' (what a browser's date input sends). ValueError when
    it is no real day."""
    calendar = calendar or get_calendar()
    match = _DATE.match(ascii_digits(text))
    if not match:
        raise ValueError(f"not a date: {text!r}")
    year, month, day = (int(part) for part in match.groups())
    if calendar == JALALI and year < FIRST_GREGORIAN_YEAR:
        return from_jalali(year, month, day)
    return date(year, month, day)


def looks_jalali(text: str) -> bool:
    """Whether `text` is a date, year-month or year whose year is a Jalali one."""
    value = ascii_digits(text)
    for pattern in (_DATE, _YEAR_MONTH, _YEAR):
        match = pattern.match(value)
        if match:
            return int(match.group(1)) < FIRST_GREGORIAN_YEAR
    return False


# ---- partial dates (a date and its precision: day, month, year, Jalali month or year) -------

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_INTERVAL = re.compile(r"^\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2}$")


def parse_partial(text: str) -> tuple[date, str] | None:
    """A partial date typed in the Jalali calendar: a whole Jalali date is the Gregorian day
    (precision "day"), a Jalali month '1404/07' or year '1404' is that Jalali period
    (precisions "jmon" and "jyear", the Gregorian first day of the period: see
    participants.partial_dates). None when the text is not a Jalali date (the caller reads
    it as ISO: 2024-03-17, 2024-03, 2024); ValueError for a day or month that does not
    exist."""
    if not is_jalali() or not looks_jalali(text):
        return None
    value = ascii_digits(text)
    try:
        if _DATE.match(value):
            return parse_date(text, JALALI), "day"
        if match := _YEAR_MONTH.match(value):
            year, month = (int(part) for part in match.groups())
            if not 1 <= month <= 12:
                raise ValueError(f"no Jalali month {month}")
            return from_jalali(year, month, 1), "jmon"
        return from_jalali(int(value.strip()), 1, 1), "jyear"
    except (ValueError, OverflowError) as error:
        raise ValueError(
            gettext("There is no such Jalali date, month or year: %(typed)s")
            % {"typed": text.strip()}
        ) from error


def _next_period_first_day(year: int, month: int | None) -> date:
    if month is None:
        return from_jalali(year + 1, 1, 1)
    return from_jalali(year + 1, 1, 1) if month == 12 else from_jalali(year, month + 1, 1)


def _jalali_period_of(text: str) -> str | None:
    """'1404' or '1404/07' (ASCII digits) for the ISO interval of a Jalali year or month,
    None for any other interval (participants.partial_dates writes these intervals)."""
    first_text, last_text = text.split("/")
    try:
        first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
        year, month, day = to_jalali(first)
        if day != 1:
            return None
        if last == _next_period_first_day(year, month) - timedelta(days=1):
            return f"{year:04d}/{month:02d}"
        if month == 1 and last == _next_period_first_day(year, None) - timedelta(days=1):
            return f"{year:04d}"
    except (ValueError, OverflowError):
        return None
    return None


def partial_display(text: str) -> str:
    """A stored partial date's text (ISO: 2024-03-17, 2024-03, 2024, or a Jalali month's or
    year's interval 2025-03-21/2026-03-20) as the user reads it: a whole date in the user's
    calendar; a Gregorian month or year stays Gregorian, said so in the Jalali calendar; a
    Jalali month or year is Jalali, said so (with its Gregorian days) in the Gregorian
    calendar."""
    if not text:
        return text
    if _ISO_DAY.match(text):
        return display_date(date.fromisoformat(text))
    if _ISO_INTERVAL.match(text) and (period := _jalali_period_of(text)) is not None:
        if is_jalali():
            return local_digits(period)
        first, last = text.split("/")
        return local_digits(
            gettext("%(period)s (Jalali; %(first)s to %(last)s)")
            % {"period": period, "first": first, "last": last}
        )
    if is_jalali():
        return local_digits(f"{text} ({gettext('Gregorian')})")
    return local_digits(text)


def partial_input(text: str) -> str:
    """A stored partial date's text as a partial-date input shows it (a whole date, or a
    Jalali month or year, in Jalali when the user's calendar is; typing back what it shows
    gives the same partial date)."""
    if not isinstance(text, str):
        return text
    if is_jalali() and _ISO_DAY.match(text):
        return input_value(date.fromisoformat(text))
    if is_jalali() and _ISO_INTERVAL.match(text) and (period := _jalali_period_of(text)):
        return local_digits(period)
    return text
