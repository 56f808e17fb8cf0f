"""Demo participants at the Isfahan site in different states, made through the services.

Idempotent: a demo participant is recognised by its (fictitious) name and skipped if present.
Dates are relative to the site's today so the demo always shows live statuses
(one participant transplanted ~7 months ago, so M06 is overdue). The transplanted
participants' reminders are already due (M06 overdue, M12 target date), so the
`make run` worker sends them at its first scan: console e-mails and in-app notifications.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from participants import services as participant_services
from participants.choices import ParticipantStatus
from participants.models import Participant
from trials.models import Site, Trial
from visits import services as visit_services
from visits import transplantation
from visits.reminders import services as reminders
from visits.schedule import add_months

TX_DATA = {
    "route": "both",
    "injection_level": "L3-L4",
    "cell_dose": 100_000_000,
    "viability_percent": Decimal("94.5"),
    "volume_ml": Decimal("10.0"),
    "cell_lot": "MSC-DEMO-001",
    "needle_type": "atraumatic",
    "needle_gauge": 25,
    "operator": "Dr. Demo",
    "immediate_complications": "",
}


def _register(actor, site: Site, trial: Trial, name: str, screened_on: date) -> Participant:
    return participant_services.register_participant(
        actor=actor,
        site=site,
        trial=trial,
        screened_on=screened_on,
        identity={"full_name": name, "national_id": "0000000000", "phone": "+98 31 0000 0000"},
        demographics={
            "date_of_birth": date(1968, 5, 14),
            "sex": "male",
            "height_cm": Decimal("172.0"),
            "weight_kg": Decimal("70.5"),
            "ethnicity": "iranian",
        },
        als_history={
            "onset_date": date(screened_on.year - 1, 1, 1),
            "onset_precision": "year",
            "onset_region": "upper_limb",
            "diagnosis_date": screened_on - timedelta(days=60),
            "el_escorial": "probable",
            "family_history": "no",
            "riluzole": True,
            "edaravone": False,
        },
    )


def _transplant(actor, participant: Participant, on: date) -> None:
    baseline = participant.visits.get(code="BL")
    visit_services.record_visit_date(actor=actor, visit=baseline, actual_date=on - timedelta(7))
    transplantation.record_transplantation(
        actor=actor,
        participant=participant,
        performed_at=datetime.combine(on, time(9, 30), tzinfo=participant.site.zone),
        data=TX_DATA,
    )


def _scenarios(today: date):
    """(name, screened_on, steps) — each step a callable(actor, participant)."""
    tx_7m = add_months(today, -7) - timedelta(days=10)
    tx_12m = add_months(today, -12) - timedelta(days=5)
    tx_3m = add_months(today, -3)

    def enrol(days_ago):
        return lambda a, p: participant_services.enrol_participant(
            actor=a, participant=p, enrolled_on=today - timedelta(days_ago)
        )

    def transplant(on):
        return lambda a, p: _transplant(a, p, on)

    def exit_(status, days_ago, reason):
        return lambda a, p: participant_services.change_status(
            actor=a,
            participant=p,
            to_status=status,
            effective_date=today - timedelta(days_ago),
            reason=reason,
        )

    def m06_done(a, p):
        m06 = p.visits.get(code="M06")
        visit_services.record_visit_date(actor=a, visit=m06, actual_date=m06.target_date)

    return [
        ("Demo Screening Ahmadi", today - timedelta(5), []),
        (
            "Demo ScreenFail Karimi",
            today - timedelta(40),
            [exit_(ParticipantStatus.SCREEN_FAILED, 30, "FVC below 50 % of predicted")],
        ),
        ("Demo Enrolled Rahimi", today - timedelta(30), [enrol(20)]),
        (
            "Demo Overdue Hosseini",
            tx_7m - timedelta(40),
            [enrol((today - tx_7m).days + 30), transplant(tx_7m)],
        ),
        (
            "Demo Month12 Moradi",
            tx_12m - timedelta(40),
            [enrol((today - tx_12m).days + 30), transplant(tx_12m), m06_done],
        ),
        (
            "Demo Withdrawn Jafari",
            tx_3m - timedelta(40),
            [
                enrol((today - tx_3m).days + 30),
                transplant(tx_3m),
                exit_(ParticipantStatus.WITHDRAWN, 10, "Moved abroad"),
            ],
        ),
    ]


def load_demo_participants(*, actor, site: Site, trial: Trial) -> list[Participant]:
    made = []
    existing = set(
        Participant.objects.filter(site=site).values_list("identity__full_name", flat=True)
    )
    for name, screened_on, steps in _scenarios(site.local_today()):
        if name in existing:
            continue
        participant = _register(actor, site, trial, name, screened_on)
        for step in steps:
            participant.refresh_from_db()
            step(actor, participant)
        made.append(participant)
    # Demo data made before reminders existed gets its reminders too (idempotent).
    reminders.sync_all(participants=Participant.objects.filter(site=site).order_by("pk"))
    return made
