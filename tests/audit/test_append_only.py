"""The audit trail keeps deletes and cannot be rewritten: a deleted record leaves a delete
event with its old values, and every event table refuses UPDATE and DELETE, through raw SQL,
as the superuser and as a plain application role; TRUNCATE (tests) still works."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from participants.models import Consent
from safety.models import AdverseEvent
from tests.factories import ALSFRS_NORMAL, consent, register, save_crf
from tests.safety.conftest import ae_post


def events_of(model, pk, label):
    return model.pgh_event_model.objects.filter(pgh_obj_id=pk, pgh_label=label)


@pytest.fixture
def event_model_of():
    def find(model):
        import pghistory.models

        return next(
            m
            for m in apps.get_models()
            if issubclass(m, pghistory.models.Event) and m.pgh_tracked_model is model
        )

    return find


def test_deleting_a_form_leaves_a_delete_event_with_its_old_values(
    m06, coordinator_a, event_model_of
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    pk = record.pk
    record.delete()
    deleted = event_model_of(AlsfrsR).objects.get(pgh_obj_id=pk, pgh_label="delete")
    assert deleted.q1_speech == 4 and deleted.total == 48
    assert deleted.visit_id == m06.pk


def test_deleting_a_visit_keeps_the_visit_and_its_forms_in_the_trail(
    m06, coordinator_a, event_model_of
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    visit_events = event_model_of(type(m06))
    m06_pk, record_pk, actual_date = m06.pk, record.pk, m06.actual_date
    record.delete()  # forms protect their visit: a visit goes once its forms have gone
    m06.delete()
    assert visit_events.objects.get(pgh_obj_id=m06_pk, pgh_label="delete").actual_date == (
        actual_date
    )
    assert event_model_of(AlsfrsR).objects.filter(pgh_obj_id=record_pk, pgh_label="delete").exists()


def test_deleting_a_consent_and_an_adverse_event_keeps_their_old_values(
    m06, coordinator_a, client_for, event_model_of
):
    participant = m06.participant
    signed = Consent.objects.get(participant=participant)
    url = reverse("adverse-event-new", args=[participant.site.code, participant.pk])
    assert client_for(coordinator_a).post(url, ae_post(m06)).status_code == 302
    ae = AdverseEvent.objects.get(participant=participant)
    signed_pk, ae_pk = signed.pk, ae.pk
    ae.delete()
    signed.delete()
    old_ae = event_model_of(AdverseEvent).objects.get(pgh_obj_id=ae_pk, pgh_label="delete")
    assert old_ae.term_code == "post_lp_headache" and old_ae.grade == 2
    old_consent = event_model_of(Consent).objects.get(pgh_obj_id=signed_pk, pgh_label="delete")
    assert (
        old_consent.signed_on == signed.signed_on and old_consent.participant_id == participant.pk
    )


EVENT_TABLES = ["participants_participantevent", "participants_consentevent"]


def _refused(run) -> str:
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        run()
    return str(refused.value)


@pytest.mark.parametrize("table", EVENT_TABLES)
def test_raw_sql_cannot_update_or_delete_an_event_as_the_superuser(
    table, coordinator_a, site_a, trial
):
    participant = register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 1))
    consent(coordinator_a, participant)

    def update():
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET pgh_label = 'forged'")  # noqa: S608

    def delete():
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608

    assert "append-only" in _refused(update) or "Cannot update" in _refused(update)
    assert _refused(delete)

    # Even naming pgtrigger's own trigger in pgtrigger.ignore does not get past the guard.
    def ignored_update():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass"
                " AND tgname LIKE 'pgtrigger_append_only%%'",
                [table],
            )
            names = [row[0] for row in cursor.fetchall()]
            assert names
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"]
            )
            cursor.execute(f"UPDATE {table} SET pgh_label = 'forged'")  # noqa: S608

    assert "append-only" in _refused(ignored_update)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE pgh_label = 'forged'")  # noqa: S608
        assert cursor.fetchone()[0] == 0


@pytest.fixture
def app_role(transactional_db):
    """A plain login role (not a superuser, not the tables' owner) with the privileges an
    application user has: read and write every table."""
    name = f"ecrf_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER')
        cursor.execute(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{name}"'
        )
        cursor.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{name}"')
        cursor.execute(f'DROP ROLE "{name}"')


def test_raw_sql_cannot_update_or_delete_an_event_as_the_application_role(
    app_role, coordinator_a, site_a, trial
):
    participant = register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 1))
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=app_role,
    ) as plain:
        with plain.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cursor.fetchone()[0] is False
            # The role may write data (the privileges are real) …
            cursor.execute(
                "UPDATE participants_participant SET screening_number = screening_number"
                " WHERE id = %s",
                [participant.pk],
            )
            assert cursor.rowcount == 1
        plain.commit()
        for statement in (
            "UPDATE participants_participantevent SET pgh_label = 'forged'",
            "DELETE FROM participants_participantevent",
        ):
            # … but not rewrite the trail.
            with pytest.raises(psycopg.Error) as refused, plain.cursor() as cursor:
                cursor.execute(statement)
            assert "append-only" in str(refused.value) or "Cannot update" in str(refused.value)
            plain.rollback()
    assert participant.pgh_event_model.objects.filter(pgh_obj_id=participant.pk).count() >= 1


def test_truncate_still_empties_an_event_table(transactional_db, coordinator_a, site_a, trial):
    """What the test framework does between transactional tests (and this one relies on)."""
    register(coordinator_a, site_a, trial, screened_on=date(2026, 3, 1))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE participants_participantevent")
        cursor.execute("SELECT count(*) FROM participants_participantevent")
        assert cursor.fetchone()[0] == 0
