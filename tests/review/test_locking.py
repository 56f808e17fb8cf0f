"""A data manager locks a record, a visit, a participant or a site; locked data changes
through no path (service, page, admin, command, re-derivation, a raw save) until unlocked
with a reason."""

from __future__ import annotations

from decimal import Decimal

import pghistory.models
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from review import services
from review.models import Lock, Scope
from tests.factories import ALSFRS_NORMAL, SCREENING_FVC, save_crf
from tests.review.conftest import record_type
from trials.locking import RecordLocked
from visits.services import refresh_statuses

pytestmark = pytest.mark.django_db


def lock_participant(dm, participant, reason="interim analysis"):
    return services.lock(
        actor=dm,
        target=services.Target(
            scope=Scope.PARTICIPANT, site=participant.site, participant=participant
        ),
        reason=reason,
    )


def test_a_locked_participant_takes_no_form_save_and_unlocks_with_a_reason(
    coordinator_a, data_manager_a, m06
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    lock = lock_participant(data_manager_a, m06.participant)
    with pytest.raises(ValidationError, match="locked"):
        save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q1_speech": 3}, reason="typo")
    # A form not yet started at the locked participant's visit cannot be added either.
    with pytest.raises(ValidationError, match="locked"):
        save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    assert AlsfrsR.objects.get(pk=record.pk).q1_speech == 4

    with pytest.raises(ValidationError):
        services.unlock(actor=data_manager_a, lock=lock, reason="  ")
    services.unlock(actor=data_manager_a, lock=lock, reason="interim analysis done")
    saved = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q1_speech": 3}, reason="typo")
    assert saved.q1_speech == 3
    events = pghistory.models.Events.objects.filter(pgh_model="review.LockEvent").order_by("pgh_id")
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert [e.pgh_context["reason"] for e in events] == [
        "lock: interim analysis",
        "unlock: interim analysis done",
    ]


def test_only_a_data_manager_locks(monitor_a, coordinator_a, m06):
    target = services.Target(
        scope=Scope.PARTICIPANT, site=m06.participant.site, participant=m06.participant
    )
    for user in (monitor_a, coordinator_a):
        with pytest.raises(PermissionDenied):
            services.lock(actor=user, target=target, reason="no")
    assert not Lock.objects.exists()


def test_a_raw_save_or_delete_of_locked_data_is_refused(coordinator_a, data_manager_a, m06):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    lock_participant(data_manager_a, participant)
    record = AlsfrsR.objects.get(pk=record.pk)
    assert record.is_locked
    record.q1_speech = 1
    with pytest.raises(RecordLocked):
        record.save()
    with pytest.raises(RecordLocked):
        record.delete()
    with pytest.raises(PermissionDenied):  # what Django and DRF answer with 403
        m06.save()
    demographics = participant.demographics
    demographics.weight_kg = Decimal("71.0")
    with pytest.raises(RecordLocked):
        demographics.save()
    with pytest.raises(RecordLocked):
        participant.als_history.save()


def test_a_visit_lock_covers_its_date_and_its_forms_but_not_the_other_visits(
    coordinator_a, data_manager_a, m06
):
    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    visit_type = record_type("visit")
    services.lock(
        actor=data_manager_a,
        target=services.Target(
            scope=Scope.VISIT,
            site=m06.participant.site,
            participant=m06.participant,
            record_type=visit_type,
            record=m06,
        ),
        reason="visit monitored",
    )
    with pytest.raises(ValidationError, match="locked"):
        save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q1_speech": 2}, reason="x")
    m06.actual_date = m06.actual_date.replace(day=1)
    with pytest.raises(RecordLocked):
        m06.save()
    # Another visit of the same participant is open.
    m12 = m06.participant.visits.get(code="M12")
    m12.missed_reason = "moved away"
    m12.status = "missed"
    m12.save()


def test_time_still_moves_a_locked_open_visits_status(frozen, time_machine, data_manager_a, m06):
    m12 = m06.participant.visits.get(code="M12")
    services.lock(
        actor=data_manager_a,
        target=services.Target(
            scope=Scope.VISIT,
            site=m12.participant.site,
            participant=m12.participant,
            record_type=record_type("visit"),
            record=m12,
        ),
        reason="frozen",
    )
    time_machine.move_to(m12.window_end.isoformat() + "T23:00:00+00:00", tick=False)
    time_machine.shift(86400 * 3)
    assert refresh_statuses() >= 1
    m12.refresh_from_db()
    assert m12.status == "overdue"


def test_a_site_lock_covers_every_participant_of_the_site_only(
    coordinator_a, coordinator_b, data_manager_a, site_b, trial, m06
):
    from tests.conftest import TX_DAY
    from tests.factories import transplanted_participant

    other = transplanted_participant(coordinator_b, site_b, trial, on=TX_DAY)
    services.lock(
        actor=data_manager_a,
        target=services.Target(scope=Scope.SITE, site=m06.participant.site),
        reason="database lock for the interim analysis",
    )
    with pytest.raises(ValidationError, match="locked"):
        save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    baseline = other.visits.get(code="BL")
    save_crf(coordinator_b, baseline, AlsfrsR, ALSFRS_NORMAL)  # the other site is open


def test_re_derivation_leaves_locked_forms_alone_and_reports_them(
    coordinator_a, data_manager_a, m06, trial
):
    from crfs.rederive import rederive_trial_spirometry

    record = save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    lock_participant(data_manager_a, m06.participant)
    trial.spirometry_equation = "GLI-2012"
    trial.save()
    result = rederive_trial_spirometry(trial, actor=data_manager_a)
    assert record.pk in [r.pk for r in result.locked] and result.changed == []
    assert Fvc.objects.get(pk=record.pk).equation == record.equation


def test_a_management_command_cannot_change_locked_data(coordinator_a, data_manager_a, m06):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    lock_participant(data_manager_a, m06.participant)
    script = (
        "from crfs.alsfrs_r.models import AlsfrsR\n"
        f"r = AlsfrsR.objects.get(pk={record.pk})\n"
        "r.q1_speech = 0\n"
        "r.save()\n"
    )
    with pytest.raises(RecordLocked):
        call_command("shell", command=script)
    assert AlsfrsR.objects.get(pk=record.pk).q1_speech == 4


def test_the_entry_page_shows_no_save_and_a_post_is_refused(
    client_for, coordinator_a, data_manager_a, m06
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    lock_participant(data_manager_a, m06.participant)
    participant = m06.participant
    url = reverse("crf-entry", args=[participant.site.code, participant.pk, m06.pk, "alsfrs_r"])
    client = client_for(coordinator_a)
    page = client.get(url)
    assert page.status_code == 200
    assert ">Save</button>" not in page.text
    data = {name: str(value) for name, value in ALSFRS_NORMAL.items()}
    response = client.post(
        url,
        data
        | {
            "q1_speech": "1",
            "version": str(record.version),
            "mark_complete": "on",
            "reason_for_change": "x",
        },
    )
    assert response.status_code == 400
    assert "locked" in response.text
    assert AlsfrsR.objects.get(pk=record.pk).q1_speech == 4


def test_an_admin_edit_of_a_locked_record_is_refused(
    client_for, coordinator_a, data_manager_a, m06, django_user_model
):
    """Records are read-only in the admin (a change there would skip the services' derived
    values and hooks); a locked one says so, and a write is answered 403, never a 500."""
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    participant = m06.participant
    url = reverse("admin:participants_demographics_change", args=[participant.pk])
    client = client_for(root)
    data = {
        "date_of_birth": "1970-01-01",
        "sex": "female",
        "height_cm": "165.0",
        "weight_kg": "90.0",
        "ethnicity": participant.demographics.ethnicity,
    }
    lock_participant(data_manager_a, participant)
    page = client.get(url)
    assert page.status_code == 200 and "The participant is locked" in page.text
    assert client.post(url, data).status_code == 403
    participant.demographics.refresh_from_db()
    assert participant.demographics.weight_kg != Decimal("90.0")


def test_the_data_manager_locks_and_unlocks_on_the_pages(
    client_for, data_manager_a, coordinator_a, m06
):
    participant = m06.participant
    site = participant.site
    client = client_for(data_manager_a)
    response = client.post(reverse("review-lock", args=[site.code, participant.pk]), {"reason": ""})
    assert response.status_code == 400
    response = client.post(
        reverse("review-lock", args=[site.code, participant.pk]), {"reason": "interim"}
    )
    assert response.status_code == 302
    page = client.get(reverse("review-participant", args=[site.code, participant.pk]))
    assert "The participant is locked" in page.text and "interim" in page.text
    lock = Lock.objects.get()
    assert (
        client.post(reverse("review-unlock", args=[site.code, lock.pk]), {"reason": ""}).status_code
        == 400
    )
    assert (
        client.post(
            reverse("review-unlock", args=[site.code, lock.pk]), {"reason": "done"}
        ).status_code
        == 302
    )
    assert not Lock.objects.active().exists()
    # A coordinator sees no lock page.
    assert (
        client_for(coordinator_a)
        .get(reverse("review-lock", args=[site.code, participant.pk]))
        .status_code
        == 404
    )


def test_every_service_of_a_locked_participant_refuses(coordinator_a, data_manager_a, m06):
    """Raw service calls (as a shell or a script would make them): corrections, visit dating,
    adverse events; the lock's who and why come with the refusal."""
    from datetime import timedelta

    from participants.corrections import correct_demographics
    from tests.safety.conftest import report
    from visits.services import record_visit_date

    participant = m06.participant
    lock_participant(data_manager_a, participant, reason="database lock")
    with pytest.raises(ValidationError, match="database lock"):
        correct_demographics(
            actor=coordinator_a,
            participant=participant,
            changes={"weight_kg": Decimal("80.0")},
            expected_version=participant.demographics.version,
            reason="scale",
        )
    with pytest.raises(ValidationError, match="database lock"):
        record_visit_date(
            actor=coordinator_a,
            visit=m06,
            actual_date=m06.actual_date - timedelta(days=1),
            reason="wrong day",
        )
    with pytest.raises(ValidationError, match="locked"):
        report(coordinator_a, m06)


def test_the_lock_banner_shows_who_when_and_why(coordinator_a, data_manager_a, m06):
    from django.template import Context, Template

    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    template = Template("{% load review_tags %}{% lock_banner record %}")
    assert "bi-lock" not in template.render(Context({"record": record}))
    lock_participant(data_manager_a, m06.participant, reason="interim analysis")
    shown = template.render(Context({"record": AlsfrsR.objects.get(pk=record.pk)}))
    assert "The participant is locked" in shown
    assert "dm_a" in shown and "interim analysis" in shown


def test_a_locked_record_alone_refuses_while_its_neighbours_change(
    coordinator_a, data_manager_a, m06
):
    from tests.safety.conftest import report

    event = report(coordinator_a, m06)
    other = report(coordinator_a, m06, verbatim_term="Back pain", term_code="back_pain")
    services.lock_record(actor=data_manager_a, record=event, reason="SAE reconciled")
    assert event.is_locked and not other.is_locked
    with pytest.raises(ValidationError, match="locked"):
        _resave(coordinator_a, m06, event)
    _resave(coordinator_a, m06, other)


def _resave(actor, visit, event):
    from safety.services import save_adverse_event
    from tests.factories import HEADACHE

    return save_adverse_event(
        actor=actor,
        participant=visit.participant,
        visit=visit,
        event_id=event.pk,
        answers=HEADACHE | {"treatment": "rest"},
        expected_version=event.version,
        complete=True,
        reason="treatment added",
    )


def test_record_states_tell_which_lock_covers_each_record(
    coordinator_a, coordinator_b, data_manager_a, site_b, trial, m06
):
    from review.selectors import RecordRef, states_of
    from tests.conftest import TX_DAY
    from tests.factories import transplanted_participant

    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    other = transplanted_participant(coordinator_b, site_b, trial, on=TX_DAY)
    participant = m06.participant
    mine = RecordRef("alsfrs_r", record.pk, participant.pk, m06.pk)
    visit = RecordRef("visit", m06.pk, participant.pk, m06.pk)
    theirs = RecordRef("demographics", other.pk, other.pk, None)
    services.lock_record(actor=data_manager_a, record=record, reason="query closed")
    states = states_of([mine, visit, theirs])
    assert states[("alsfrs_r", record.pk)].lock.scope == "record"
    assert (
        states[("visit", m06.pk)].lock is None and states[("demographics", other.pk)].lock is None
    )
    services.lock(
        actor=data_manager_a,
        target=services.Target(scope=Scope.SITE, site=participant.site),
        reason="interim analysis",
    )
    states = states_of([mine, visit, theirs])
    assert states[("alsfrs_r", record.pk)].lock.scope_label == "Site ISF is locked"
    assert states[("visit", m06.pk)].lock.reason == "interim analysis"
    assert states[("demographics", other.pk)].lock is None
