"""Hostile input for the fuzz tests (tests/security/test_fuzz_*.py): values a browser would
never send, and the Hypothesis settings that keep the fuzzing bounded and, in CI, reproducible.

The settings are profiles used as decorators (`FUZZ`), not loaded globally, so the rest of the
suite keeps Hypothesis' defaults. `HYPOTHESIS_PROFILE=fuzz-ci` (or `CI` set) derandomizes;
`FUZZ_EXAMPLES` changes the number of examples per form (default 15).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# Examples per form and per API operation: bounded so the suite stays within CI's time (117
# form cases at 5 took 4.5 min); FUZZ_EXAMPLES=50 for a deeper run by hand.
_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
_COMMON = {
    "max_examples": _EXAMPLES,
    "deadline": None,
    # One seeded study serves every example of a test (function-scoped fixtures on purpose).
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
    "print_blob": True,
}
settings.register_profile("fuzz", **_COMMON)
settings.register_profile("fuzz-ci", derandomize=True, database=None, **_COMMON)

_IN_CI = bool(os.environ.get("CI")) or os.environ.get("HYPOTHESIS_PROFILE") == "fuzz-ci"
FUZZ = settings.get_profile("fuzz-ci" if _IN_CI else "fuzz")

NUL = "\x00"
RLO, LRO, PDF_MARK = "\u202e", "\u202d", "\u202c"

# Numbers a form field must refuse or store exactly: huge, tiny, not numbers at all.
HOSTILE_NUMBERS = [
    "NaN",
    "nan",
    "-NaN",
    "inf",
    "-inf",
    "Infinity",
    "-Infinity",
    "1e308",
    "-1e308",
    "1e309",
    "1e-308",
    "5e-324",
    "-0",
    "-0.0",
    "0",
    "-1",
    "2147483648",
    "-2147483649",
    "9223372036854775808",
    "-9223372036854775809",
    "9" * 400,
    "1" + "0" * 60,
    "0." + "0" * 300 + "1",
    "1.5",
    "1,5",
    "0x10",
    "1_000",
    "1e5",
    " 4 ",
    "+4",
    "۴",  # Persian four
    "۱۲۳٫۵",  # noqa: RUF001 Persian digits with the Persian decimal separator
    "٣",  # Arabic-Indic three
    "4\u200f",  # a right-to-left mark after a digit
]

# Dates and times that do not exist or cannot be stored.
HOSTILE_DATES = [
    "2025-02-30",
    "2025-02-29",
    "2024-02-29",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "99999-01-01",
    "10000-01-01",
    "2025-13-01",
    "2025-00-10",
    "2025-1-1",
    "2025",
    "2025-03",
    "2025-03-",
    "-2025-03-01",
    "1402-01-01",  # a Jalali year typed as Gregorian
    "۱۴۰۳-۰۱-۰۱",  # noqa: RUF001 a Jalali date in Persian digits
    "2025-03-01T25:61",
    "2025-03-01 24:00",
    "2025-03-01T10:00:00+99:00",
    "25:61",
    "24:00",
    "99:99",
    "1e308",
    "now",
    "today",
]

# Text that breaks naive handling: sizes, control and bidirectional characters, markup.
HOSTILE_TEXT = [
    "",
    " ",
    "\t\n\r",
    NUL,
    "a" + NUL + "b",
    "x" * 100_000,
    "ی" * 100_000,
    f"{RLO}gnp.exe{PDF_MARK}",
    f"{LRO}abc{PDF_MARK}{RLO}",
    "سلام دنیا ۱۲۳۴",
    "بیمار ۴۵ ساله، FVC ۸۲٪",
    "\u200c\u200d\u200e\u200f\u2066\u2067\u2068\u2069",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "'; DROP TABLE participants_participant; --",
    "%s%s%s%n",
    "{{ 7*7 }}{% debug %}",
    "../../../../etc/passwd",
    "😀👩‍🔬🏳️‍🌈",
    "e\u0301\u0301\u0301\u0301",
    "\ufeff",
    "\uffff",
    "true",
    "false",
    "on",
    "None",
    "null",
    "[]",
    "{}",
]

HOSTILE = HOSTILE_NUMBERS + HOSTILE_DATES + HOSTILE_TEXT

# Text Hypothesis invents: anything encodable in UTF-8 (no lone surrogates, which no client
# can send), short or long.
_CHARACTERS = st.characters(exclude_categories=("Cs",))
random_text = st.text(_CHARACTERS, max_size=40)


def number_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
    )


def date_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.dates().map(lambda d: d.isoformat()),
        st.tuples(st.integers(-1, 100_000), st.integers(-1, 14), st.integers(-1, 40)).map(
            lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
        ),
    )


hostile_value: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(HOSTILE), random_text, number_text(), date_text()
)


def field_value(valid: list[str]) -> st.SearchStrategy[str | list[str] | None]:
    """What one field of a submitted form carries: a value the page offered, a hostile one, the
    field left out (None), or the field sent twice or more (a QueryDict list)."""
    offered = st.sampled_from(valid) if valid else hostile_value
    single = st.one_of(offered, offered, hostile_value)
    return st.one_of(
        single,
        single,
        st.none(),
        st.lists(st.one_of(offered, hostile_value), min_size=2, max_size=3),
    )
