"""The NCT02116634 protocol is data; an inconsistent definition stops the system at start-up."""

from __future__ import annotations

import dataclasses

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from trials.models import Site, Trial
from trials.protocols import PROTOCOLS, get_protocol
from trials.protocols.checks import check_protocols, problems
from trials.protocols.definitions import PlannedDate, ReminderDef, ReminderKind, Window
from trials.protocols.forms import FORM_CATALOGUE

PROTOCOL = get_protocol("NCT02116634")


def _with_visit(target: str, **changes):
    visits = tuple(
        dataclasses.replace(v, **changes) if v.code == target else v for v in PROTOCOL.visits
    )
    return dataclasses.replace(PROTOCOL, visits=visits)


def test_the_trial_protocol_defines_the_registered_schedule():
    assert [v.code for v in PROTOCOL.visits] == ["SCR", "BL", "TX", "M06", "M12", "M18", "M24"]
    assert [v.offset_months for v in PROTOCOL.visits[3:]] == [6, 12, 18, 24]
    assert all(v.window == Window(-28, 28) for v in PROTOCOL.visits[3:])
    assert PROTOCOL.visit("BL").window == Window(-30, 0)
    assert "eligibility" in PROTOCOL.visit("SCR").forms
    assert {"alsfrs_r", "fvc", "emg", "alsaq40"} <= set(PROTOCOL.visit("M12").forms)
    assert PROTOCOL.unscheduled_visits_allowed
    assert problems(PROTOCOL) == []
    assert check_protocols() == []


def test_follow_ups_carry_their_reminder_offsets():
    reminders = {r.kind: r for r in PROTOCOL.visit("M06").reminders}
    assert reminders[ReminderKind.BEFORE_WINDOW] == ReminderDef(
        ReminderKind.BEFORE_WINDOW, PlannedDate.WINDOW_START, offset_days=-14
    )
    assert reminders[ReminderKind.OVERDUE].escalate
    assert (
        reminders[ReminderKind.OVERDUE].relative_to,
        reminders[ReminderKind.OVERDUE].offset_days,
    ) == (
        PlannedDate.WINDOW_END,
        1,
    )
    assert PROTOCOL.visit("BL").reminders == () and PROTOCOL.visit("SCR").reminders == ()


def test_inconsistent_reminders_are_rejected():
    twice = ReminderDef(ReminderKind.TARGET_DATE, PlannedDate.TARGET)
    assert "visit M06: a reminder kind is listed twice" in problems(
        _with_visit("M06", reminders=(twice, twice))
    )
    assert "visit SCR: only a scheduled visit can have reminders" in problems(
        _with_visit("SCR", reminders=(twice,))
    )


def test_definitions_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROTOCOL.visit("M06").offset_months = 7  # type: ignore[misc]


def test_duplicate_visit_codes_are_rejected():
    broken = dataclasses.replace(PROTOCOL, visits=(*PROTOCOL.visits, PROTOCOL.visit("M06")))
    assert "visit code 'M06' is defined 2 times" in problems(broken)


def test_unknown_form_codes_are_rejected():
    broken = _with_visit("M12", forms=("alsfrs_r", "grip_strength"))
    assert "visit M12: unknown form code 'grip_strength'" in problems(broken)
    assert "grip_strength" not in FORM_CATALOGUE


def test_overlapping_follow_up_windows_are_rejected():
    broken = _with_visit("M06", window=Window(-28, 160))
    assert "windows of M06 and M12 overlap" in problems(broken)
    # Two months after M06 with a 35-day window: the windows meet in every year.
    tight = _with_visit("M12", offset_months=8, window=Window(-35, 35))
    assert "windows of M06 and M12 overlap" in problems(tight)
    # The baseline may end on the transplantation day (before the procedure), no earlier visit
    # may reach past it.
    assert problems(_with_visit("BL", window=Window(-30, 0))) == []
    assert "windows of BL and TX overlap" in problems(_with_visit("BL", window=Window(-30, 1)))


def test_the_system_check_refuses_a_broken_registered_protocol(monkeypatch):
    broken = _with_visit("M18", code="M12")
    monkeypatch.setitem(PROTOCOLS, "NCT02116634", broken)
    errors = checks.run_checks()
    assert any(e.id == "trials.E002" and "'M12' is defined 2 times" in e.msg for e in errors)
    with pytest.raises(SystemCheckError):
        call_command("check")


@pytest.mark.django_db
def test_load_protocol_creates_the_trial_and_the_isfahan_site_once():
    call_command("load_protocol")
    call_command("load_protocol")
    trial = Trial.objects.get()
    assert trial.nct_id == "NCT02116634"
    assert trial.protocol_version == PROTOCOL.version
    assert trial.protocol is PROTOCOL
    site = Site.objects.get()
    assert (site.code, site.time_zone) == ("ISF", "Asia/Tehran")
