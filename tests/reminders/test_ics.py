"""The iCalendar writer: RFC 5545 text escaping and 75-octet line folding (UTF-8 safe)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from reminders import ics


def test_text_is_escaped():
    assert ics.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "ویزیت ماه ۶ · " * 10
    folded = ics.fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert folded.replace("\r\n ", "") == line


@given(st.text(min_size=0, max_size=400))
def test_folding_round_trips(text):
    line = "DESCRIPTION:" + ics.escape_text(text)
    folded = ics.fold(line)
    assert folded.replace("\r\n ", "") == line
    assert all(len(part.encode("utf-8")) <= 75 for part in folded.split("\r\n"))


def test_an_all_day_event_ends_the_day_after_its_last_day():
    text = ics.calendar(
        [ics.Event(uid="visit-1@x", start=date(2026, 1, 31), end=date(2026, 3, 28), summary="M06")],
        name="Visits",
        now=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
    )
    assert "DTSTAMP:20260101T120000Z\r\n" in text
    assert "DTSTART;VALUE=DATE:20260131\r\nDTEND;VALUE=DATE:20260329\r\n" in text
    assert text.count("\r\n") == len(text.splitlines())
