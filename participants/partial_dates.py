"""Partial dates ("2024-03", "2025"): a date (first day of the period) plus a precision, and
the arithmetic on them and on months.

A Jalali (Solar Hijri) month or year is a period of its own: Jalali 1404 runs from
2025-03-21 to 2026-03-20, so no Gregorian month or year holds it. Its precisions are
"jmon" and "jyear"; the stored date is still the (Gregorian) first day of the period, and
its text is the ISO 8601 interval of the period ("2025-03-21/2026-03-20"), which reads
back to the same partial date. Imputation (ΔFS, the trajectory) takes the middle of the
period as for the Gregorian ones: the 15th of the Jalali month, and 28 Shahrivar for a
Jalali year (its first day + 182 days, as 1 July is for a Gregorian year).

The stored date is always the first day of its period, so ordering and "months since onset"
stay computable, and the precision says how much is known. The one place for this: the
participants' onset fields, ΔFS (crfs.alsfrs_r.scoring), the "onset under 3 years" criterion
(crfs.eligibility.scoring) and the demo data all use it. No Django import: the scoring modules
import this without Django settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, cast, get_args

import jdatetime

# The codes of participants.choices.DatePrecision, which is a Django TextChoices (an ORM import).
Precision = Literal["day", "month", "year", "jmon", "jyear"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
JALALI_PRECISIONS: tuple[str, ...] = ("jmon", "jyear")

# The middle of a Jalali year: its first day + 182 days (28 Shahrivar), as 1 July is the
# first day of a common Gregorian year + 181 days.
JALALI_YEAR_MIDDLE_DAYS = 182

DAYS_PER_MONTH = 30.4375  # the mean Gregorian month, 365.25 / 12

_PATTERNS: tuple[tuple[re.Pattern[str], Precision], ...] = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "day"),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
)
_INTERVAL = re.compile(r"^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")


def _jalali_first_day(value: date, precision: str) -> date:
    j = jdatetime.date.fromgregorian(date=value)
    return jdatetime.date(j.year, j.month if precision == "jmon" else 1, 1).togregorian()


def _jalali_next_first_day(first: date, precision: str) -> date:
    j = jdatetime.date.fromgregorian(date=first)
    if precision == "jyear":
        return jdatetime.date(j.year + 1, 1, 1).togregorian()
    following = (j.year + 1, 1) if j.month == 12 else (j.year, j.month + 1)
    return jdatetime.date(following[0], following[1], 1).togregorian()


def jalali_period(year: int, month: int | None = None) -> PartialDate:
    """The partial date of a Jalali year (month None) or month; ValueError if there is none."""
    try:
        first = jdatetime.date(year, month or 1, 1).togregorian()
    except (ValueError, OverflowError) as error:
        raise ValueError(f"no Jalali period {year}/{month}") from error
    return PartialDate(first, "jyear" if month is None else "jmon")


@dataclass(frozen=True)
class PartialDate:
    """A date known to the day, month or year; finer parts of ``value`` are ignored."""

    value: date
    precision: Precision

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown date precision {self.precision!r}")

    @classmethod
    def of(cls, value: date, precision: str | None) -> PartialDate:
        """From the stored fields, read as the pages and rules always read them: no precision,
        or one the field's choices do not know (their validation reports it), is the day."""
        return cls(value, cast(Precision, precision if precision in PRECISIONS else "day"))

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """'2024-03-17' / '2024-03' / '2024', or the ISO interval of a Jalali month or year
        ('2025-03-21/2026-03-20'); ValueError if it is not a real date (or the interval is
        no Jalali month or year)."""
        value = text.strip()
        interval = _INTERVAL.match(value)
        if interval:
            first, last = (date.fromisoformat(part) for part in interval.groups())
            for precision in JALALI_PRECISIONS:
                period = cls(first, cast(Precision, precision))
                try:
                    bounds = period.period()
                except OverflowError as error:  # beyond the Jalali calendar's years
                    raise ValueError(f"not a Jalali month or year: {text!r}") from error
                if bounds == (first, last):
                    return period
            raise ValueError(f"not a Jalali month or year: {text!r}")
        for pattern, precision in _PATTERNS:
            match = pattern.match(value)
            if match:
                parts = [int(p) for p in match.groups()] + [1, 1]
                return cls(date(parts[0], parts[1], parts[2]), precision)
        raise ValueError(f"not a partial date: {text!r}")

    @property
    def is_jalali(self) -> bool:
        return self.precision in JALALI_PRECISIONS

    @property
    def first_day(self) -> date:
        if self.is_jalali:
            return _jalali_first_day(self.value, self.precision)
        if self.precision == "year":
            return date(self.value.year, 1, 1)
        if self.precision == "month":
            return self.value.replace(day=1)
        return self.value

    @property
    def last_day(self) -> date:
        if self.is_jalali:
            first = self.first_day
            return _jalali_next_first_day(first, self.precision) - timedelta(days=1)
        if self.precision == "year":
            return date(self.value.year, 12, 31)
        if self.precision == "month":
            following = date(self.value.year + self.value.month // 12, self.value.month % 12 + 1, 1)
            return following - timedelta(days=1)
        return self.value

    def period(self) -> tuple[date, date]:
        """The first and the last day the partial date stands for."""
        return self.first_day, self.last_day

    def imputed(self) -> date:
        """Mid-period imputation: 15th of the month, or 1 July of the year; for a Jalali
        month its 15th, for a Jalali year 28 Shahrivar (first day + 182 days)."""
        if self.precision == "jmon":
            return self.first_day + timedelta(days=14)
        if self.precision == "jyear":
            return self.first_day + timedelta(days=JALALI_YEAR_MIDDLE_DAYS)
        if self.precision == "month":
            return self.value.replace(day=15)
        if self.precision == "year":
            return date(self.value.year, 7, 1)
        return self.value

    def jalali_text(self) -> str:
        """A Jalali period as it is typed: '1404' or '1404/07' (ASCII digits)."""
        j = jdatetime.date.fromgregorian(date=self.first_day)
        return f"{j.year:04d}" if self.precision == "jyear" else f"{j.year:04d}/{j.month:02d}"

    def __str__(self) -> str:
        if self.is_jalali:
            first, last = self.period()
            return f"{first.isoformat()}/{last.isoformat()}"
        if self.precision == "year":
            return f"{self.value.year:04d}"
        if self.precision == "month":
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()


def parse_partial_date(text: str) -> tuple[date, Precision]:
    """'2024-03-17' / '2024-03' / '2024' (or a Jalali period's ISO interval) → (date,
    precision); ValueError if not a real date."""
    parsed = PartialDate.parse(text)
    return parsed.value, parsed.precision


def format_partial_date(value: date | None, precision: str | None) -> str:
    return "" if value is None else str(PartialDate.of(value, precision))


def is_normalised(value: date, precision: str) -> bool:
    """True if the stored date is the first day of its period, as the convention requires."""
    return value == PartialDate.of(value, precision).first_day


def plus_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def months_between(start: date, end: date) -> float:
    """Months from `start` to `end` in mean Gregorian months (negative if `end` is earlier)."""
    return (end - start).days / DAYS_PER_MONTH
