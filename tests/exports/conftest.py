"""A small study for the export tests: two sites, identified people, ALSFRS-R records."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest

from crfs import registry
from crfs.alsfrs_r.models import FIELD_BY_CODE, AlsfrsR
from crfs.entry import save_form
from exports.options import PARTICIPANTS_TABLE, ExportOptions
from exports.tables import visit_codelist
from participants.choices import ParticipantStatus
from tests.factories import enrol, member, transplant
from trials.models import Role
from visits.services import record_visit_date

TX_DAY = date(2025, 8, 1)
ALL_FOURS = {name: 4 for code, name in FIELD_BY_CODE.items() if code != "5b"}

PEOPLE = [
    # (site fixture, full name, national ID, phone, e-mail, address)
    ("a", "Maryam Haghighi", "ISF77001", "+98 31 5550 1001", "maryam@example.org", "12 Chaharbagh"),
    ("a", "Reza Karimzadeh", "ISF77002", "+98 31 5550 1002", "reza@example.org", "7 Hasht Behesht"),
    (
        "b",
        "Leila Tavakoli",
        "THR88003",
        "+98 21 5550 1003",
        "leila@example.org",
        "3 Valiasr Street",
    ),
]


@dataclass
class Study:
    site_a: object
    site_b: object
    investigator_a: object
    investigator_b: object
    participants: list = field(default_factory=list)
    identities: list[dict] = field(default_factory=list)
    records: list = field(default_factory=list)


def _register(actor, site, trial, *, screened_on, identity):
    from participants import services

    return services.register_participant(
        actor=actor,
        site=site,
        trial=trial,
        screened_on=screened_on,
        identity=identity,
        demographics={
            "date_of_birth": date(1968, 5, 17),
            "sex": "male",
            "height_cm": Decimal("172.5"),
            "weight_kg": Decimal("70.0"),
            "ethnicity": "iranian",
        },
        als_history={
            "onset_date": date(screened_on.year - 1, 3, 1),
            "onset_precision": "month",
            "onset_region": "upper_limb",  # spinal onset: enrolment checks eligibility
            "diagnosis_date": screened_on - timedelta(days=30),
            "el_escorial": "probable",
            "family_history": "no",
            "riluzole": True,
            "edaravone": False,
        },
    )


def _transplanted(actor, site, trial, identity):
    participant = _register(
        actor, site, trial, screened_on=TX_DAY - timedelta(days=40), identity=identity
    )
    participant = enrol(actor, participant, TX_DAY - timedelta(days=35))
    baseline = participant.visits.get(code="BL")
    record_visit_date(actor=actor, visit=baseline, actual_date=TX_DAY - timedelta(days=7))
    transplant(actor, participant, TX_DAY, immediate_complications="Headache after the puncture")
    participant.refresh_from_db()
    return participant


def enter_alsfrs(actor, visit, answers, *, complete, missing=None):
    record = AlsfrsR.objects.filter(visit=visit).first()
    return save_form(
        record_class=AlsfrsR,
        visit=visit,
        user=actor,
        answers=answers,
        missing_reasons=missing or {},
        expected_version=record.version if record else 0,
        complete=complete,
        reason="correction" if record and record.status != "in_progress" else "",
    )


@pytest.fixture
def study(frozen, site_a, site_b, trial) -> Study:
    inv_a = member(Role.INVESTIGATOR, site_a, "inv_a")
    inv_b = member(Role.INVESTIGATOR, site_b, "inv_b")
    s = Study(site_a=site_a, site_b=site_b, investigator_a=inv_a, investigator_b=inv_b)
    for index, (which, name, national_id, phone, email, address) in enumerate(PEOPLE):
        site, actor = (site_a, inv_a) if which == "a" else (site_b, inv_b)
        identity = {
            "full_name": name,
            "national_id": national_id,
            "phone": phone,
            "email": email,
            "address": address,
        }
        participant = _transplanted(actor, site, trial, identity)
        s.participants.append(participant)
        s.identities.append(identity)
        baseline = participant.visits.get(code="BL")
        s.records.append(
            enter_alsfrs(
                actor,
                baseline,
                ALL_FOURS | {"q1_speech": 3, "q9_climbing_stairs": None},
                complete=True,
                missing={"q9_climbing_stairs": "not_done"},
            )
        )
        m06 = participant.visits.get(code="M06")
        m06 = record_visit_date(  # dated first: no form is saved at an undated visit
            actor=actor,
            visit=m06,
            actual_date=m06.target_date + timedelta(days=(-30, -5, 20)[index]),
        )
        s.records.append(
            enter_alsfrs(actor, m06, {"q1_speech": 2, "q2_salivation": 3}, complete=False)
        )
    return s


def all_options(study: Study, **overrides) -> ExportOptions:
    values = {
        "forms": (PARTICIPANTS_TABLE, *registry.entry_forms()),
        "visits": tuple(code for code, _l in visit_codelist().items),
        "site_ids": (study.site_a.pk, study.site_b.pk),
        "statuses": tuple(ParticipantStatus.values),
    }
    values.update(overrides)
    return ExportOptions(**values)


def read_zip(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(path) -> dict:
    return json.loads(read_zip(path)["manifest.json"])


def csv_table(content: bytes) -> list[dict[str, str]]:
    import csv

    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def export(study: Study, folder, name="bundle.zip", **overrides):
    """Build a bundle for `study` with all forms, visits, sites and statuses (overridable)."""
    from exports.bundle import build_bundle

    path = folder / name
    result = build_bundle(all_options(study, **overrides), path, requested_by="tester")
    return read_zip(path), result
