"""Partial dates ("2024-03", "2025"): a date (first day of the period) plus a precision, and
the arithmetic on them and on months.

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

# The codes of participants.choices.DatePrecision, which is a Django TextChoices (an ORM import).
Precision = Literal["day", "month", "year"]
PRECISIONS: tuple[str, ...] = get_args(Precision)

DAYS_PER_MONTH = 30.4375  # the mean Gregorian month, 365.25 / 12

_PATTERNS: tuple[tuple[re.Pattern[str], Precision], ...] = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "day"),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
)


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
        """'2024-03-17' / '2024-03' / '2024'; ValueError if it is not a real date."""
        value = text.strip()
        for pattern, precision in _PATTERNS:
            match = pattern.match(value)
            if match:
                parts = [int(p) for p in match.groups()] + [1, 1]
                return cls(date(parts[0], parts[1], parts[2]), precision)
        raise ValueError(f"not a partial date: {text!r}")

    @property
    def first_day(self) -> date:
        if self.precision == "year":
            return date(self.value.year, 1, 1)
        if self.precision == "month":
            return self.value.replace(day=1)
        return self.value

    @property
    def last_day(self) -> date:
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
        """Mid-period imputation: 15th of the month, or 1 July of the year."""
        if self.precision == "month":
            return self.value.replace(day=15)
        if self.precision == "year":
            return date(self.value.year, 7, 1)
        return self.value

    def __str__(self) -> str:
        if self.precision == "year":
            return f"{self.value.year:04d}"
        if self.precision == "month":
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()


def parse_partial_date(text: str) -> tuple[date, Precision]:
    """'2024-03-17' / '2024-03' / '2024' → (date, precision); ValueError if not a real date."""
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
