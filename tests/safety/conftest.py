from __future__ import annotations

import pytest

from tests.factories import investigator_of, member, report_adverse_event
from trials.models import Role


@pytest.fixture
def investigator_a(site_a):
    return investigator_of(site_a)


@pytest.fixture
def data_manager_a(site_a):
    return member(Role.DATA_MANAGER, site_a, "dm_a")


def ae_post(visit, *, version: int = 0, complete: bool = True, **changes) -> dict[str, str]:
    """A complete, non-serious post-LP headache reported at `visit`, as the page posts it;
    `changes` replace fields (None leaves one out, as an unticked box or empty field)."""
    data = {
        "visit": str(visit.pk),
        "verbatim_term": "Headache when standing up after the injection",
        "term_code": "post_lp_headache",
        "onset_date": "2025-08-02",
        "end_date": "2025-08-05",
        "grade": "2",
        "serious": "false",
        "related_procedure": "probable",
        "related_cells": "unlikely",
        "action": "medication",
        "outcome": "recovered",
        "treatment": "Paracetamol, rest",
        "version": str(version),
        "mark_complete": "on" if complete else None,
        "reason_for_change": "",
    } | changes
    return {k: v for k, v in data.items() if v is not None}


def serious_post(visit, **changes) -> dict[str, str]:
    """A serious meningitis needing hospital, ongoing, at `visit`."""
    return ae_post(
        visit,
        verbatim_term="Bacterial meningitis",
        term_code="meningitis",
        onset_date="2026-01-20",
        end_date=None,
        ongoing="on",
        grade="3",
        serious="true",
        sae_hospitalisation="on",
        related_procedure="possible",
        related_cells="unlikely",
        action="hospitalisation",
        outcome="recovering",
        treatment="IV antibiotics",
    ) | {k: v for k, v in changes.items() if v is not None}


def conmed_post(visit, *, version: int = 0, complete: bool = True, **changes) -> dict[str, str]:
    data = {
        "visit": str(visit.pk),
        "medication": "riluzole",
        "other_name": "",
        "indication": "ALS",
        "dose": "50",
        "dose_unit": "mg",
        "route": "oral",
        "frequency": "bid",
        "start_date": "2025-03",
        "stop_date": "",
        "ongoing": "on",
        "version": str(version),
        "mark_complete": "on" if complete else None,
        "reason_for_change": "",
    } | changes
    return {k: v for k, v in data.items() if v is not None}


# One definition, in the factories; kept importable from here for the safety tests.
report = report_adverse_event
