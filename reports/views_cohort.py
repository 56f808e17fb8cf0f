"""The cohort view: trajectories of every transplanted participant, change from baseline per
visit and slopes against the pre-treatment ΔFS, for the sites where the user may export data
(investigators and data managers), with its two CSV downloads."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from exports.variables import neutralise_formula
from participants.choices import OnsetRegion
from reports import charts, cohort, freshness
from trials import permissions
from trials.http import AuthenticatedHttpRequest
from trials.models import Site

# The cohort's numbers are study data leaving the eCRF (the page's CSVs): the export right.
PERMISSION = permissions.EXPORT_DATA


class CohortFilterForm(forms.Form):
    """GET filters; a value outside the choices (another site, an unknown stage) is a form
    error, never a 500."""

    site = forms.ChoiceField(label=gettext_lazy("Site"), required=False)
    onset_region = forms.ChoiceField(
        label=gettext_lazy("Onset region"),
        required=False,
        choices=[("", gettext_lazy("Every onset region")), *OnsetRegion.choices],
    )
    kings_stage = forms.ChoiceField(
        label=gettext_lazy("King's stage at baseline"),
        required=False,
        choices=[
            ("", gettext_lazy("Every stage")),
            *((s, s) for s in cohort.KINGS_STAGES),
            (cohort.KINGS_NONE, gettext_lazy("Not staged at baseline")),
        ],
    )

    def __init__(self, *args: Any, sites: Sequence[Site], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = list(sites)
        site_field = self.fields["site"]
        assert isinstance(site_field, forms.ChoiceField)
        site_field.choices = [
            ("", _("All my sites")),
            *((s.code, f"{s.code} · {s.name}") for s in self.sites),
        ]

    def cohort_filter(self) -> cohort.CohortFilter:
        data = self.cleaned_data
        chosen = [s for s in self.sites if s.code == data["site"]] if data["site"] else self.sites
        return cohort.CohortFilter(
            sites=chosen,
            onset_region=data["onset_region"] or None,
            kings_stage=data["kings_stage"] or None,
        )


def _filtered(
    request: AuthenticatedHttpRequest,
) -> tuple[CohortFilterForm, cohort.CohortFilter | None]:
    sites = list(permissions.sites_where(request.user, PERMISSION).order_by("code"))
    if not sites:
        raise PermissionDenied
    form = CohortFilterForm(request.GET, sites=sites)
    if not form.is_valid():
        return form, None
    return form, form.cohort_filter()


def _months(value: float) -> str:
    return charts.fmt(value, 1)


_X_TICKS = [(float(m), _months(m)) for _code, m in cohort.TIMEPOINTS]


def _x_range(series: Sequence[charts.Series]) -> tuple[float, float]:
    """Baseline to month 24 whatever the data reach, so every visit's tick is on the axis
    and cohorts compare at a glance; wider when a visit was dated beyond."""
    xs = [p.x for s in series for p in s.points]
    first, last = _X_TICKS[0][0], _X_TICKS[-1][0]
    return math.floor(min([first - 1, *xs])), math.ceil(max([last + 1, *xs]))


def _spaghetti(
    outcome: cohort.Outcome,
    summaries: Sequence[cohort.Summary],
    lines: Sequence[tuple[cohort.ParticipantSlope, dict[str, cohort.VisitValues]]] | None,
) -> charts.Chart:
    series: list[charts.Series] = []
    for person, visits in lines or ():
        own = [
            (code, v, getattr(v, outcome.key))
            for code, v in visits.items()
            if getattr(v, outcome.key) is not None
        ]
        if own:
            # One legend entry for every grey line (charts joins muted series of a name);
            # the data table names each point's participant and visit.
            series.append(
                charts.Series(
                    _("Participants"),
                    [
                        charts.Point(
                            v.months,
                            value,
                            hollow=v.out_of_window,
                            note=(
                                _("%(id)s, %(visit)s, out of window")
                                if v.out_of_window
                                else _("%(id)s, %(visit)s")
                            )
                            % {"id": person.study_id, "visit": code},
                        )
                        for code, v, value in own
                    ],
                    muted=True,
                )
            )
    mean_points = [
        charts.Point(
            float(s.nominal_months),
            s.value_mean,
            error=s.value_se,
            note=_("%(visit)s, n = %(n)s") % {"visit": s.code, "n": s.value_n},
        )
        for s in summaries
        if s.outcome.key == outcome.key and s.value_mean is not None
    ]
    series.append(charts.Series(_("Mean ± SE per visit"), mean_points, style=0, width=2.5))
    notes = [
        _(
            "Grey lines: one per participant, at the months of their own visit dates (open "
            "markers: visits out of window). The mean ± standard error is drawn at each "
            "visit's nominal month."
        )
    ]
    if lines is None:
        notes = [
            _(
                "More than %(limit)s participants: only the mean ± SE is drawn. Narrow the "
                "filters to see one line per participant; the participants' CSV has every value."
            )
            % {"limit": cohort.DRAW_LIMIT}
        ]
    title = (
        _("%(outcome)s after transplantation: mean ± SE per visit (no line per participant)")
        if lines is None
        else _("%(outcome)s after transplantation, per participant and mean ± SE")
    )
    return charts.line_chart(
        title % {"outcome": outcome.label},
        _("Months from transplantation"),
        str(outcome.axis),
        series,
        x_range=_x_range(series),
        x_ticks=_X_TICKS,
        x_format=_months,
        notes=notes,
    )


def _scatter(slopes: Sequence[cohort.ParticipantSlope]) -> charts.Chart:
    points = [
        charts.Point(s.delta_fs, s.alsfrs_loss_rate, note=s.study_id)
        for s in slopes
        if s.delta_fs is not None and s.alsfrs_loss_rate is not None
    ]
    return charts.scatter_chart(
        _("ALSFRS-R loss per month after transplantation against the pre-treatment ΔFS"),
        _("Pre-treatment ΔFS (points lost per month)"),
        _("Loss after transplantation (points per month)"),
        [charts.Series(_("Participants"), points, style=0)],
        notes=[
            _(
                "Each point is a participant. Below the dashed identity line: fewer points "
                "lost per month after the transplantation than before it."
            )
        ],
    )


def _results(flt: cohort.CohortFilter) -> dict[str, Any]:
    table = cohort.change_table(flt)
    size = cohort.cohort_size(table)
    drawn = size <= cohort.DRAW_LIMIT
    # A cohort too large to draw one by one is summed up in SQL: no row per participant.
    rows = cohort.participant_slopes(flt) if drawn else None
    slopes = [person for person, _visits in rows] if rows is not None else None
    results: dict[str, Any] = {
        "table": table,
        "cohort_size": size,
        "draw_limit": cohort.DRAW_LIMIT,
        "slopes": slopes,
        "summary": (
            cohort.slope_summary(slopes) if slopes is not None else cohort.slope_summary_sql(flt)
        ),
        "trajectories": [_spaghetti(o, table, rows) for o in cohort.OUTCOMES],
        "scatter": _scatter(slopes) if slopes is not None else None,
    }
    results["results_html"] = render_to_string("reports/_cohort_results.html", results)
    return results


@login_required
@require_GET
def cohort_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, flt = _filtered(request)
    context: dict[str, Any] = {"form": form}
    if flt is None:
        return render(request, "reports/cohort.html", context)
    # The results and their HTML, kept until the data they show change (reports.freshness):
    # drawing the charts and the tables was most of a request once the numbers were kept.
    context |= freshness.kept(
        "cohort-page", [*cohort.kept_parts(flt), cohort.DRAW_LIMIT], lambda: _results(flt)
    )
    return render(request, "reports/cohort.html", context)


def _number(value: float | None, decimals: int = 4) -> str:
    return "" if value is None else repr(round(float(value), decimals))


class _Num(str):
    """A number already written as text: left alone by the formula guard."""


def _csv_response(header: Sequence[str], rows: Sequence[Sequence[Any]], name: str) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        # Text a spreadsheet would run as a formula gets a quote; numbers are already text
        # of digits, which the guard never needs (a minus sign is written by _number).
        writer.writerow(
            [cell if isinstance(cell, _Num) else neutralise_formula(str(cell)) for cell in row]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _num(value: float | None, decimals: int = 4) -> _Num:
    return _Num(_number(value, decimals))


def _bad_filters(form: CohortFilterForm) -> HttpResponse:
    lines = [f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()]
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")


TABLE_HEADER = (
    "outcome",
    "visit",
    "nominal_months",
    "statistic",
    "n",
    "mean",
    "sd",
    "median",
    "q1",
    "q3",
    "out_of_window",
    "missing",
    *(f"missing_{key}" for key, _label in cohort.MISSING_REASONS),
    "value_n",
    "value_mean",
    "value_se",
)


@login_required
@require_GET
def cohort_table_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, flt = _filtered(request)
    if flt is None:
        return _bad_filters(form)
    rows = [
        [
            s.outcome.key,
            s.code,
            _Num(str(s.nominal_months)),
            "value" if s.is_baseline else "change_from_baseline",
            _Num(str(s.n)),
            _num(s.mean),
            _num(s.sd),
            _num(s.median),
            _num(s.q1),
            _num(s.q3),
            _Num(str(s.out_of_window)),
            _Num(str(s.missing_total)),
            *(_Num(str(s.missing.get(key, 0))) for key, _label in cohort.MISSING_REASONS),
            _Num(str(s.value_n)),
            _num(s.value_mean),
            _num(s.value_se),
        ]
        for s in cohort.change_table(flt)
    ]
    return _csv_response(TABLE_HEADER, rows, "cohort-change-from-baseline.csv")


PARTICIPANT_HEADER = (
    "study_id",
    "site",
    "onset_region",
    "baseline_kings_stage",
    "delta_fs",
    "delta_fs_onset_imputed",
    "alsfrs_r_points",
    "alsfrs_r_slope",
    "alsfrs_r_loss_per_month",
    "fvc_points",
    "fvc_slope",
    "end_of_study",
    *(
        f"{code.lower()}_{column}"
        for code, _m in cohort.TIMEPOINTS
        for column in ("months", "alsfrs_r", "fvc", "out_of_window")
    ),
)


@login_required
@require_GET
def cohort_participants_csv(request: AuthenticatedHttpRequest) -> HttpResponse:
    form, flt = _filtered(request)
    if flt is None:
        return _bad_filters(form)
    rows = []
    for s, visits in cohort.participant_slopes(flt):
        cells: list[Any] = [
            s.study_id,
            s.site_code,
            s.onset_region,
            s.baseline_kings,
            _num(s.delta_fs),
            _Num("" if s.delta_fs_imputed is None else str(int(s.delta_fs_imputed))),
            _Num(str(s.alsfrs_points)),
            _num(s.alsfrs_slope),
            _num(s.alsfrs_loss_rate),
            _Num(str(s.fvc_points)),
            _num(s.fvc_slope),
            s.end_outcome,
        ]
        for code, _m in cohort.TIMEPOINTS:
            v = visits.get(code)
            cells += (
                [_num(v.months), _num(v.alsfrs_r), _num(v.fvc), _Num(str(int(v.out_of_window)))]
                if v
                else [_Num("")] * 4
            )
        rows.append(cells)
    return _csv_response(PARTICIPANT_HEADER, rows, "cohort-participants.csv")
