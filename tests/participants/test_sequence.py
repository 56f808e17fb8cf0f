"""Per-site sequences: one statement per number, consecutive, never reused, never skipped.

The concurrent cases run real transactions in threads (each with its own connection).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from participants.models import SiteSequence
from participants.models.sequence import SequenceKind
from tests.factories import SiteFactory

SCREENING, STUDY_ID = SequenceKind.SCREENING, SequenceKind.STUDY_ID


def test_each_number_is_one_statement_and_the_row_is_made_on_first_use(
    db, django_assert_num_queries
):
    site, other = SiteFactory(code="ISF"), SiteFactory(code="THR")
    with transaction.atomic():
        with django_assert_num_queries(1):
            assert SiteSequence.objects.next_value(site, SCREENING) == 1
        with django_assert_num_queries(1):
            assert SiteSequence.objects.next_value(site, SCREENING) == 2
        assert SiteSequence.objects.next_value(site, STUDY_ID) == 1
        assert SiteSequence.objects.next_value(other, SCREENING) == 1
        assert SiteSequence.objects.next_value(site, SCREENING) == 3
    last = dict(SiteSequence.objects.filter(site=site).values_list("kind", "last_value"))
    assert last == {SCREENING: 3, STUDY_ID: 1}


def test_a_rolled_back_number_is_given_back(db):
    site = SiteFactory(code="ISF")
    with transaction.atomic():
        assert SiteSequence.objects.next_value(site, SCREENING) == 1
    with pytest.raises(ValueError), transaction.atomic():
        assert SiteSequence.objects.next_value(site, SCREENING) == 2
        raise ValueError("the caller fails after drawing its number")
    with transaction.atomic():
        assert SiteSequence.objects.next_value(site, SCREENING) == 2


@pytest.mark.django_db(transaction=True)
def test_a_number_is_drawn_only_inside_the_callers_transaction():
    site = SiteFactory(code="ISF")
    with pytest.raises(RuntimeError):
        SiteSequence.objects.next_value(site, SCREENING)
    assert not SiteSequence.objects.exists()


def _in_thread(target, *args):
    """Run `target` in a thread with its own connection; its result or error in `box`."""
    box: dict = {}

    def run():
        try:
            box["value"] = target(*args)
        except BaseException as error:
            box["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


@pytest.mark.django_db(transaction=True)
def test_a_second_caller_waits_for_the_first_and_takes_back_a_rolled_back_number():
    site = SiteFactory(code="ISF")
    drawn, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            number = SiteSequence.objects.next_value(site, SCREENING)
            drawn.set()
            release.wait(timeout=30)
            transaction.set_rollback(True)  # e.g. the registration failed its checks
        return number

    def second():
        with transaction.atomic():
            return SiteSequence.objects.next_value(site, SCREENING)

    first_thread, first_box = _in_thread(first)
    assert drawn.wait(timeout=30)
    second_thread, second_box = _in_thread(second)
    second_thread.join(timeout=0.5)
    assert second_thread.is_alive(), "the second caller must queue on the sequence row"
    release.set()
    first_thread.join(timeout=30)
    second_thread.join(timeout=30)

    assert "error" not in first_box and "error" not in second_box
    assert first_box["value"] == 1
    assert second_box["value"] == 1  # given back by the rollback: no gap
    assert SiteSequence.objects.get(site=site, kind=SCREENING).last_value == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_callers_get_consecutive_numbers_once_each():
    site = SiteFactory(code="ISF")
    callers = 20
    barrier = threading.Barrier(callers)

    def draw():
        barrier.wait(timeout=30)
        with transaction.atomic():
            return SiteSequence.objects.next_value(site, STUDY_ID)

    started = [_in_thread(draw) for _ in range(callers)]
    for thread, _box in started:
        thread.join(timeout=60)

    assert [box.get("error") for _thread, box in started] == [None] * callers
    assert sorted(box["value"] for _thread, box in started) == list(range(1, callers + 1))
    assert SiteSequence.objects.get(site=site, kind=STUDY_ID).last_value == callers
