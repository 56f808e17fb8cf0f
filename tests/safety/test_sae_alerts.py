"""Saving a serious adverse event alerts the site's investigators, inside the save's
transaction and sent after commit: once for the new SAE (escalated when no investigator
acknowledges it within 24 hours) and once per follow-up update. An investigator acknowledges
it by signing an assessment with their password; the coordinator's entry stays as entered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from reminders import services as reminder_services
from reminders import tasks
from reminders.models import Notification, Reminder
from safety.models import AdverseEvent, AdverseEventAssessment
from tests.conftest import NOW
from tests.factories import PASSWORD
from tests.safety.conftest import ae_post, serious_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def send_in_process(monkeypatch):
    """The worker's send, run in this process instead of through the broker."""
    monkeypatch.setattr(tasks, "dispatch_send", reminder_services.send_reminder)


def alert_dispatches(callbacks) -> list:
    """The after-commit callbacks of a save but its edit checks' (queries.services)."""
    return [c for c in callbacks if "on_record_saved" not in c.__qualname__]


def new_url(visit):
    return reverse("adverse-event-new", args=["ISF", visit.participant_id])


def edit_url(ae):
    return reverse("adverse-event-edit", args=["ISF", ae.participant_id, ae.pk])


def assess_url(ae):
    return reverse("adverse-event-assess", args=["ISF", ae.participant_id, ae.pk])


def alert_rows():
    """The alert rows (the visit schedule has reminder rows of its own)."""
    return Reminder.objects.filter(topic__startswith="sae:")


def scan_and_send() -> list[str]:
    claimed = reminder_services.claim_due(dispatch=lambda pk: None)
    return [reminder_services.send_reminder(pk) for pk in claimed]


def test_a_new_sae_alerts_each_investigator_once_after_commit(
    m06,
    coordinator_a,
    investigator_a,
    data_manager_a,
    client_for,
    django_capture_on_commit_callbacks,
):
    client = client_for(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(new_url(m06), serious_post(m06))
    assert response.status_code == 302
    ae = AdverseEvent.objects.get()
    # The send is dispatched after commit, not before (beside the save's edit checks).
    assert len(alert_dispatches(callbacks)) == 1
    assert ae.sae_alerted_at == NOW
    assert ae.events.count() == 1  # stamped with the save: one version in the audit trail
    assert [m.to for m in mail.outbox] == [[investigator_a.email]]
    message = mail.outbox[0]
    assert m06.participant.study_id in message.subject
    assert "Meningitis" in message.subject
    assert "Test Person" not in message.body  # no name leaves the system
    assert Notification.objects.get(user=investigator_a).url == edit_url(ae)
    # The escalation waits 24 hours on the server clock.
    # The escalation to the data manager (e-mail, in-app) waits 24 hours on the server clock.
    escalation = alert_rows().filter(topic=f"sae:{ae.pk}", kind="sae_escalation")
    assert {(r.due_at, r.sent_at, r.recipient) for r in escalation} == {
        (NOW + timedelta(hours=24), None, data_manager_a)
    }

    # The same page saved again without a change is no update: nothing more is sent.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit_url(ae), serious_post(m06, version="1"))
    assert len(mail.outbox) == 1


def test_a_follow_up_of_an_sae_is_an_update_alert_of_its_own(
    m06,
    coordinator_a,
    investigator_a,
    data_manager_a,
    client_for,
    django_capture_on_commit_callbacks,
):
    client = client_for(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(new_url(m06), serious_post(m06))
    ae = AdverseEvent.objects.get()
    follow_up = serious_post(
        m06,
        version="1",
        ongoing="",
        end_date="2026-02-10",
        outcome="recovered",
        reason_for_change="discharged",
    )
    follow_up.pop("ongoing")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(edit_url(ae), follow_up).status_code == 302
    update = Reminder.objects.filter(topic=f"sae:{ae.pk}:update:2")
    assert {r.kind for r in update} == {"sae_update"}
    assert len(mail.outbox) == 2 and "was updated" in mail.outbox[1].body
    # An update does not escalate again.
    assert alert_rows().filter(kind="sae_escalation").count() == 2


def test_a_non_serious_event_alerts_nobody_until_it_becomes_serious(
    m06,
    coordinator_a,
    investigator_a,
    data_manager_a,
    client_for,
    django_capture_on_commit_callbacks,
):
    client = client_for(coordinator_a)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(new_url(m06), ae_post(m06))
    assert alert_dispatches(callbacks) == [] and not alert_rows().exists() and mail.outbox == []
    ae = AdverseEvent.objects.get()

    # Seriousness found later: that save is the new SAE, with its escalation.
    upgraded = ae_post(
        m06,
        version="1",
        serious="true",
        sae_hospitalisation="on",
        reason_for_change="admitted",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(edit_url(ae), upgraded).status_code == 302
    assert set(alert_rows().values_list("topic", "kind")) == {
        (f"sae:{ae.pk}", "sae"),
        (f"sae:{ae.pk}", "sae_escalation"),
    }
    assert len(mail.outbox) == 1


def test_a_refused_serious_save_alerts_nobody(
    m06, coordinator_a, investigator_a, client_for, django_capture_on_commit_callbacks
):
    refused = serious_post(m06, sae_hospitalisation="")  # serious, no criterion
    refused.pop("sae_hospitalisation")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(coordinator_a).post(new_url(m06), refused)
    assert response.status_code == 400
    assert callbacks == [] and not alert_rows().exists() and not AdverseEvent.objects.exists()


def test_an_unacknowledged_sae_escalates_after_24_hours(
    m06,
    coordinator_a,
    investigator_a,
    data_manager_a,
    client_for,
    time_machine,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(coordinator_a).post(new_url(m06), serious_post(m06))
    mail.outbox.clear()
    time_machine.move_to(NOW + timedelta(hours=23, minutes=59), tick=False)
    assert scan_and_send() == []
    time_machine.move_to(NOW + timedelta(hours=24), tick=False)
    assert scan_and_send() == ["sent", "sent"]  # the data manager: e-mail and in-app
    assert [m.to for m in mail.outbox] == [[data_manager_a.email]]


def test_the_investigator_acknowledges_with_their_password(
    m06,
    coordinator_a,
    investigator_a,
    data_manager_a,
    client_for,
    time_machine,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(coordinator_a).post(new_url(m06), serious_post(m06))
    ae = AdverseEvent.objects.get()
    # A coordinator may not sign an assessment.
    assert client_for(coordinator_a).get(assess_url(ae)).status_code == 404

    client = client_for(investigator_a)
    page = client.get(edit_url(ae))
    assert "Not yet acknowledged by an investigator." in page.content.decode()
    assessment = {
        "serious": "true",
        "related_procedure": "probable",
        "related_cells": "not",
        "comment": "Lumbar puncture the likely route",
        "password": "wrong",
    }
    refused = client.post(assess_url(ae), assessment)
    assert refused.status_code == 400
    assert "password is not correct" in str(refused.context["form"].errors["password"])
    assert not AdverseEventAssessment.objects.exists()

    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    signed = client.post(assess_url(ae), assessment | {"password": PASSWORD})
    assert signed.status_code == 302 and signed.url == edit_url(ae)

    record = AdverseEventAssessment.objects.get()
    assert (record.investigator, record.event_version, record.related_procedure) == (
        investigator_a,
        1,
        "probable",
    )
    # The coordinator's entry is kept as entered, beside the assessment.
    ae.refresh_from_db()
    assert (ae.related_procedure, ae.related_cells, ae.version) == ("possible", "unlikely", 1)
    shown = client.get(edit_url(ae)).content.decode()
    assert "Signed by investigator_isf at 2026-03-10 13:30 +0330" in shown
    # Acknowledged: the escalation is cancelled and never sent.
    escalation = alert_rows().filter(kind="sae_escalation")
    assert {r.cancelled_at for r in escalation} == {NOW + timedelta(hours=2)}
    time_machine.move_to(NOW + timedelta(hours=25), tick=False)
    mail.outbox.clear()
    assert scan_and_send() == [] and mail.outbox == []


def test_a_new_sae_form_submitted_twice_saves_one_event_and_one_alert(
    m06, coordinator_a, investigator_a, client_for, django_capture_on_commit_callbacks
):
    client = client_for(coordinator_a)
    form = client.get(new_url(m06)).context["form"]
    token = str(form["form_token"].value())
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(new_url(m06), serious_post(m06, form_token=token))
        again = client.post(new_url(m06), serious_post(m06, form_token=token))
    ae = AdverseEvent.objects.get()
    assert first.url == again.url == edit_url(ae)
    assert alert_rows().filter(kind="sae").count() == 2  # the investigator: e-mail, in-app
    assert len(mail.outbox) == 1
