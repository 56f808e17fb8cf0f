from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from trials.models import Membership, Role, Site

PASSWORD = "correct-horse-battery-staple"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Site {o.code}")
    country = "Iran"
    time_zone = "Asia/Tehran"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)
    role = Role.COORDINATOR


def member(role: str, site: Site, username: str | None = None):
    """A user holding `role` at `site`."""
    user = UserFactory(**({"username": username} if username else {}))
    MembershipFactory(user=user, site=site, role=role)
    return user


# --- Participants, through the services (never by writing rows directly).
TX_DATA = {
    "route": "both",
    "injection_level": "L3-L4",
    "cell_dose": 100_000_000,
    "viability_percent": Decimal("95.0"),
    "volume_ml": Decimal("10.0"),
    "cell_lot": "LOT-1",
    "needle_type": "atraumatic",
    "needle_gauge": 25,
    "operator": "Dr. Operator",
    "immediate_complications": "",
}


_NATIONAL_IDS = itertools.count(1)


def register(
    actor,
    site: Site,
    trial,
    *,
    screened_on: date,
    name: str = "Test Person",
    national_id: str | None = None,
    **history,
):
    """Register through the service; `history` overrides ALS history fields. Each person gets
    a national ID of their own unless one is given (a trial refuses one registered twice),
    all starting 1234567890 so that a test can look for it in what must not show it."""
    from participants import services

    if national_id is None:
        national_id = f"1234567890-{next(_NATIONAL_IDS)}"

    return services.register_participant(
        actor=actor,
        site=site,
        trial=trial,
        screened_on=screened_on,
        identity={"full_name": name, "national_id": national_id, "phone": "+98 31 1234 5678"},
        demographics={
            "date_of_birth": date(1970, 1, 15),
            "sex": "female",
            "height_cm": Decimal("165.0"),
            "weight_kg": Decimal("60.0"),
            "ethnicity": "iranian",
        },
        als_history={
            "onset_date": date(screened_on.year - 1, 3, 1),
            "onset_precision": "month",
            "onset_region": "lower_limb",
            "diagnosis_date": screened_on - timedelta(days=30),
            "el_escorial": "probable",
            "family_history": "no",
            "riluzole": True,
            "edaravone": False,
        }
        | history,
    )


CONSENT_VERSION = "1.0"
CONSENT_VERSION_START = date(2014, 1, 1)


def consent_version(trial):
    """The trial's consent form version 1.0 (created once, in use since 2014)."""
    from participants import services
    from participants.models import ConsentVersion

    existing = ConsentVersion.objects.filter(trial=trial, version=CONSENT_VERSION).first()
    return existing or services.add_consent_version(
        trial=trial,
        version=CONSENT_VERSION,
        approval_date=CONSENT_VERSION_START,
        active_from=CONSENT_VERSION_START,
    )


def consent(actor, participant, on: date | None = None):
    """Record the signed consent of the version in use on `on` (default: the screening date)."""
    from participants import services

    on = on or participant.screened_on
    version = services.current_consent_version(participant.trial, on) or consent_version(
        participant.trial
    )
    return services.record_consent(
        actor=actor, participant=participant, version=version, signed_on=on, taken_by=actor
    )


ALSFRS_NORMAL = {
    "q1_speech": 4,
    "q2_salivation": 4,
    "q3_swallowing": 4,
    "q4_handwriting": 4,
    "q5a_cutting_no_gastrostomy": 4,
    "q6_dressing_hygiene": 4,
    "q7_turning_in_bed": 4,
    "q8_walking": 4,
    "q9_climbing_stairs": 4,
    "q10_dyspnoea": 4,
    "q11_orthopnoea": 4,
    "q12_respiratory_insufficiency": 4,
}
EXCLUSIONS_ABSENT = {
    "ex_pregnancy_lactation": False,
    "ex_vascular_disease": False,
    "ex_diabetes": False,
    "ex_systemic_disease": False,
    "ex_recent_hospitalisation": False,
    "ex_short_survival": False,
    "ex_cell_culture_hypersensitivity": False,
}


def checklist_answers(participant, **changes) -> dict:
    """Checklist answers that pass every recorded criterion, with `changes` applied."""
    return {
        "el_escorial": "probable",
        "progression_6_months": True,
        "polysomnography_date": participant.screened_on,
        "polysomnography_result": "normal",
        **EXCLUSIONS_ABSENT,
    } | changes


def save_crf(actor, visit, model, answers: dict, *, complete: bool = True, reason: str = ""):
    """Save a form through the entry service (the version is read from the database)."""
    from crfs.entry import save_form

    current = model.objects.filter(visit=visit).values_list("version", flat=True).first()
    return save_form(
        record_class=model,
        visit=visit,
        user=actor,
        answers=answers,
        expected_version=current or 0,
        complete=complete,
        reason=reason,
    )


# The screening spirometry of a registered person (tests.factories.register: female,
# 165.0 cm, born 1970): best acceptable blow 2.65 L, repeatable (2.65 - 2.61 <= 0.150 L),
# about 82 % predicted by GLI Global 2022 at any screening date of the tests.
SCREENING_FVC = {
    "measure": "FVC",
    "position": "sitting",
    "trial_1_litres": Decimal("2.58"),
    "trial_1_acceptable": True,
    "trial_2_litres": Decimal("2.65"),
    "trial_2_acceptable": True,
    "trial_3_litres": Decimal("2.61"),
    "trial_3_acceptable": True,
}


def screening_forms(
    actor, participant, *, alsfrs: dict | None = None, fvc: dict | None = SCREENING_FVC, **checklist
):
    """The screening ALSFRS-R, FVC (unless `fvc` is None) and eligibility checklist, through
    the entry service (consent must be recorded). Returns the checklist."""
    from crfs.alsfrs_r.models import AlsfrsR
    from crfs.eligibility.models import Eligibility
    from crfs.fvc.models import Fvc

    scr = participant.visits.get(code="SCR")
    save_crf(actor, scr, AlsfrsR, ALSFRS_NORMAL | (alsfrs or {}))
    if fvc is not None:
        save_crf(actor, scr, Fvc, fvc)
    return save_crf(actor, scr, Eligibility, checklist_answers(participant, **checklist))


def investigator_of(site):
    """The site's investigator (made once): signs eligibility overrides in override tests."""
    user = UserFactory(username=f"investigator_{site.code.lower()}")
    Membership.objects.get_or_create(user=user, site=site, role=Role.INVESTIGATOR)
    return user


def screen_eligible(actor, participant):
    """Consent, then the screening ALSFRS-R, FVC and checklist of a person who meets every
    criterion: eligible on the checklist itself, with no override and no investigator."""
    from crfs.eligibility.scoring import Decision

    if not participant.consents.exists():
        consent(actor, participant)
    record = screening_forms(actor, participant)
    assert record.decision == Decision.ELIGIBLE, (record.failed_criteria, record.unknown_criteria)
    return record


def enrol(actor, participant, on: date):
    """Enrol through the service; a participant in screening is screened eligible first."""
    from crfs.eligibility.selectors import screening_checklist
    from participants import services

    if participant.status == "screening" and screening_checklist(participant) is None:
        screen_eligible(actor, participant)
    return services.enrol_participant(actor=actor, participant=participant, enrolled_on=on)


def transplant(actor, participant, on: date, at: time = time(10, 0), **data):
    from visits.transplantation import record_transplantation

    return record_transplantation(
        actor=actor,
        participant=participant,
        performed_at=datetime.combine(on, at, tzinfo=participant.site.zone),
        data=TX_DATA | data,
    )


def transplanted_participant(actor, site: Site, trial, *, on: date, name: str = "Test Person"):
    """Registered 40 days, enrolled 35 days before `on`, baseline 7 days before, transplanted."""
    from visits.services import record_visit_date

    participant = register(actor, site, trial, screened_on=on - timedelta(days=40), name=name)
    participant = enrol(actor, participant, on - timedelta(days=35))
    baseline = participant.visits.get(code="BL")
    record_visit_date(actor=actor, visit=baseline, actual_date=on - timedelta(days=7))
    transplant(actor, participant, on)
    participant.refresh_from_db()
    return participant


# --- Two-factor sign-in (django-otp): an authenticator app and the code it would show now.
def with_authenticator(user):
    """A confirmed authenticator (TOTP) for `user`, as after enrolment."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def authenticator_code(device, *, steps_ahead: int = 0) -> str:
    """The code the app shows now (or `steps_ahead` 30-second steps later: a code is accepted
    once, so a second check in the same step needs the next one)."""
    import time as _time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = _time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def home_work(html: str, site_code: str) -> dict[str, int]:
    """{label: count} of the 'Your work' list of a site card on the home page."""
    import re

    block = re.search(rf'data-testid="work-{site_code}">(.*?)</div>', html, re.S)
    if block is None:
        return {}
    items = re.findall(
        r"</i> ([^<]+?)(?:<span.*?)?</span>\s*<span[^>]*data-count=\"(\d+)\"", block.group(1), re.S
    )
    return {label.strip(): int(count) for label, count in items}


# A mild, complete, non-serious adverse event: the one most tests report and then change.
HEADACHE = {
    "verbatim_term": "Headache",
    "term_code": "post_lp_headache",
    "onset_date": date(2025, 8, 2),
    "onset_precision": "day",
    "end_date": date(2025, 8, 5),
    "end_precision": "day",
    "ongoing": False,
    "grade": 1,
    "serious": False,
    "related_procedure": "probable",
    "related_cells": "not",
    "action": "medication",
    "outcome": "recovered",
    "treatment": "",
}


def report_adverse_event(actor, visit, **changes):
    """An adverse event saved through the service (complete), `changes` applied to HEADACHE."""
    from safety.services import save_adverse_event

    return save_adverse_event(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        event_id=None,
        answers=HEADACHE | changes,
        expected_version=0,
        complete=True,
    )
