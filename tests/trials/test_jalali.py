# ruff: noqa: RUF001  (Persian digits in the expected text are meant)
"""The Jalali calendar of the pages (trials.jalali, the `date` filter, the date input): what a
user reads and types, while fields, storage and the schedule keep Gregorian dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation

from trials import jalali
from trials.digits import ascii_digits
from trials.forms import DateInput

# (Jalali, Gregorian) at the edges of months and years: Nowruz, the last day of Esfand in a
# leap year (1403: 30 days) and a common one (1404: 29), the first day of the second half-year.
EDGES = [
    ((1403, 1, 1), date(2024, 3, 20)),  # Nowruz 1403
    ((1403, 12, 30), date(2025, 3, 20)),  # 30 Esfand of the leap year 1403
    ((1404, 1, 1), date(2025, 3, 21)),  # Nowruz 1404
    ((1404, 12, 29), date(2026, 3, 20)),  # last day of the common year 1404
    ((1405, 1, 1), date(2026, 3, 21)),  # Nowruz 1405
    ((1404, 6, 31), date(2025, 9, 22)),  # last 31-day month
    ((1404, 7, 1), date(2025, 9, 23)),
    ((1405, 9, 9), date(2026, 11, 30)),
    ((1399, 12, 30), date(2021, 3, 20)),  # leap 1399
    ((1370, 1, 1), date(1991, 3, 21)),
]


@pytest.mark.parametrize(("jalali_day", "gregorian"), EDGES)
def test_conversion_both_ways_at_month_and_year_edges(jalali_day, gregorian):
    assert jalali.to_jalali(gregorian) == jalali_day
    assert jalali.from_jalali(*jalali_day) == gregorian
    assert jalali.from_jalali(*jalali_day) - timedelta(days=1) != gregorian


def test_day_before_nowruz_is_the_last_day_of_esfand():
    assert jalali.to_jalali(date(2025, 3, 20)) == (1403, 12, 30)
    assert jalali.to_jalali(date(2026, 3, 20)) == (1404, 12, 29)


def test_no_30_esfand_in_a_common_year():
    with pytest.raises(ValueError):
        jalali.from_jalali(1404, 12, 30)
    with pytest.raises(ValueError):
        jalali.parse_date("1404/12/30", jalali.JALALI)


def test_every_day_round_trips_through_what_the_input_shows():
    """Every day from 1990 to 2045 (Jalali 1368 to 1424), shown as the input shows it and
    typed back, in Persian and in Latin digits."""
    day, last = date(1990, 1, 1), date(2045, 12, 31)
    with jalali.override(jalali.JALALI):
        while day <= last:
            with translation.override("fa"):
                shown = jalali.input_value(day)
            assert jalali.parse_date(shown) == day, shown
            assert jalali.parse_date(ascii_digits(shown)) == day, shown
            day += timedelta(days=1)


@pytest.mark.parametrize(
    "typed",
    ["1405/09/09", "۱۴۰۵/۰۹/۰۹", "١٤٠٥/٠٩/٠٩", "1405-9-9", " 1405/9/09 ", "1405.09.09"],
)
def test_typed_jalali_in_any_digits(typed):
    assert jalali.parse_date(typed, jalali.JALALI) == date(2026, 11, 30)


def test_a_gregorian_year_is_read_as_iso_in_the_jalali_calendar():
    assert jalali.parse_date("2026-11-30", jalali.JALALI) == date(2026, 11, 30)
    assert jalali.parse_date("2026-11-30", jalali.GREGORIAN) == date(2026, 11, 30)


@pytest.mark.parametrize("typed", ["", "1405/13/01", "1405/00/10", "1405/01/32", "abc", "14050909"])
def test_not_a_date(typed):
    with pytest.raises(ValueError):
        jalali.parse_date(typed, jalali.JALALI)


def test_calendar_follows_the_language_unless_chosen():
    with translation.override("fa"):
        assert jalali.get_calendar() == jalali.JALALI
        with jalali.override(jalali.GREGORIAN):
            assert jalali.get_calendar() == jalali.GREGORIAN
    with translation.override("en"):
        assert jalali.get_calendar() == jalali.GREGORIAN
        with jalali.override(jalali.JALALI):
            assert jalali.get_calendar() == jalali.JALALI


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_date_filter_in_jalali_with_persian_digits():
    day = date(2026, 11, 30)
    with translation.override("fa"):
        assert render('{{ d|date:"Y-m-d" }}', d=day) == "۱۴۰۵/۰۹/۰۹"
        assert render('{{ d|date:"j F Y" }}', d=day) == "۹ آذر ۱۴۰۵"
        with jalali.override(jalali.GREGORIAN):
            assert render('{{ d|date:"Y-m-d" }}', d=day) == "۲۰۲۶-۱۱-۳۰"
    with translation.override("en"):
        assert render('{{ d|date:"Y-m-d" }}', d=day) == "2026-11-30"
        with jalali.override(jalali.JALALI):
            assert render('{{ d|date:"Y-m-d" }}', d=day) == "1405/09/09"
            assert render('{{ d|date:"j F Y" }}', d=day) == "9 Azar 1405"


@pytest.mark.parametrize(
    ("value", "format_string", "expected"),
    [
        # Every date part (converted to Jalali once), an escape, the weekday names (Django's).
        (date(2025, 3, 20), r"t L y n j \Y\-S D l", "30 True 03 12 30 Y- Thu Thursday"),
        (date(2026, 3, 20), "t L b E N M F", "29 False Esfand Esfand Esfand Esfand Esfand"),
        (
            datetime(2026, 11, 30, 14, 5, tzinfo=UTC),
            "Y-m-d H:i, j F Y",
            "1405/09/09 14:05, 9 Azar 1405",
        ),
        (date(2026, 11, 30), "Y-m", "1405/09"),
    ],
)
def test_every_part_of_a_jalali_format(value, format_string, expected):
    with translation.override("en"), jalali.override(jalali.JALALI):
        assert jalali.format_value(value, format_string) == expected


def test_date_filter_on_date_times_keeps_the_time_and_zone(settings):
    from django.utils import timezone

    moment = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)  # 00:30 on Nowruz 1404 in Tehran
    with timezone.override("Asia/Tehran"), translation.override("fa"):
        assert render('{{ m|date:"Y-m-d H:i" }}', m=moment) == "۱۴۰۴/۰۱/۰۱ ۰۰:۳۰"
    with timezone.override("Asia/Tehran"), translation.override("en"):
        assert render('{{ m|date:"Y-m-d H:i T" }}', m=moment).startswith("2025-03-21 00:30")


def test_date_filter_without_a_date():
    with translation.override("fa"):
        assert render('{{ d|date:"Y-m-d" }}', d=None) == ""
        assert render('{{ d|date:"Y-m-d"|default:"—" }}', d=None) == "—"
        assert render('{{ d|date:"Y-m-d" }}', d="not a date") == ""


def test_digits_filter():
    with translation.override("fa"):
        assert render("{{ n|digits }}", n=1234) == "۱۲۳۴"
    with translation.override("en"):
        assert render("{{ n|digits }}", n=1234) == "1234"


class VisitDateForm(forms.Form):
    day = forms.DateField(widget=DateInput())


def test_date_input_reads_jalali_and_gives_the_field_gregorian():
    with translation.override("fa"):
        form = VisitDateForm({"day": "۱۴۰۴/۱۲/۲۹"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["day"] == date(2026, 3, 20)


def test_date_input_refuses_a_day_jalali_lacks_and_shows_what_was_typed():
    with translation.override("fa"):
        form = VisitDateForm({"day": "1404/12/30"})
        assert not form.is_valid()
        assert form.errors["day"]
        html = str(form["day"])
        assert 'value="1404/12/30"' in html
        assert 'type="text"' in html


def test_date_input_shows_a_stored_date_in_jalali():
    with translation.override("fa"):
        html = str(VisitDateForm(initial={"day": date(2025, 3, 21)})["day"])
    assert 'value="۱۴۰۴/۰۱/۰۱"' in html
    assert 'type="text"' in html and 'data-calendar="jalali"' in html and 'dir="ltr"' in html


def test_date_input_is_the_browsers_date_picker_in_the_gregorian_calendar():
    with translation.override("en"):
        html = str(VisitDateForm(initial={"day": date(2025, 3, 21)})["day"])
        form = VisitDateForm({"day": "2025-03-21"})
        assert form.is_valid()
    assert 'type="date"' in html and 'value="2025-03-21"' in html
    assert form.cleaned_data["day"] == date(2025, 3, 21)


def test_a_form_shown_again_keeps_the_jalali_date():
    with translation.override("fa"):
        form = VisitDateForm({"day": "1405/01/01"})
        assert form.is_valid()
        assert 'value="۱۴۰۵/۰۱/۰۱"' in str(form["day"])


@pytest.mark.django_db
def test_a_refusal_names_its_date_in_the_users_calendar(coordinator_a, site_a, trial):
    """Validation messages that name a date use the calendar the user typed in."""
    from tests.factories import register
    from visits.services import visit_date_errors

    participant = register(coordinator_a, site_a, trial, screened_on=date(2025, 3, 21))
    visit = participant.visits.get(code="SCR")
    with translation.override("en"):
        assert "2025-03-21" in visit_date_errors(visit, date(2025, 3, 1))
    with translation.override("fa"):
        message = visit_date_errors(visit, date(2025, 3, 1))
        assert "۱۴۰۴/۰۱/۰۱" in message and "2025" not in message
    with translation.override("en"), jalali.override(jalali.JALALI):
        assert "1404/01/01" in visit_date_errors(visit, date(2025, 3, 1))


def test_partial_dates_typed_and_shown_in_jalali():
    with translation.override("fa"):
        assert jalali.parse_partial("۱۴۰۳/۱۲/۳۰") == (date(2025, 3, 20), "day")
        assert jalali.parse_partial("2024-03") is None  # Gregorian ISO: the caller reads it
        # A Jalali month or year is a Jalali period (participants.partial_dates).
        assert jalali.parse_partial("1403/12") == (date(2025, 2, 19), "jmon")
        assert jalali.parse_partial("۱۴۰۳") == (date(2024, 3, 20), "jyear")
        for no_such_day_or_month in ("1404/12/30", "1404/13"):
            with pytest.raises(ValueError):
                jalali.parse_partial(no_such_day_or_month)
        assert jalali.partial_display("2025-03-20") == "۱۴۰۳/۱۲/۳۰"
        assert jalali.partial_display("2025-03").startswith("۲۰۲۵-۰۳ (")
        assert jalali.partial_input("2025-03-20") == "۱۴۰۳/۱۲/۳۰"
        assert jalali.partial_input("2025-03") == "2025-03"
    with translation.override("en"):
        assert jalali.parse_partial("1403/12/30") is None
        assert jalali.partial_display("2025-03") == "2025-03"
        assert jalali.partial_display("2025-03-20") == "2025-03-20"
        assert render("{{ t|partial_date }}", t="2025-03-20") == "2025-03-20"


def test_partial_date_field_reads_a_whole_jalali_date_and_a_jalali_month():
    from participants.partial_dates import PartialDate
    from safety.forms import PartialDateField

    field = PartialDateField(required=False)
    with translation.override("fa"):
        assert field.clean("۱۴۰۴/۰۱/۰۱") == PartialDate(date(2025, 3, 21), "day")
        assert field.clean("2025-03") == PartialDate(date(2025, 3, 1), "month")
        assert field.clean("1404/01") == PartialDate(date(2025, 3, 21), "jmon")
        with pytest.raises(forms.ValidationError):
            field.clean("1404/13")
        assert field.prepare_value(PartialDate(date(2025, 3, 21), "day")) == "۱۴۰۴/۰۱/۰۱"
    with translation.override("en"):
        with pytest.raises(forms.ValidationError):
            field.clean("1404/01/01")
        assert field.prepare_value(PartialDate(date(2025, 3, 21), "day")) == "2025-03-21"
