# ruff: noqa: S608 - table names come from _meta, timepoints are constants, filter values are parameters
"""The cohort view's numbers: every transplanted participant's ALSFRS-R total and FVC %
predicted at baseline and the follow-ups, change from baseline per visit, and each one's
slope after the transplantation against the pre-treatment ΔFS.

Everything is aggregated in PostgreSQL from one long relation (participant x visit x
outcome, built by `_obs_sql`), so the page answers in the same few queries for 3 or 10,000
participants:

- `change_table`: per outcome and visit, n, mean, SD, median, quartiles and the missing
  values counted by reason (one query, GROUPING SETS adds the visit's mean ± SE of the values
  themselves for the spaghetti);
- `participant_slopes`: per participant, the least-squares slope (`regr_slope`) of each
  outcome over months from the transplantation, the baseline ΔFS and each visit's values
  (one query; the page draws the lines from it when the cohort is small: `DRAW_LIMIT`);
- `slope_summary_sql`: above `DRAW_LIMIT` the page lists no participant, and the slope
  summary is summed in SQL instead (one query, one row).

Definitions (the page's help text says the same):
- Timepoints: the scheduled visits BL, M06, M12, M18 and M24; unscheduled visits are not used.
- A value is usable when its visit is dated and the form stores it (the ALSFRS-R total needs
  all twelve items; FVC % predicted its inputs), complete or still in progress.
- x = months from the transplantation = (visit date - transplantation date) / 30.4375 (the
  mean Gregorian month, as ΔFS and the trajectories count months); a visit done out of its
  window counts at its visit and at its own date.
- Slope: ordinary least squares of the value on x over the usable points of BL and the
  follow-ups; fewer than two points, no slope. ΔFS: stored with the baseline ALSFRS-R
  ((48 - total) / months from symptom onset, a partial onset date imputed mid-period by
  crfs.alsfrs_r.scoring.delta_fs). The scatter compares rates of loss: -slope against ΔFS.
- Change from baseline: the visit's value minus the baseline value of the same participant.
  SD is the sample SD (n - 1); median and quartiles are PostgreSQL's percentile_cont, linear
  interpolation between the closest ranks (the same as Python's
  statistics.quantiles(method="inclusive")).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crfs.alsfrs_r.models import AlsfrsR
from crfs.base import MissingReason
from crfs.fvc.models import Fvc
from participants.models import AlsHistory, EndOfStudy, Participant
from participants.partial_dates import DAYS_PER_MONTH
from reports import freshness
from trials.models import Site
from visits.models import Transplantation, Visit

# (code, nominal months from the transplantation)
TIMEPOINTS: tuple[tuple[str, int], ...] = (
    ("BL", 0),
    ("M06", 6),
    ("M12", 12),
    ("M18", 18),
    ("M24", 24),
)
BASELINE = "BL"


@dataclass(frozen=True)
class Outcome:
    key: str
    label: Promise
    unit: Promise
    axis: Promise


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("alsfrs_r", _("ALSFRS-R total"), _("points"), _("ALSFRS-R total (points, 0-48)")),
    Outcome("fvc", _("FVC % predicted"), _("% predicted"), _("FVC (% predicted)")),
)

# More participants than this and the page draws the mean ± SE and the slope summary only:
# a line per participant is unreadable long before, and the per-participant numbers are in
# the participants' CSV.
DRAW_LIMIT = 100

# Why a value is missing, in the order the table lists them. The SQL below assigns exactly
# one per participant, visit and outcome, the first that applies.
MISSING_REASONS: tuple[tuple[str, Promise], ...] = (
    ("visit_missed", _("visit missed")),
    ("ended_withdrawn", _("withdrawn before the visit")),
    ("ended_died", _("died before the visit")),
    ("ended_lost_to_follow_up", _("lost to follow-up before the visit")),
    ("ended_completed", _("study completed before the visit")),
    ("not_expected", _("visit not expected")),
    ("overdue", _("overdue (window closed, no visit date)")),
    ("window_open", _("window open, not yet done")),
    ("not_yet_due", _("not yet due")),
    ("form_not_entered", _("visit done, form not entered")),
    ("form_not_done", _("form: not done")),
    ("form_refused", _("form: refused")),
    ("form_unknown", _("form: unknown")),
    ("form_not_applicable", _("form: not applicable")),
    ("form_incomplete", _("form in progress without the value")),
    ("not_derived", _("form complete, value not derivable")),
    ("no_visit", _("no such visit")),
    ("no_baseline", _("no baseline value")),
)
# A form's missing-data reasons, the first found in this order names the form's reason.
_FORM_REASONS = (
    MissingReason.NOT_DONE,
    MissingReason.REFUSED,
    MissingReason.UNKNOWN,
    MissingReason.NOT_APPLICABLE,
)

KINGS_NONE = "none"
KINGS_STAGES = ("1", "2", "3", "4A", "4B", "5")


@dataclass(frozen=True)
class CohortFilter:
    """Which participants: `sites` already limited to the user's sites."""

    sites: Sequence[Site]
    onset_region: str | None = None
    kings_stage: str | None = None  # a stage, KINGS_NONE (not staged at baseline) or None


def _params(flt: CohortFilter) -> dict[str, Any]:
    kings = flt.kings_stage
    return {
        "site_ids": [s.pk for s in flt.sites],
        # Each site's own today decides "overdue" / "window open" / "not yet due".
        "site_days": [s.local_today() for s in flt.sites],
        "region": flt.onset_region,
        "kings": "" if kings == KINGS_NONE else kings,
        "days_per_month": DAYS_PER_MONTH,
    }


def _reason_case(form: str) -> str:
    """The form's first missing-data reason (answers' reasons are kept in a JSON map)."""
    return "".join(
        f"WHEN jsonb_path_exists({form}.missing_reasons, '$.* ? (@ == \"{r.value}\")') "
        f"THEN 'form_{r.value}' "
        for r in _FORM_REASONS
    )


def _obs_sql() -> str:
    """The long relation: one row per participant x timepoint x outcome, with the value,
    the months from the transplantation, out of window, and why a value is missing."""
    p, t, h = Participant._meta.db_table, Transplantation._meta.db_table, AlsHistory._meta.db_table
    eos, v = EndOfStudy._meta.db_table, Visit._meta.db_table
    a, f = AlsfrsR._meta.db_table, Fvc._meta.db_table
    s = Site._meta.db_table
    timepoints = ", ".join(
        f"('{code}', {months}, {i})" for i, (code, months) in enumerate(TIMEPOINTS)
    )
    return f"""
    WITH site_day AS (
        SELECT * FROM unnest(%(site_ids)s::bigint[], %(site_days)s::date[]) AS d(site_id, today)
    ),
    cohort AS (
        SELECT p.id AS pid, p.study_id, s.code AS site_code, tx.performed_on AS tx_on,
               sd.today, h.onset_region, eos.outcome AS end_outcome,
               bla.kings_stage AS bl_kings, bla.delta_fs AS bl_delta_fs,
               bla.delta_fs_onset_imputed AS bl_delta_fs_imputed,
               CASE WHEN blv.actual_date IS NOT NULL THEN bla.total::float8 END AS bl_alsfrs_r,
               CASE WHEN blv.actual_date IS NOT NULL THEN blf.percent_predicted::float8 END
                   AS bl_fvc
        FROM {p} p
        JOIN {t} tx ON tx.participant_id = p.id
        JOIN site_day sd ON sd.site_id = p.site_id
        JOIN {s} s ON s.id = p.site_id
        LEFT JOIN {h} h ON h.participant_id = p.id
        LEFT JOIN {eos} eos ON eos.participant_id = p.id
        LEFT JOIN {v} blv ON blv.participant_id = p.id AND blv.code = '{BASELINE}'
             AND blv.sequence = 0
        LEFT JOIN {a} bla ON bla.visit_id = blv.id
        LEFT JOIN {f} blf ON blf.visit_id = blv.id
        WHERE (%(region)s::text IS NULL OR h.onset_region = %(region)s::text)
          AND (%(kings)s::text IS NULL OR coalesce(bla.kings_stage, '') = %(kings)s::text)
    ),
    obs AS (
        SELECT c.pid, tp.code, tp.ord, o.outcome, o.baseline,
               CASE WHEN v.actual_date IS NOT NULL THEN o.value END AS value,
               (v.actual_date - c.tx_on) / %(days_per_month)s::float8 AS months,
               coalesce(v.actual_date < v.window_start OR v.actual_date > v.window_end, false)
                   AS out_of_window,
               CASE
                 WHEN v.actual_date IS NOT NULL AND o.value IS NOT NULL THEN 'present'
                 WHEN v.id IS NULL THEN 'no_visit'
                 WHEN v.status = 'missed' THEN 'visit_missed'
                 WHEN v.status = 'not_expected' AND c.end_outcome IS NOT NULL
                     THEN 'ended_' || c.end_outcome
                 WHEN v.status = 'not_expected' THEN 'not_expected'
                 WHEN v.actual_date IS NULL AND v.window_end < c.today THEN 'overdue'
                 WHEN v.actual_date IS NULL AND v.window_start <= c.today THEN 'window_open'
                 WHEN v.actual_date IS NULL THEN 'not_yet_due'
                 WHEN o.form_id IS NULL THEN 'form_not_entered'
                 WHEN o.outcome = 'alsfrs_r' THEN CASE {_reason_case("a")}
                     WHEN a.status = 'in_progress' THEN 'form_incomplete' ELSE 'not_derived' END
                 ELSE CASE {_reason_case("f")}
                     WHEN f.status = 'in_progress' THEN 'form_incomplete' ELSE 'not_derived' END
               END AS category
        FROM cohort c
        CROSS JOIN (VALUES {timepoints}) AS tp(code, nominal, ord)
        LEFT JOIN {v} v ON v.participant_id = c.pid AND v.code = tp.code AND v.sequence = 0
        LEFT JOIN {a} a ON a.visit_id = v.id
        LEFT JOIN {f} f ON f.visit_id = v.id
        CROSS JOIN LATERAL (VALUES
            ('alsfrs_r', a.total::float8, a.id, c.bl_alsfrs_r),
            ('fvc', f.percent_predicted::float8, f.id, c.bl_fvc)
        ) AS o(outcome, value, form_id, baseline)
    )
    """


# --- the change-from-baseline table ---------------------------------------------------


@dataclass
class Summary:
    """One outcome at one visit: at baseline the values, later their change from baseline."""

    outcome: Outcome
    code: str
    nominal_months: int
    n: int = 0
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    out_of_window: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    # every participant of the cohort has one row per outcome and visit, value or not
    participants: int = 0
    # mean ± SE of the values themselves (not the change): the spaghetti's summary line
    value_n: int = 0
    value_mean: float | None = None
    value_se: float | None = None

    @property
    def is_baseline(self) -> bool:
        return self.code == BASELINE

    @property
    def missing_total(self) -> int:
        return sum(self.missing.values())

    @property
    def missing_labelled(self) -> list[tuple[str, int]]:
        return [
            (str(label), self.missing[k]) for k, label in MISSING_REASONS if self.missing.get(k)
        ]


def kept_parts(flt: CohortFilter) -> list[Any]:
    """What a cohort figure depends on besides the data (reports.freshness)."""
    params = _params(flt)
    return [params["site_ids"], params["site_days"], params["region"], params["kings"]]


def change_table(flt: CohortFilter) -> list[Summary]:
    """Per outcome and visit: n, mean, SD, median and quartiles of the change from baseline
    (at baseline: of the values), missing by reason; and the visit's mean ± SE of the values.
    Kept between requests until the data it reads changes (reports.freshness)."""
    return freshness.kept("cohort-table", kept_parts(flt), lambda: _change_table(flt))


def _change_table(flt: CohortFilter) -> list[Summary]:
    sql = (
        _obs_sql()
        + """
    , stat AS (
        SELECT outcome, code, value,
               CASE WHEN code = 'BL' THEN category
                    WHEN category <> 'present' THEN category
                    WHEN baseline IS NULL THEN 'no_baseline'
                    ELSE 'present' END AS change_category,
               CASE WHEN code = 'BL' THEN value ELSE value - baseline END AS stat,
               out_of_window
        FROM obs
    )
    SELECT outcome, code, change_category, grouping(change_category) AS whole_visit,
           count(*), avg(stat), stddev_samp(stat),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY stat),
           percentile_cont(0.25) WITHIN GROUP (ORDER BY stat),
           percentile_cont(0.75) WITHIN GROUP (ORDER BY stat),
           count(*) FILTER (WHERE out_of_window),
           count(value), avg(value), stddev_samp(value)
    FROM stat
    GROUP BY GROUPING SETS ((outcome, code, change_category), (outcome, code))
    """
    )
    rows: dict[tuple[str, str], Summary] = {
        (o.key, code): Summary(o, code, months) for o in OUTCOMES for code, months in TIMEPOINTS
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(flt))
        for (
            outcome,
            code,
            category,
            whole_visit,
            count,
            mean,
            sd,
            median,
            q1,
            q3,
            out_of_window,
            value_n,
            value_mean,
            value_sd,
        ) in cursor.fetchall():
            summary = rows[(outcome, code)]
            if whole_visit:
                summary.participants = count
                summary.value_n = value_n
                summary.value_mean = value_mean
                summary.value_se = value_sd / math.sqrt(value_n) if value_sd is not None else None
            elif category == "present":
                summary.n, summary.mean, summary.sd = count, mean, sd
                summary.median, summary.q1, summary.q3 = median, q1, q3
                summary.out_of_window = out_of_window
            else:
                summary.missing[category] = count
    return list(rows.values())


# --- per participant -------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantSlope:
    participant_id: int
    study_id: str
    site_code: str
    onset_region: str
    baseline_kings: str
    delta_fs: float | None
    delta_fs_imputed: bool | None
    alsfrs_points: int
    alsfrs_slope: float | None  # points per month (negative: loss)
    fvc_points: int
    fvc_slope: float | None  # % predicted per month
    end_outcome: str

    @property
    def alsfrs_loss_rate(self) -> float | None:
        """Points lost per month after the transplantation, comparable with ΔFS."""
        return None if self.alsfrs_slope is None else -self.alsfrs_slope

    @property
    def no_slope_reason(self) -> str:
        if self.alsfrs_slope is not None:
            return ""
        return str(_("fewer than 2 usable ALSFRS-R totals (%(n)s)") % {"n": self.alsfrs_points})

    @property
    def no_delta_fs_reason(self) -> str:
        return "" if self.delta_fs is not None else str(_("no ΔFS at baseline"))


@dataclass(frozen=True)
class VisitValues:
    """A participant's dated visit: months from the transplantation and the values."""

    months: float
    alsfrs_r: float | None
    fvc: float | None
    out_of_window: bool


def _per_visit_columns() -> list[tuple[str, str]]:
    """(alias, aggregate) of each timepoint's months, values and out of window, pivoted."""
    columns = []
    for code, _months in TIMEPOINTS:
        at = f"code = '{code}'"
        columns += [
            (f"{code}_months", f"max(months) FILTER (WHERE {at})"),
            (f"{code}_alsfrs_r", f"max(value) FILTER (WHERE {at} AND outcome = 'alsfrs_r')"),
            (f"{code}_fvc", f"max(value) FILTER (WHERE {at} AND outcome = 'fvc')"),
            (f"{code}_oow", f"bool_or(out_of_window) FILTER (WHERE {at})"),
        ]
    return columns


def participant_slopes(
    flt: CohortFilter,
) -> list[tuple[ParticipantSlope, dict[str, VisitValues]]]:
    """Every participant of the cohort by study ID: slopes, baseline ΔFS and the values of
    each dated visit (one row each, pivoted in SQL). Kept between requests until the data it
    reads changes (reports.freshness)."""
    return freshness.kept("cohort-slopes", kept_parts(flt), lambda: _participant_slopes(flt))


def _participant_slopes(
    flt: CohortFilter,
) -> list[tuple[ParticipantSlope, dict[str, VisitValues]]]:
    pivot = _per_visit_columns()
    sql = (
        _obs_sql()
        + f"""
    SELECT c.pid, c.study_id, c.site_code, coalesce(c.onset_region, ''),
           coalesce(c.bl_kings, ''), c.bl_delta_fs, c.bl_delta_fs_imputed,
           fit.alsfrs_n, fit.alsfrs_slope, fit.fvc_n, fit.fvc_slope,
           coalesce(c.end_outcome, ''),
           {", ".join(f"fit.{alias}" for alias, _agg in pivot)}
    FROM cohort c
    JOIN (
        SELECT pid,
               count(value) FILTER (WHERE outcome = 'alsfrs_r') AS alsfrs_n,
               regr_slope(value, months) FILTER (WHERE outcome = 'alsfrs_r') AS alsfrs_slope,
               count(value) FILTER (WHERE outcome = 'fvc') AS fvc_n,
               regr_slope(value, months) FILTER (WHERE outcome = 'fvc') AS fvc_slope,
               {", ".join(f"{agg} AS {alias}" for alias, agg in pivot)}
        FROM obs GROUP BY pid
    ) fit ON fit.pid = c.pid
    ORDER BY c.study_id
    """
    )
    fixed = len(ParticipantSlope.__dataclass_fields__)
    result = []
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(flt))
        for row in cursor.fetchall():
            per_visit = row[fixed:]
            visits = {}
            for i, (code, _months) in enumerate(TIMEPOINTS):
                months, alsfrs_r, fvc, oow = per_visit[4 * i : 4 * i + 4]
                if months is not None:
                    visits[code] = VisitValues(months, alsfrs_r, fvc, bool(oow))
            result.append((ParticipantSlope(*row[:fixed]), visits))
    return result


@dataclass(frozen=True)
class SlopeSummary:
    """The scatter in numbers, for any cohort size."""

    participants: int
    with_slope: int
    compared: int  # slope and ΔFS
    slower: int  # losing fewer points per month than before the transplantation
    mean_loss_rate: float | None
    mean_delta_fs: float | None


def cohort_size(table: Sequence[Summary]) -> int:
    """The number of participants in the cohort, from change_table's rows."""
    return max((s.participants for s in table), default=0)


def slope_summary_sql(flt: CohortFilter) -> SlopeSummary:
    """slope_summary computed in PostgreSQL (one query, one row): for a cohort too large to
    list, without reading a row per participant. Kept between requests until the data it
    reads changes (reports.freshness)."""
    return freshness.kept("cohort-slope-summary", kept_parts(flt), lambda: _slope_summary_sql(flt))


def _slope_summary_sql(flt: CohortFilter) -> SlopeSummary:
    sql = (
        _obs_sql()
        + """
    , fit AS (
        SELECT pid,
               -regr_slope(value, months) FILTER (WHERE outcome = 'alsfrs_r') AS loss
        FROM obs GROUP BY pid
    ),
    person AS (
        SELECT fit.loss, c.bl_delta_fs::float8 AS dfs,
               fit.loss IS NOT NULL AND c.bl_delta_fs IS NOT NULL AS compared
        FROM cohort c JOIN fit ON fit.pid = c.pid
    )
    SELECT count(*), count(loss), count(*) FILTER (WHERE compared),
           count(*) FILTER (WHERE compared AND loss < dfs),
           avg(loss) FILTER (WHERE compared), avg(dfs) FILTER (WHERE compared)
    FROM person
    """
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(flt))
        participants, with_slope, compared, slower, mean_loss, mean_dfs = cursor.fetchone()
    return SlopeSummary(
        participants=participants,
        with_slope=with_slope,
        compared=compared,
        slower=slower,
        mean_loss_rate=mean_loss,
        mean_delta_fs=mean_dfs,
    )


def slope_summary(slopes: Sequence[ParticipantSlope]) -> SlopeSummary:
    compared = [s for s in slopes if s.alsfrs_loss_rate is not None and s.delta_fs is not None]
    rates = [s.alsfrs_loss_rate for s in compared if s.alsfrs_loss_rate is not None]
    dfs = [s.delta_fs for s in compared if s.delta_fs is not None]
    return SlopeSummary(
        participants=len(slopes),
        with_slope=sum(1 for s in slopes if s.alsfrs_slope is not None),
        compared=len(compared),
        slower=sum(
            1
            for s in compared
            if s.alsfrs_loss_rate is not None
            and s.delta_fs is not None
            and s.alsfrs_loss_rate < s.delta_fs
        ),
        mean_loss_rate=sum(rates) / len(rates) if rates else None,
        mean_delta_fs=sum(dfs) / len(dfs) if dfs else None,
    )
