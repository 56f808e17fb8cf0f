"""An investigator opens a transplanted participant's page and reads the course of the
disease: the ALSFRS-R total against the line of its pre-treatment progression (checked
here against a computation of its own from the raw dates and scores), the domains, FVC and
weight, with the stages, the adverse events, the medication changes and the missed and
out-of-window visits on the time axis."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from crfs.vitals.models import Vitals
from reports.trajectory import participant_trajectory
from reports.trajectory_selectors import trajectory_data
from safety.services import save_adverse_event, save_conmed
from tests.conftest import TX_DAY
from tests.factories import (
    ALSFRS_NORMAL,
    SCREENING_FVC,
    enrol,
    investigator_of,
    register,
    save_crf,
)
from trials.models import Role
from visits.services import add_unscheduled_visit, mark_visit_missed, record_visit_date

# Baseline: upper and lower limbs involved (King's 2), 44 points.
BASELINE = ALSFRS_NORMAL | {
    "q4_handwriting": 3,
    "q5a_cutting_no_gastrostomy": 3,
    "q8_walking": 3,
    "q9_climbing_stairs": 3,
}
# Month 6: bulbar too (King's 3), 40 points.
MONTH_6 = BASELINE | {
    "q1_speech": 3,
    "q3_swallowing": 3,
    "q7_turning_in_bed": 3,
    "q6_dressing_hygiene": 3,
}
VITALS = {
    "height_cm": Decimal("165.0"),
    "systolic_bp": 120,
    "diastolic_bp": 80,
    "heart_rate": 70,
    "respiratory_rate": 14,
    "temperature_c": Decimal("36.8"),
    "spo2_percent": 97,
}
LATER = datetime(2026, 9, 15, 8, 0, tzinfo=UTC)  # after month 12's window closed
SVG = "{http://www.w3.org/2000/svg}"


def months(start: date, end: date) -> float:
    return (end - start).days / 30.4375


def ae(actor, visit, **answers):
    return save_adverse_event(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        event_id=None,
        answers={
            "verbatim_term": "Fever and neck stiffness, Mr Example's words",
            "term_code": "meningitis",
            "onset_date": date(2026, 2, 20),
            "onset_precision": "day",
            "end_date": None,
            "ongoing": True,
            "grade": 3,
            "serious": True,
            "sae_hospitalisation": True,
            "related_procedure": "possible",
            "related_cells": "unlikely",
            "action": "hospitalisation",
            "outcome": "recovering",
            "treatment": "",
        }
        | answers,
        expected_version=0,
        complete=True,
    )


def conmed(actor, visit, **answers):
    return save_conmed(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        conmed_id=None,
        answers={
            "medication": "edaravone",
            "indication": "ALS",
            "dose": Decimal("60"),
            "dose_unit": "mg",
            "route": "iv",
            "frequency": "cycles",
            "start_date": date(2026, 3, 3),
            "start_precision": "day",
            "ongoing": True,
        }
        | answers,
        expected_version=0,
        complete=True,
    )


@pytest.fixture
def course(tx_participant, coordinator_a, time_machine):
    """Screening 45, baseline 44 a week before the transplantation on TX_DAY; month 6
    attended two days after its window closed (40, FVC and weight); an unscheduled visit in
    May (39); month 12 missed; a serious grade-3 event in February and edaravone started at
    month 6."""
    p = tx_participant
    scr, bl = p.visits.get(code="SCR"), p.visits.get(code="BL")
    save_crf(coordinator_a, scr, AlsfrsR, BASELINE | {"q8_walking": 4}, reason="Corrected")
    save_crf(coordinator_a, bl, AlsfrsR, BASELINE)
    save_crf(coordinator_a, bl, Vitals, VITALS | {"weight_kg": Decimal("60.0")})
    # month 6's window closed on 1 March
    m06 = record_visit_date(
        actor=coordinator_a, visit=p.visits.get(code="M06"), actual_date=date(2026, 3, 3)
    )
    save_crf(coordinator_a, m06, AlsfrsR, MONTH_6)
    save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    save_crf(coordinator_a, m06, Vitals, VITALS | {"weight_kg": Decimal("57.5")})
    ae(coordinator_a, m06)
    conmed(coordinator_a, m06)
    time_machine.move_to(LATER, tick=False)
    uns = add_unscheduled_visit(
        actor=coordinator_a, participant=p, actual_date=date(2026, 5, 10), reason="Falls"
    )
    save_crf(coordinator_a, uns, AlsfrsR, MONTH_6 | {"q2_salivation": 3})
    mark_visit_missed(actor=coordinator_a, visit=p.visits.get(code="M12"), reason="In hospital")
    p.refresh_from_db()
    return p


def page(client, user, participant):
    client.force_login(user)
    return client.get(reverse("participant-detail", args=[participant.site.code, participant.pk]))


def chart_by_title(trajectory, title):
    return next(c for c in trajectory.charts if c.title == title)


def test_the_investigator_reads_the_course_against_the_pre_treatment_line(client, course, site_a):
    investigator = investigator_of(site_a)
    response = page(client, investigator, course)
    assert response.status_code == 200
    html = response.content.decode()
    card = html[html.index('data-testid="trajectory-card"') :]
    card = card[: card.index("</section>")]
    for title in (
        "ALSFRS-R total against the pre-treatment slope",
        "ALSFRS-R domains",
        "FVC (% predicted)",
        "Weight",
    ):
        assert title in card
    assert card.count("<figure") == 4 and card.count("Data table") == 4
    assert "Months from transplantation" in card
    # identifiers stay out: no name, no national ID, not the AE's verbatim words
    assert "Test Person" not in card and "1234567890" not in card and "Mr Example" not in card
    assert "style=" not in card and "<script" not in card
    for svg in re.findall(r"<svg.*?</svg>", card, flags=re.S):
        ET.fromstring(svg)  # noqa: S314 - our own markup

    trajectory = participant_trajectory(course)
    total = chart_by_title(trajectory, "ALSFRS-R total against the pre-treatment slope")
    rows = total.table.rows
    observed = [r for r in rows if r[0] == "ALSFRS-R total"]
    tx = TX_DAY
    scr_day = course.visits.get(code="SCR").actual_date
    bl_day = course.visits.get(code="BL").actual_date
    assert [(r[1], r[2], r[3]) for r in observed] == [
        (f"{round(months(tx, scr_day), 2):g}", "45", "SCR"),
        (f"{round(months(tx, bl_day), 2):g}", "44", "BL"),
        (f"{round(months(tx, date(2026, 3, 3)), 2):g}", "40", "M06, out of window"),
        (f"{round(months(tx, date(2026, 5, 10)), 2):g}", "39", "UNS-1"),
    ]

    # The pre-treatment line, computed here from the raw dates: onset "2024-03" (month
    # known) taken as 15 March 2024; 48 points there, 44 at baseline, the same slope on.
    onset = date(2024, 3, 15)
    slope = (48 - 44) / months(onset, bl_day)
    assert slope == pytest.approx(
        AlsfrsR.objects.get(visit__code="BL", visit__participant=course).delta_fs, abs=1e-4
    )
    line = [r for r in rows if r[0] == "Pre-treatment slope, extended"]
    assert [r[3] for r in line] == ["onset", "baseline", "expected"]
    (x0, y0), (x1, y1), (x2, y2) = ((float(r[1]), float(r[2])) for r in line)
    assert x0 == pytest.approx(months(tx, onset), abs=0.005) and y0 == 48
    assert x1 == pytest.approx(months(tx, bl_day), abs=0.005) and y1 == 44
    # drawn to the last thing on the time axis: month 12's target date (missed)
    assert x2 == pytest.approx(months(tx, date(2026, 8, 1)), abs=0.005)
    assert y2 == pytest.approx(44 - slope * months(bl_day, date(2026, 8, 1)), abs=0.01)
    # observed month 6 (40) lies below the expected value there: faster than before
    assert 44 - slope * months(bl_day, date(2026, 3, 3)) > 40
    assert "ΔFS" in total.notes[1] and "imputed" in total.notes[1]

    stages, events = total.extra_tables
    kings = [r for r in stages.rows if r[0] == "King's"]
    assert [r[1] for r in kings] == ["1", "2", "3", "3"]  # SCR (upper limb only), BL, M06, UNS-1
    descriptions = [r[2] for r in events.rows]
    assert "M06 attended out of window" in descriptions
    assert "M12 missed (target date)" in descriptions
    assert "AE 1: Meningitis, grade 3, serious" in descriptions
    assert "Edaravone started" in descriptions
    assert not any("Riluzole" in d for d in descriptions)  # none recorded

    fvc = chart_by_title(trajectory, "FVC (% predicted)")
    percents = [
        Fvc.objects.get(visit__code=code, visit__participant=course).percent_predicted
        for code in ("SCR", "M06")
    ]
    assert [r[2] for r in fvc.table.rows] == [f"{round(p, 2):g}" for p in percents]
    weight = chart_by_title(trajectory, "Weight")
    assert [r[2] for r in weight.table.rows] == ["60", "57.5"]
    domains = chart_by_title(trajectory, "ALSFRS-R domains")
    assert ("Bulbar", observed[2][1], "10", "M06, out of window") in domains.table.rows


def test_the_out_of_window_visit_is_drawn_open_and_the_missed_one_marked(course):
    total = participant_trajectory(course).charts[0]
    root = ET.fromstring(str(total.svg))  # noqa: S314
    open_marks = [c for c in root.iter(f"{SVG}circle") if c.get("fill") == "#ffffff"]
    assert len(open_marks) >= 2  # on the line and in the visits lane
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "M12" in texts and "Visits" in texts and "AEs" in texts and "King's" in texts


def test_before_the_transplantation_months_count_from_baseline_and_the_page_says_so(
    frozen, client, coordinator_a, site_a, trial
):
    p = register(coordinator_a, site_a, trial, screened_on=date(2026, 2, 1))
    p = enrol(coordinator_a, p, date(2026, 2, 10))
    bl = p.visits.get(code="BL")
    bl = record_visit_date(actor=coordinator_a, visit=bl, actual_date=date(2026, 3, 1))
    save_crf(coordinator_a, bl, AlsfrsR, BASELINE)
    html = page(client, coordinator_a, p).content.decode()
    assert "Months from baseline" in html
    assert "No transplantation yet: month 0 is the baseline visit" in html
    trajectory = participant_trajectory(p)
    assert trajectory.line is not None and trajectory.line.baseline_total == 44


def test_no_card_without_an_outcome(frozen, client, coordinator_a, site_a, trial):
    p = register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 1))
    assert participant_trajectory(p) is None
    html = page(client, coordinator_a, p).content.decode()
    assert 'data-testid="trajectory-card"' not in html


def test_the_monitor_of_another_site_sees_nothing(client, course, site_b):
    from tests.factories import member

    outsider = member(Role.MONITOR, site_b, "monitor_b")
    assert page(client, outsider, course).status_code == 404


def _queries(participant) -> int:
    with CaptureQueriesContext(connection) as captured:
        trajectory_data(participant, participant.site.local_today())
    return len(captured.captured_queries)


def test_the_data_come_in_the_same_queries_for_two_or_six_visits(
    frozen, coordinator_a, site_a, trial, time_machine
):
    from tests.factories import transplanted_participant

    few = transplanted_participant(
        coordinator_a, site_a, trial, on=TX_DAY - timedelta(days=1), name="Few"
    )
    many = transplanted_participant(coordinator_a, site_a, trial, on=TX_DAY, name="Many")
    for p in (few, many):
        save_crf(coordinator_a, p.visits.get(code="BL"), AlsfrsR, BASELINE)
    time_machine.move_to(LATER, tick=False)
    for day in (date(2026, 1, 10), date(2026, 3, 10), date(2026, 5, 10), date(2026, 7, 10)):
        visit = add_unscheduled_visit(
            actor=coordinator_a, participant=many, actual_date=day, reason="Check"
        )
        save_crf(coordinator_a, visit, AlsfrsR, MONTH_6)
        save_crf(coordinator_a, visit, Vitals, VITALS | {"weight_kg": Decimal("59")})
    ae(
        coordinator_a,
        many.visits.get(code="TX"),
        onset_date=date(2025, 8, 1),
        serious=False,
        sae_hospitalisation=False,
        grade=1,
    )
    few = type(few).objects.get(pk=few.pk)
    many = type(many).objects.get(pk=many.pk)
    dated_few = sum(1 for v in trajectory_data(few, LATER.date()).visits if v.total is not None)
    dated_many = sum(1 for v in trajectory_data(many, LATER.date()).visits if v.total is not None)
    assert (dated_few, dated_many) == (2, 6)
    assert _queries(few) == _queries(many) <= 5


def test_the_course_from_raw_rows_year_onset_death_and_overdue():
    """Pure: from the selector's rows to the charts (no database)."""
    from participants.partial_dates import PartialDate
    from reports.trajectory import trajectory
    from reports.trajectory_selectors import TrajectoryData, VisitOutcomes
    from visits.choices import VisitStatus

    tx = date(2025, 1, 10)
    visits = (
        VisitOutcomes(
            "SCR", VisitStatus.DONE, date(2024, 12, 1), True, total=40, kings="2", mitos=0
        ),
        VisitOutcomes("BL", VisitStatus.DONE, date(2025, 1, 3), True, total=38, kings="2", mitos=1),
        VisitOutcomes(
            "M06", VisitStatus.DONE, date(2025, 7, 12), True, total=30, kings="4B", mitos=2
        ),
        VisitOutcomes("M12", VisitStatus.OVERDUE, date(2026, 1, 10), False),
    )
    data = TrajectoryData(
        onset=PartialDate(date(2023, 1, 1), "year"),
        transplanted_on=tx,
        screened_on=date(2024, 12, 1),
        visits=visits,
        events=(),
        medication_changes=(),
        died_on=date(2025, 11, 2),
    )
    found = trajectory(data)
    assert found is not None and found.line is not None
    # a year-only onset stands for 1 July of that year
    assert found.line.onset_used == date(2023, 7, 1) and found.line.onset_imputed
    assert found.line.slope == pytest.approx((48 - 38) / months(date(2023, 7, 1), date(2025, 1, 3)))
    total = found.charts[0]
    stages, events = total.extra_tables
    assert [r[1] for r in stages.rows if r[0] == "King's"] == ["2", "2", "4B", "5"]
    assert [r[1] for r in stages.rows if r[0] == "MiToS"] == ["0", "1", "2", "5"]
    assert "M12 overdue (target date)" in [r[2] for r in events.rows]
    assert "Death" in [t.text for t in ET.fromstring(str(total.svg)).iter(f"{SVG}text")]  # noqa: S314

    before = trajectory(
        TrajectoryData(
            onset=None,
            transplanted_on=None,
            screened_on=date(2024, 12, 1),
            visits=visits[:1],
            events=(),
            medication_changes=(),
        )
    )
    assert before is not None and before.line is None
    assert before.x_label == "Months from screening"
    assert "No transplantation yet" in before.origin_note
    assert "No pre-treatment line" in before.line_note


def test_a_change_of_dose_frequency_or_route_is_marked_on_the_day_it_was_entered(
    course, coordinator_a, time_machine
):
    """The issue's "con-med changes": besides starts and stops, an edit of the medication's
    record that replaces its dose, unit, route or frequency (the record's history) is marked
    on the site's calendar day it was entered; other edits are not changes, and filling in a
    stop date is the stop."""
    from zoneinfo import ZoneInfo

    from review.recordinfo import event_model
    from safety.models import ConcomitantMedication

    med = ConcomitantMedication.objects.get(participant=course)
    events = event_model(ConcomitantMedication)._default_manager
    zone = ZoneInfo(course.site.time_zone)
    answers = {
        "medication": "edaravone",
        "indication": "ALS",
        "dose": Decimal("60"),
        "dose_unit": "mg",
        "route": "iv",
        "frequency": "cycles",
        "start_date": date(2026, 3, 3),
        "start_precision": "day",
        "ongoing": True,
    }

    def edit(when: datetime, **changes) -> date:
        """The edit, and the site's day its version was entered: the history's time is the
        database's clock (the trigger's now(); the trail is append-only), not the frozen one."""
        time_machine.move_to(when, tick=False)
        med.refresh_from_db()
        save_conmed(
            actor=coordinator_a,
            participant=course,
            visit=med.visit,
            conmed_id=med.pk,
            answers=answers | changes,
            expected_version=med.version,
            complete=True,
            reason="Prescription changed",
        )
        answers.update(changes)
        last = events.filter(pgh_obj_id=med.pk).order_by("-pgh_id").first()
        return last.pgh_created_at.astimezone(zone).date()

    def con_med_rows():
        trajectory = participant_trajectory(type(course).objects.get(pk=course.pk))
        total = chart_by_title(trajectory, "ALSFRS-R total against the pre-treatment slope")
        _stages, marks = total.extra_tables
        return [(r[1], r[2]) for r in marks.rows if r[0] == "Con meds"], total

    def x(day: date) -> str:
        return f"{round(months(TX_DAY, day), 2):g}"

    assert con_med_rows()[0] == [(x(date(2026, 3, 3)), "Edaravone started")]
    queries_before = _queries(type(course).objects.get(pk=course.pk))

    dose_day = edit(datetime(2026, 9, 16, 8, 0, tzinfo=UTC), dose=Decimal("120"), frequency="qd")
    edit(datetime(2026, 9, 20, 8, 0, tzinfo=UTC), indication="ALS (progression)")  # no change
    route_day = edit(datetime(2026, 9, 25, 8, 0, tzinfo=UTC), route="oral")
    edit(datetime(2026, 9, 28, 8, 0, tzinfo=UTC), ongoing=False, stop_date=date(2026, 9, 27))

    rows, total = con_med_rows()
    expected = sorted(
        [
            (date(2026, 3, 3), "started", "Edaravone started"),
            (
                dose_day,
                "changed",
                "Edaravone changed: dose 60 → 120, frequency In cycles (e.g. 14 days on, 14 "
                f"off) → Once a day (entered on {dose_day.isoformat()})",
            ),
            (
                route_day,
                "changed",
                f"Edaravone changed: route Intravenous → Oral (entered on {route_day.isoformat()})",
            ),
            (date(2026, 9, 27), "stopped", "Edaravone stopped"),
        ],
        key=lambda row: (row[0], row[1]),
    )
    assert rows == [(x(day), text) for day, _kind, text in expected]
    assert any("■ its dose, unit, route or frequency changed" in note for note in total.notes)
    # The history is read in the same number of queries however many versions there are.
    assert _queries(type(course).objects.get(pk=course.pk)) == queries_before
