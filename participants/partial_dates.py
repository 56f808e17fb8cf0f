"""Partial dates ("2024-03", "2025"): a date (first day of the period) plus a precision.

Pure functions; the stored date is always the first day of its period, so ordering
and "months since onset" stay computable, and the precision says how much is known.
"""

from __future__ import annotations

import re
from datetime import date

from participants.choices import DatePrecision

_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), DatePrecision.DAY),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), DatePrecision.MONTH),
    (re.compile(r"^(\d{4})$"), DatePrecision.YEAR),
)


def parse_partial_date(text: str) -> tuple[date, DatePrecision]:
    """'2024-03-17' / '2024-03' / '2024' → (date, precision); ValueError if not a real date."""
    value = text.strip()
    for pattern, precision in _PATTERNS:
        match = pattern.match(value)
        if match:
            parts = [int(p) for p in match.groups()] + [1, 1]
            return date(parts[0], parts[1], parts[2]), precision
    raise ValueError(f"not a partial date: {text!r}")


def format_partial_date(value: date | None, precision: str | None) -> str:
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{value.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def is_normalised(value: date, precision: str) -> bool:
    """True if the stored date is the first day of its period, as the convention requires."""
    if precision == DatePrecision.YEAR:
        return value.month == 1 and value.day == 1
    if precision == DatePrecision.MONTH:
        return value.day == 1
    return True


def latest_possible(value: date, precision: str) -> date:
    """The last day the partial date could stand for (for 'not after …' comparisons)."""
    if precision == DatePrecision.YEAR:
        return date(value.year, 12, 31)
    if precision == DatePrecision.MONTH:
        next_month = date(value.year + value.month // 12, value.month % 12 + 1, 1)
        return date.fromordinal(next_month.toordinal() - 1)
    return value
