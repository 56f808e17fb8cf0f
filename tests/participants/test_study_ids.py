"""Study IDs carry a Luhn check digit and are unique even when 50 coordinators enrol at once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections
from hypothesis import given
from hypothesis import strategies as st

from participants.models import Participant, SiteSequence
from participants.study_ids import format_study_id, is_valid_study_id, luhn_check_digit
from tests.factories import SiteFactory, enrol, member, register, screen_eligible
from trials import services
from trials.models import Role
from trials.protocols import PROTOCOLS


def test_luhn_check_digit_of_published_examples():
    assert luhn_check_digit("7992739871") == 3  # the textbook example
    assert luhn_check_digit("0001") == 8
    assert format_study_id("ISF", 1) == "ISF-0001-8"
    assert format_study_id("ISF", 12) == "ISF-0012-5"
    assert format_study_id("ISF", 12345) == "ISF-12345-5"


def test_validation_rejects_typos_and_wrong_sites():
    assert is_valid_study_id("ISF-0001-8")
    assert is_valid_study_id("ISF-0001-8", site_code="ISF")
    assert not is_valid_study_id("ISF-0001-8", site_code="THR")
    assert not is_valid_study_id("ISF-0001-7")
    assert not is_valid_study_id("ISF-0010-8")  # one digit changed
    assert not is_valid_study_id("ISF-0000-0")
    assert not is_valid_study_id("isf-0001-8")
    assert not is_valid_study_id("ISF-001-8")
    assert not is_valid_study_id("")


@given(st.integers(1, 9999), st.integers(0, 3), st.integers(1, 9))
def test_every_single_digit_typo_is_caught(number, position, shift):
    study_id = format_study_id("ISF", number)
    digits = list(f"{number:04d}")
    digits[position] = str((int(digits[position]) + shift) % 10)
    typo = f"ISF-{''.join(digits)}-{study_id[-1]}"
    assert not is_valid_study_id(typo)


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_enrolments_get_fifty_distinct_ids():
    site = SiteFactory(code="ISF")
    trial = services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    coordinator = member(Role.COORDINATOR, site, "busy")
    screened = [
        register(coordinator, site, trial, screened_on=date(2026, 1, 5), name=f"P{i}")
        for i in range(50)
    ]
    for participant in screened:  # consent and eligibility first: only enrolment races
        screen_eligible(coordinator, participant)
    barrier = threading.Barrier(50)
    failures: list[BaseException] = []

    def enrol_one(participant):
        try:
            barrier.wait(timeout=30)
            enrol(coordinator, participant, date(2026, 1, 20))
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=enrol_one, args=(p,)) for p in screened]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    ids = list(Participant.objects.values_list("study_id", flat=True))
    assert len(set(ids)) == 50
    assert all(is_valid_study_id(i, site_code="ISF") for i in ids)
    assert sorted(int(i.split("-")[1]) for i in ids) == list(range(1, 51))
    assert SiteSequence.objects.get(site=site, kind="study_id").last_value == 50
    assert connection.vendor == "postgresql"
