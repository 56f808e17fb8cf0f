"""The edit checks' rules on made-up series: pure functions over typed values (no database),
each firing on an implausible series and silent once the value is corrected."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crfs.alsfrs_r import checks as alsfrs
from crfs.alsfrs_r.models import FIELD_BY_CODE
from crfs.fvc import checks as fvc
from crfs.vitals import checks as vitals
from participants.partial_dates import PartialDate
from safety import checks as safety
from visits import checks as visits

ITEMS = dict.fromkeys(FIELD_BY_CODE.values(), 4) | {"q5b_cutting_gastrostomy": None}


def assessment(pk, day, total=48, **items):
    return alsfrs.Assessment(pk, pk, f"V{pk}", day, ITEMS | items, total)


def test_an_alsfrs_item_rising_by_two_fires_on_the_later_record():
    series = alsfrs.Series(
        (
            assessment(1, date(2025, 1, 1), q3_swallowing=1),
            assessment(2, date(2025, 7, 1), q3_swallowing=3),
        )
    )
    [finding] = alsfrs.item_rises(series)
    assert (finding.record_pk, finding.field, finding.key) == (2, "q3_swallowing", "q3_swallowing")
    assert "rose from 1 at V1 to 3 at V2" in finding.message
    corrected = alsfrs.Series(
        (series.assessments[0], assessment(2, date(2025, 7, 1), q3_swallowing=2))
    )
    assert alsfrs.item_rises(corrected) == []


def test_alsfrs_items_compare_consecutive_visits_and_not_5a_with_5b():
    series = alsfrs.Series(
        (
            assessment(1, date(2025, 1, 1), q8_walking=1),
            assessment(2, date(2025, 4, 1), q8_walking=2),
            assessment(3, date(2025, 7, 1), q8_walking=3),  # +1 each time: never 2 at once
            assessment(
                4,
                date(2025, 10, 1),
                q8_walking=3,
                q5a_cutting_no_gastrostomy=None,
                q5b_cutting_gastrostomy=4,
            ),
        )
    )
    assert alsfrs.item_rises(series) == []


def test_an_alsfrs_total_rising_by_six_fires():
    series = alsfrs.Series(
        (assessment(1, date(2025, 1, 1), total=36), assessment(2, date(2025, 7, 1), total=42))
    )
    [finding] = alsfrs.total_rises(series)
    assert (finding.record_pk, finding.key) == (2, "total")
    corrected = alsfrs.Series((series.assessments[0], assessment(2, date(2025, 7, 1), total=41)))
    assert alsfrs.total_rises(corrected) == []


def measurement(pk, percent):
    return fvc.Measurement(pk, pk, f"V{pk}", date(2025, pk, 1), percent)


def test_fvc_falling_by_more_than_30_points_fires():
    series = fvc.Series((measurement(1, 82.0), measurement(2, None), measurement(3, 51.0)))
    [finding] = fvc.percent_predicted_falls(series)  # compared with the last known value
    assert (finding.record_pk, finding.field) == (3, "percent_predicted")
    assert (
        fvc.percent_predicted_falls(fvc.Series((measurement(1, 82.0), measurement(3, 52.0)))) == []
    )


def test_a_weight_more_than_ten_percent_from_baseline_fires_both_ways():
    def weights(*kg):
        return vitals.Weights(
            tuple(
                vitals.Weighing(i, i, f"V{i}", Decimal(w), Decimal("60.0"))
                for i, w in enumerate(kg, 1)
            )
        )

    found = vitals.weight_changes(weights("53.9", "60", "66.1"))
    assert [f.record_pk for f in found] == [1, 3]
    assert vitals.weight_changes(weights("54", "66")) == []
    no_baseline = vitals.Weights((vitals.Weighing(1, 1, "BL", Decimal(80), None),))
    assert vitals.weight_changes(no_baseline) == []


def test_a_visit_out_of_its_window_fires():
    def dated(day):
        return visits.Visits(
            (
                visits.DatedVisit(7, "M06", day, date(2026, 1, 1), date(2026, 1, 31)),
                visits.DatedVisit(8, "U1", date(2020, 1, 1), None, None),
            )
        )

    [finding] = visits.out_of_window(dated(date(2026, 2, 1)))
    assert (finding.record_type, finding.record_pk, finding.key) == ("visit", 7, "window")
    assert visits.out_of_window(dated(date(2026, 1, 31))) == []


def span(start, end):
    return safety.Span(
        1,
        1,
        "AE 1",
        PartialDate.parse(start) if start else None,
        PartialDate.parse(end) if end else None,
    )


def test_ae_onset_after_end_fires_only_when_certain_for_partial_dates():
    assert len(safety.ae_onset_after_end(safety.Spans((span("2025-08-05", "2025-08-02"),)))) == 1
    # The same month: the end may be after the onset.
    assert safety.ae_onset_after_end(safety.Spans((span("2025-08-05", "2025-08"),))) == []
    assert safety.ae_onset_after_end(safety.Spans((span("2025-08-02", "2025-08-05"),))) == []
    assert safety.ae_onset_after_end(safety.Spans((span("2025-08-02", None),))) == []


def test_a_conmed_stopped_before_it_started_fires():
    [finding] = safety.conmed_stop_before_start(safety.Spans((span("2025-03", "2025-01"),)))
    assert (finding.record_type, finding.field) == ("conmed", "stop_date")
    assert safety.conmed_stop_before_start(safety.Spans((span("2025-03", "2025-04"),))) == []
