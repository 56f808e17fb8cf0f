"""A lock covers every path, not only a record's own save: the participant's status and its
transplantation (not reviewable records, yet their participant's or site's lock covers them),
and the writes that go around save() — QuerySet.update()/delete(), bulk_update(),
bulk_create() — from a service, a page, or a management command."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.fvc.models import Fvc
from participants.models import Participant, StatusChange
from review import services
from review.models import Scope
from tests.factories import ALSFRS_NORMAL, TX_DATA, save_crf
from trials.locking import RecordLocked
from visits.models import Transplantation, Visit

pytestmark = pytest.mark.django_db


def lock_participant(dm, participant, reason="interim analysis"):
    return services.lock(
        actor=dm,
        target=services.Target(
            scope=Scope.PARTICIPANT, site=participant.site, participant=participant
        ),
        reason=reason,
    )


def lock_site(dm, site, reason="database lock"):
    return services.lock(
        actor=dm, target=services.Target(scope=Scope.SITE, site=site), reason=reason
    )


def withdraw(actor, participant):
    from participants.services import change_status

    return change_status(
        actor=actor,
        participant=participant,
        to_status="withdrawn",
        effective_date=participant.site.local_today(),
        reason="moved abroad",
        details={"withdrawn_by": "participant", "follow_up_allowed": False},
    )


def test_a_locked_participants_status_does_not_change_through_the_service(
    coordinator_a, data_manager_a, m06
):
    participant = m06.participant
    changes = StatusChange.objects.filter(participant=participant).count()
    lock_participant(data_manager_a, participant, reason="interim analysis")
    with pytest.raises(ValidationError, match="interim analysis"):
        withdraw(coordinator_a, participant)
    participant.refresh_from_db()
    assert participant.status == "transplanted" and participant.exited_on is None
    assert StatusChange.objects.filter(participant=participant).count() == changes


def test_the_status_page_of_a_locked_site_says_so(client_for, coordinator_a, data_manager_a, m06):
    participant = m06.participant
    lock_site(data_manager_a, participant.site, reason="database lock")
    response = client_for(coordinator_a).post(
        reverse("participant-status", args=[participant.site.code, participant.pk]),
        {
            "status": "withdrawn",
            "effective_date": participant.site.local_today().isoformat(),
            "reason": "moved abroad",
            "withdrawn_by": "participant",
            "follow_up_allowed": "False",
        },
    )
    assert response.status_code == 400
    assert "Site ISF is locked" in response.text and "database lock" in response.text
    participant.refresh_from_db()
    assert participant.status == "transplanted"


def test_a_locked_participants_transplantation_is_not_corrected(coordinator_a, data_manager_a, m06):
    from visits.transplantation import correct_transplantation

    participant = m06.participant
    transplantation = participant.transplantation
    lock_participant(data_manager_a, participant, reason="procedure monitored")
    performed_at = datetime.combine(
        transplantation.performed_on, time(9, 0), tzinfo=participant.site.zone
    )
    with pytest.raises(ValidationError, match="procedure monitored"):
        correct_transplantation(
            actor=coordinator_a,
            transplantation=transplantation,
            performed_at=performed_at,
            data=TX_DATA | {"cell_lot": "LOT-2"},
            reason="lot copied wrongly",
        )
    assert Transplantation.objects.get(pk=participant.pk).cell_lot == "LOT-1"
    # A raw save or delete, as a shell would make it.
    transplantation.refresh_from_db()
    transplantation.cell_lot = "LOT-3"
    with pytest.raises(RecordLocked):
        transplantation.save()
    with pytest.raises(RecordLocked):
        transplantation.delete()


def test_bulk_writes_of_locked_data_are_refused(coordinator_a, data_manager_a, m06):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    lock_participant(data_manager_a, participant)

    with pytest.raises(RecordLocked):
        AlsfrsR.objects.filter(pk=record.pk).update(q1_speech=0)
    with pytest.raises(RecordLocked):
        AlsfrsR.objects.filter(visit__participant=participant).delete()
    with pytest.raises(RecordLocked):
        Fvc.objects.bulk_create([Fvc(visit=participant.visits.get(code="M12"))])
    m06.actual_date = m06.actual_date.replace(day=1)
    with pytest.raises(RecordLocked):
        Visit.objects.bulk_update([m06], ["actual_date"])
    with pytest.raises(RecordLocked):
        participant.visits.update(missed_reason="moved away")
    with pytest.raises(RecordLocked):
        Participant.objects.filter(pk=participant.pk).update(status="withdrawn")
    with pytest.raises(RecordLocked):
        Transplantation.objects.filter(pk=participant.pk).update(cell_lot="LOT-2")
    with pytest.raises(RecordLocked):
        participant.demographics.__class__.objects.filter(pk=participant.pk).update(weight_kg=50)

    assert AlsfrsR.objects.get(pk=record.pk).q1_speech == 4
    participant.refresh_from_db()
    assert participant.status == "transplanted"
    assert not participant.visits.exclude(missed_reason="").exists()
    # Time passing is not a change of data: a locked visit's status still moves in bulk.
    assert participant.visits.filter(code="M12").update(status="overdue") == 1


def test_a_record_lock_refuses_a_bulk_write_of_that_record_only(coordinator_a, data_manager_a, m06):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    services.lock_record(actor=data_manager_a, record=m06, reason="visit date checked")
    others = Visit.objects.filter(participant=m06.participant).exclude(pk=m06.pk)
    assert others.update(missed_reason="") == others.count()  # its neighbours change
    with pytest.raises(RecordLocked, match="visit date checked"):
        Visit.objects.filter(participant=m06.participant).update(missed_reason="")
    # The form at the visit is a record of its own, not covered by the visit's record lock.
    assert AlsfrsR.objects.filter(pk=record.pk).update(q1_speech=3) == 1


def test_a_management_command_cannot_bulk_change_locked_data(coordinator_a, data_manager_a, m06):
    participant = m06.participant
    lock_site(data_manager_a, participant.site)
    for script in (
        f"from participants.models import Participant\n"
        f"p = Participant.objects.get(pk={participant.pk})\n"
        f"p.status = 'withdrawn'\n"
        f"p.save()\n",
        f"from participants.models import Participant\n"
        f"Participant.objects.filter(pk={participant.pk}).update(status='withdrawn')\n",
        f"from visits.models import Visit\n"
        f"Visit.objects.filter(participant_id={participant.pk}).update(missed_reason='x')\n",
    ):
        with pytest.raises(RecordLocked):
            call_command("shell", command=script)
    participant.refresh_from_db()
    assert participant.status == "transplanted"


def test_a_site_lock_refuses_a_new_participant_there(
    frozen, coordinator_a, data_manager_a, site_a, trial
):
    from tests.factories import register

    lock_site(data_manager_a, site_a, reason="database lock")
    with pytest.raises(ValidationError, match="database lock"):
        register(coordinator_a, site_a, trial, screened_on=site_a.local_today())
    assert not Participant.objects.exists()
