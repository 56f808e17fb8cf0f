"""Study IDs: `<site code>-<4-digit sequence>-<check digit>`, e.g. `ISF-0001-8`.

The check digit is Luhn (mod 10) computed over the sequence digits only: it
catches every single-digit typo and most adjacent transpositions in the number
people copy by hand; the site code is checked against the site itself.
Sequences are allocated by `SiteSequence.objects.next_value`, never reused.
"""

from __future__ import annotations

import re

STUDY_ID_RE = re.compile(r"^(?P<site>[A-Z][A-Z0-9]{1,7})-(?P<number>\d{4,})-(?P<check>\d)$")


def luhn_check_digit(digits: str) -> int:
    """The Luhn digit to append to `digits` (doubling every second digit from the right)."""
    if not digits.isdigit():
        raise ValueError("Luhn is defined over decimal digits only")
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def format_study_id(site_code: str, number: int) -> str:
    digits = f"{number:04d}"
    return f"{site_code}-{digits}-{luhn_check_digit(digits)}"


def is_valid_study_id(value: str, site_code: str | None = None) -> bool:
    match = STUDY_ID_RE.match(value or "")
    if match is None or int(match["number"]) == 0:
        return False
    if site_code is not None and match["site"] != site_code:
        return False
    return luhn_check_digit(match["number"]) == int(match["check"])


def format_screening_number(site_code: str, number: int) -> str:
    return f"{site_code}-S{number:03d}"
