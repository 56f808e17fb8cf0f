from __future__ import annotations

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


def register(actor, site: Site, trial, *, screened_on: date, name: str = "Test Person"):
    from participants import services

    return services.register_participant(
        actor=actor,
        site=site,
        trial=trial,
        screened_on=screened_on,
        identity={"full_name": name, "national_id": "1234567890", "phone": "+98 31 1234 5678"},
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
        },
    )


def enrol(actor, participant, on: date):
    from participants import services

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
