"""NCT02116634: autologous bone-marrow MSC in ALS, Isfahan (phase 1, single group).

Screening → baseline (the 30 days up to the transplantation day) → transplantation
(day 0) → months 6, 12, 18 and 24 after transplantation, each target ± 28 days.
Follow-up targets are calendar months after the transplantation date, clamped
to the month end (31 Aug + 6 months = 28/29 Feb).
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from trials.protocols.definitions import (
    Anchor,
    CreatedOn,
    PlannedDate,
    Protocol,
    ReminderDef,
    ReminderKind,
    VisitDef,
    VisitKind,
    Window,
)

OUTCOMES = ("alsfrs_r", "fvc", "emg", "alsaq40", "seiqol", "vitals")
SAFETY = ("adverse_events", "conmeds")
FOLLOW_UP_WINDOW = Window(start_days=-28, end_days=28)
# Coordinators hear of each follow-up 14 days before its window opens, when it opens and on
# the target date; the day after the window closes without a visit, investigators hear too.
FOLLOW_UP_REMINDERS = (
    ReminderDef(ReminderKind.BEFORE_WINDOW, PlannedDate.WINDOW_START, offset_days=-14),
    ReminderDef(ReminderKind.WINDOW_OPENS, PlannedDate.WINDOW_START),
    ReminderDef(ReminderKind.TARGET_DATE, PlannedDate.TARGET),
    ReminderDef(ReminderKind.OVERDUE, PlannedDate.WINDOW_END, offset_days=1, escalate=True),
)


def _follow_up(months: int) -> VisitDef:
    return VisitDef(
        code=f"M{months:02d}",
        label=format_lazy(_("Month {months}"), months=months),
        kind=VisitKind.FOLLOW_UP,
        created_on=CreatedOn.TRANSPLANTATION,
        anchor=Anchor.TRANSPLANTATION,
        offset_months=months,
        window=FOLLOW_UP_WINDOW,
        reminders=FOLLOW_UP_REMINDERS,
        forms=(*OUTCOMES, *SAFETY),
    )


PROTOCOL = Protocol(
    nct_id="NCT02116634",
    title=(
        "Safety and efficacy of autologous bone marrow derived mesenchymal stem cell "
        "transplantation in amyotrophic lateral sclerosis"
    ),
    phase="Phase 1",
    sponsor="Alzahra Hospital",
    version="1.0",
    visits=(
        VisitDef(
            code="SCR",
            label=_("Screening"),
            kind=VisitKind.SCREENING,
            created_on=CreatedOn.REGISTRATION,
            forms=(
                "eligibility",
                "consent",
                "demographics",
                "als_history",
                "alsfrs_r",
                "fvc",
                "vitals",
            ),
        ),
        VisitDef(
            code="BL",
            label=_("Baseline"),
            kind=VisitKind.BASELINE,
            created_on=CreatedOn.ENROLMENT,
            # Target is day 0; the window is the 30 days up to it (day -30 … day 0), so the
            # target lies in its window and a baseline examined on the morning of the
            # transplantation, before the procedure, is in time.
            anchor=Anchor.TRANSPLANTATION,
            window=Window(start_days=-30, end_days=0),
            forms=(*OUTCOMES, "conmeds"),
        ),
        VisitDef(
            code="TX",
            label=_("Transplantation"),
            kind=VisitKind.PROCEDURE,
            created_on=CreatedOn.TRANSPLANTATION,
            anchor=Anchor.TRANSPLANTATION,
            window=Window(start_days=0, end_days=0),
            forms=("transplantation", "vitals", *SAFETY),
        ),
        _follow_up(6),
        _follow_up(12),
        _follow_up(18),
        _follow_up(24),
    ),
    unscheduled_visits_allowed=True,
    unscheduled_forms=("vitals", "alsfrs_r", "fvc", *SAFETY),
)

# The trial's site (load_protocol creates it).
ISFAHAN = {
    "code": "ISF",
    "name": "Neurosciences Research Center, Isfahan",
    "country": "Iran",
    "time_zone": "Asia/Tehran",
}
