"""A participant's course as charts: the ALSFRS-R total read against the line of its
pre-treatment progression, the four domains, FVC % predicted and weight, over months from
the transplantation (from baseline, or screening, while there is none).

The pre-treatment line is ΔFS made visible: 48 points at symptom onset (a partial onset
date imputed as the scoring imputes it), through the baseline total, then on at the same
slope past the transplantation. An observed course above the extended line is slower than
before treatment. Used by the participant page (reports.panels) and the casebook PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from crfs.alsfrs_r.scoring import MAX_TOTAL, delta_fs
from participants.models import Participant
from participants.partial_dates import months_between
from reports import charts
from reports.charts import Band, Chart, Marker, Point, Reference, Series
from reports.trajectory_selectors import (
    MedicationChange,
    MedicationChangeKind,
    TrajectoryData,
    VisitOutcomes,
    trajectory_data,
)
from safety.choices import DoseUnit, Frequency, MedRoute
from visits.choices import VisitStatus

# The expected course is drawn at least this far past the transplantation.
EXTEND_MONTHS = 6.0


@dataclass(frozen=True)
class PreTreatmentLine:
    onset_used: date
    onset_imputed: bool
    baseline_day: date
    baseline_total: int
    slope: float  # ΔFS, points lost per month
    points: tuple[tuple[float, float], ...]  # (x, expected total): onset, baseline, end


@dataclass(frozen=True)
class Trajectory:
    charts: tuple[Chart, ...]
    x_label: str
    origin_note: str
    line: PreTreatmentLine | None
    line_note: str


def _day(value: date) -> str:
    # As the timeline prints dates: unambiguous in every language.
    return value.isoformat()


def _axis(data: TrajectoryData) -> tuple[date, str, str, str]:
    """(origin, axis label, note, reference label)."""
    if data.transplanted_on is not None:
        return (
            data.transplanted_on,
            _("Months from transplantation"),
            _("Month 0 is the transplantation, on %(day)s.") % {"day": _day(data.transplanted_on)},
            _("Transplantation"),
        )
    baseline = next((v for v in data.visits if v.code == "BL" and v.attended and v.day), None)
    if baseline is not None and baseline.day is not None:
        return (
            baseline.day,
            _("Months from baseline"),
            _("No transplantation yet: month 0 is the baseline visit, on %(day)s.")
            % {"day": _day(baseline.day)},
            _("Baseline"),
        )
    screening = next((v.day for v in data.visits if v.code == "SCR" and v.attended and v.day), None)
    origin = screening or data.screened_on
    return (
        origin,
        _("Months from screening"),
        _("No transplantation yet: month 0 is the screening, on %(day)s.") % {"day": _day(origin)},
        _("Screening"),
    )


def pre_treatment_line(data: TrajectoryData, origin: date, end_x: float) -> PreTreatmentLine | None:
    """The line from 48 at onset through the baseline total, to `end_x` (or to 0 points,
    whichever comes first). None without an onset, a baseline total or a positive interval."""
    baseline = data.baseline
    if data.onset is None or baseline is None or baseline.total is None or baseline.day is None:
        return None
    try:
        dfs = delta_fs(baseline.total, data.onset, baseline.day)
    except ValueError:
        return None
    onset_x = months_between(origin, dfs.onset_used)
    baseline_x = months_between(origin, baseline.day)
    points = [(onset_x, float(MAX_TOTAL)), (baseline_x, float(baseline.total))]
    if end_x > baseline_x:
        if dfs.value > 0:
            # the line reaches 0 points this many months after onset
            end_x = min(end_x, onset_x + MAX_TOTAL / dfs.value)
        if end_x > baseline_x:
            points.append((end_x, baseline.total - dfs.value * (end_x - baseline_x)))
    return PreTreatmentLine(
        onset_used=dfs.onset_used,
        onset_imputed=dfs.onset_imputed,
        baseline_day=baseline.day,
        baseline_total=baseline.total,
        slope=dfs.value,
        points=tuple(points),
    )


def _visit_note(visit: VisitOutcomes) -> str:
    if visit.out_of_window:
        return _("%(visit)s, out of window") % {"visit": visit.code}
    return visit.code


def _observed(
    name: str,
    data: TrajectoryData,
    value: Callable[[VisitOutcomes], float | None],
    x: Callable[[date], float],
    *,
    style: int | None = None,
) -> Series:
    points = [
        Point(x(v.day), float(y), hollow=v.out_of_window, note=_visit_note(v))
        for v in data.visits
        if v.attended and v.day is not None and (y := value(v)) is not None
    ]
    return Series(name, points, style=style)


def _visit_markers(data: TrajectoryData, x: Callable[[date], float]) -> list[Marker]:
    lane = _("Visits")
    marks = []
    for v in data.visits:
        if v.day is None:
            continue
        if v.status == VisitStatus.MISSED:
            marks.append(
                Marker(
                    lane,
                    x(v.day),
                    _("%(visit)s missed (target date)") % {"visit": v.code},
                    symbol="x",
                    text=v.code,
                    emphasis=True,
                )
            )
        elif v.status == VisitStatus.OVERDUE:
            marks.append(
                Marker(
                    lane,
                    x(v.day),
                    _("%(visit)s overdue (target date)") % {"visit": v.code},
                    symbol="triangle-down",
                    filled=False,
                    text=v.code,
                    emphasis=True,
                )
            )
        elif v.out_of_window:
            marks.append(
                Marker(
                    lane,
                    x(v.day),
                    _("%(visit)s attended out of window") % {"visit": v.code},
                    symbol="circle",
                    filled=False,
                    text=v.code,
                )
            )
        elif v.attended:
            marks.append(
                Marker(lane, x(v.day), _("%(visit)s attended") % {"visit": v.code}, symbol="circle")
            )
    return marks


def _safety_markers(data: TrajectoryData, x: Callable[[date], float]) -> list[Marker]:
    marks = []
    lane = _("AEs")
    for event in data.events:
        grade = (
            _("grade %(grade)s") % {"grade": event.grade} if event.grade else _("grade not given")
        )
        serious = (
            _("serious")
            if event.serious
            else _("not serious")
            if event.serious is False
            else _("seriousness not given")
        )
        marks.append(
            Marker(
                lane,
                x(event.onset),
                _("AE %(number)s: %(term)s, %(grade)s, %(serious)s")
                % {
                    "number": event.number,
                    "term": event.term or _("term not coded"),
                    "grade": grade,
                    "serious": serious,
                },
                symbol="triangle",
                text=str(event.grade or ""),
                emphasis=bool(event.serious),
            )
        )
    lane = _("Con meds")
    since = min((v.day for v in data.visits if v.code == "SCR" and v.day), default=data.screened_on)
    for change in data.medication_changes:
        # Medication taken since before screening is the starting point, not a change.
        if change.day < since:
            continue
        if change.kind == MedicationChangeKind.CHANGED:
            marks.append(
                Marker(
                    lane,
                    x(change.day),
                    _("%(name)s changed: %(terms)s (entered on %(day)s)")
                    % {"name": change.name, "terms": _terms(change), "day": _day(change.day)},
                    symbol="square",
                )
            )
            continue
        what = _("%(name)s started") if change.started else _("%(name)s stopped")
        marks.append(
            Marker(
                lane,
                x(change.day),
                what % {"name": change.name},
                symbol="diamond",
                filled=change.started,
            )
        )
    return marks


_TERM_LABELS = {
    "dose": (lambda: _("dose"), None),
    "dose_unit": (lambda: _("unit"), DoseUnit),
    "route": (lambda: _("route"), MedRoute),
    "frequency": (lambda: _("frequency"), Frequency),
}


def _term_value(name: str, value: object) -> str:
    choices = _TERM_LABELS[name][1]
    if choices is not None:
        try:
            return str(choices(str(value)).label)
        except ValueError:
            return str(value)
    return charts.fmt(float(value)) if isinstance(value, int | float | Decimal) else str(value)


def _terms(change: MedicationChange) -> str:
    """'dose 50 → 100, frequency Once a day → Twice a day'"""
    return ", ".join(
        f"{_TERM_LABELS[name][0]()} {_term_value(name, before)} → {_term_value(name, after)}"
        for name, before, after in change.terms
    )


def _stage_bands(data: TrajectoryData, x: Callable[[date], float], end_x: float) -> list[Band]:
    """Each stage from the assessment that found it to the next assessment."""
    staged = [
        v
        for v in data.visits
        if v.attended and v.day is not None and (v.kings or v.mitos is not None)
    ]
    staged.sort(key=lambda v: v.day or date.min)
    bands: list[Band] = []
    for row, stage_of, level_of in (
        (_("King's"), lambda v: v.kings, lambda s: int(s[0]) if s[:1].isdigit() else 0),
        (_("MiToS"), lambda v: "" if v.mitos is None else str(v.mitos), lambda s: int(s) + 1),
    ):
        assessed = [(x(v.day), stage_of(v)) for v in staged if stage_of(v) and v.day]
        if data.died_on is not None:
            assessed = [a for a in assessed if a[0] < x(data.died_on)] + [(x(data.died_on), "5")]
        for i, (start, stage) in enumerate(assessed):
            end = assessed[i + 1][0] if i + 1 < len(assessed) else max(end_x, start)
            if end > start:
                bands.append(Band(row, start, end, stage, level_of(stage)))
    return bands


def trajectory(data: TrajectoryData) -> Trajectory | None:
    """The charts, or None when no visit has an outcome to draw."""
    if not any(
        v.attended and (v.total is not None or v.fvc_percent is not None or v.weight_kg is not None)
        for v in data.visits
    ):
        return None
    origin, x_label, origin_note, reference_label = _axis(data)
    x_unit = x_label

    def x(day: date) -> float:
        return round(months_between(origin, day), 2)

    visit_marks = _visit_markers(data, x)
    safety_marks = _safety_markers(data, x)
    last_x = max([m.x for m in visit_marks + safety_marks] + [0.0])
    end_x = max(last_x, EXTEND_MONTHS) if data.transplanted_on else last_x
    line = pre_treatment_line(data, origin, end_x)
    references = [Reference(0.0, reference_label)]
    if data.died_on is not None:
        references.append(Reference(x(data.died_on), _("Death")))
        end_x = max(end_x, x(data.died_on) + 1.0)  # room for stage 5
    marker_note = _(
        "Lanes under each chart: ● visit attended, ○ out of window (also drawn open on the "
        "lines), ✕ missed, ▽ overdue; ▲ adverse event with its grade (orange: serious); "
        "◆ medication started, ◇ stopped, ■ its dose, unit, route or frequency changed (on "
        "the day the change was entered)."
    )

    total_series = [_observed(_("ALSFRS-R total"), data, lambda v: v.total, x, style=0)]
    if line is not None:
        line_note = _(
            "Pre-treatment line: 48 points at symptom onset (%(onset)s%(imputed)s) through the "
            "baseline total of %(total)s on %(baseline)s, a loss of %(slope)s points per month "
            "(ΔFS), extended at that slope."
        ) % {
            "onset": _day(line.onset_used),
            "imputed": _(", imputed from a partial date") if line.onset_imputed else "",
            "total": line.baseline_total,
            "baseline": _day(line.baseline_day),
            "slope": charts.fmt(line.slope),
        }
        notes = [_("onset"), _("baseline"), _("expected")]
        total_series.append(
            Series(
                _("Pre-treatment slope, extended"),
                [Point(px, round(py, 2), note=notes[i]) for i, (px, py) in enumerate(line.points)],
                style=1,
                markers=False,
            )
        )
    else:
        line_note = _(
            "No pre-treatment line: it needs the symptom-onset date and a baseline (or "
            "screening) ALSFRS-R total after it."
        )
    total_chart = charts.line_chart(
        _("ALSFRS-R total against the pre-treatment slope"),
        x_unit,
        _("ALSFRS-R total (points, 0-48)"),
        total_series,
        bands=_stage_bands(data, x, end_x),
        markers=visit_marks + safety_marks,
        references=references,
        y_range=(0, MAX_TOTAL),
        notes=[origin_note, line_note, marker_note],
    )
    domains = charts.line_chart(
        _("ALSFRS-R domains"),
        x_unit,
        _("Domain subscore (points, 0-12)"),
        [
            _observed(_("Bulbar"), data, lambda v: v.bulbar, x, style=0),
            _observed(_("Fine motor"), data, lambda v: v.fine_motor, x, style=1),
            _observed(_("Gross motor"), data, lambda v: v.gross_motor, x, style=2),
            _observed(_("Respiratory"), data, lambda v: v.respiratory, x, style=3),
        ],
        markers=visit_marks,
        references=references,
        y_range=(0, 12),
    )
    fvc = charts.line_chart(
        _("FVC (% predicted)"),
        x_unit,
        _("FVC (% predicted)"),
        [_observed(_("FVC"), data, lambda v: v.fvc_percent, x, style=2)],
        markers=visit_marks,
        references=references,
    )
    weight = charts.line_chart(
        _("Weight"),
        x_unit,
        _("Weight (kg)"),
        [_observed(_("Weight"), data, lambda v: v.weight_kg, x, style=4)],
        markers=visit_marks,
        references=references,
    )
    return Trajectory(
        charts=(total_chart, domains, fvc, weight),
        x_label=x_label,
        origin_note=origin_note,
        line=line,
        line_note=line_note,
    )


def participant_trajectory(
    participant: Participant, today: date | None = None
) -> Trajectory | None:
    """For the page and the casebook PDF: `today` is the site's day (visit statuses)."""
    return trajectory(trajectory_data(participant, today or participant.site.local_today()))


def chart_titles(trajectory_: Trajectory) -> Sequence[str]:
    return [chart.title for chart in trajectory_.charts]
