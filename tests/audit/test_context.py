"""Each audit event keeps the context that was current when it was written: who, why and
through which path. A correction's event keeps the correction's reason when, in the same
request, the correction re-derives an FVC under the re-derivation's reason; services called
one after the other in one request keep their own; and a nested context gives the outer one
back when it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse

from audit.context import AuditContextMiddleware
from crfs.alsfrs_r.models import AlsfrsR
from crfs.eligibility.models import Eligibility
from crfs.fvc.models import Fvc
from participants import services as participant_services
from participants.models import ConsentVersion, Demographics
from queries import services as query_services
from queries import tasks
from queries.models import Query, QueryStatus
from tests.factories import (
    ALSFRS_NORMAL,
    UserFactory,
    member,
    register,
    save_crf,
    screen_eligible,
)
from tests.html_form import PageForm
from trials import services
from trials.history import audit_context
from trials.models import Membership, Role, Site, Trial

TODAY = date(2026, 3, 10)


def last_context(model, **filters) -> dict:
    event = model.pgh_event_model.objects.filter(**filters).order_by("pgh_id").last()
    assert event is not None and event.pgh_context is not None
    return event.pgh_context


def contexts(model, **filters) -> list[dict]:
    return [
        event.pgh_context or {}
        for event in model.pgh_event_model.objects.filter(**filters).order_by("pgh_id")
    ]


def in_one_request(user, url: str, work) -> None:
    """`work` run inside one request's audit context, as a view would run it."""
    request = RequestFactory().post(url)
    request.user = user

    def view(request):
        work()

    AuditContextMiddleware(view)(request)


@pytest.mark.django_db
def test_a_height_correction_keeps_its_reason_beside_the_fvc_it_re_derives(
    frozen, client_for, coordinator_a, site_a, trial
):
    person = register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=2))
    screen_eligible(coordinator_a, person)
    fvc = Fvc.objects.get(visit__participant=person)
    before = fvc.percent_predicted
    client = client_for(coordinator_a)
    url = reverse("participant-demographics", args=["ISF", person.pk])
    form = PageForm.read(client.get(url).text)
    form.pop("csrfmiddlewaretoken", None)
    # One request, one transaction: the correction, then the re-derivations it sets off.
    saved = client.post(url, form | {"height_cm": "175.0", "reason": "height mis-typed"})
    assert saved.status_code == 302
    fvc.refresh_from_db()
    assert fvc.percent_predicted != before
    assert Demographics.objects.get(participant=person).height_cm == Decimal("175.0")

    corrected = last_context(Demographics, pgh_obj_id=person.demographics.pk)
    assert corrected["reason"] == "height mis-typed"
    assert corrected["actor_id"] == coordinator_a.pk
    assert (corrected["path"], corrected["url"]) == ("page", url)
    assert "form" not in corrected  # the re-derivation's form is not the correction's
    rederived = last_context(Fvc, pgh_obj_id=fvc.pk)
    assert rederived["reason"] == "demographics corrected: height mis-typed"
    assert rederived["form"] == Fvc.form_code
    assert (rederived["path"], rederived["url"]) == ("page", url)
    # The checklist, re-derived after the FVC, says its own cause too.
    checklist = last_context(Eligibility, visit__participant=person)
    assert checklist["reason"] != "height mis-typed" and checklist["path"] == "page"
    # Still one request: the events share its context id.
    ids = {
        model.pgh_event_model.objects.filter(pgh_obj_id=pk).order_by("pgh_id").last().pgh_context_id
        for model, pk in ((Demographics, person.demographics.pk), (Fvc, fvc.pk))
    }
    assert len(ids) == 1 and None not in ids


@pytest.mark.django_db
def test_two_services_in_one_request_keep_their_own_reasons(site_a, trial):
    admin = member(Role.SITE_ADMIN, site_a, "admin_a")
    newcomer = UserFactory(username="newcomer")

    def work() -> None:
        membership = services.grant_role(actor=admin, site=site_a, user=newcomer, role=Role.MONITOR)
        participant_services.add_consent_version(
            trial=trial, version="2.0", approval_date=TODAY, active_from=TODAY
        )
        services.revoke_role(actor=admin, membership=membership)

    in_one_request(admin, "/sites/ISF/team/", work)
    granted, revoked = contexts(Membership, user_id=newcomer.pk)
    assert granted["reason"] == "grant role" and revoked["reason"] == "revoke role"
    assert granted["actor_id"] == revoked["actor_id"] == admin.pk
    version = last_context(ConsentVersion, version="2.0")
    assert version["reason"] == "consent version 2.0"
    # Nothing of the service before it: the consent version names no actor of its own,
    # only the request's user.
    assert "actor_id" not in version and version["user"] == admin.pk
    assert version["path"] == "page"


@pytest.mark.django_db
def test_a_correction_keeps_its_reason_when_its_after_commit_work_runs_in_the_request(
    m06, coordinator_a, monitor_a, site_a, monkeypatch, django_capture_on_commit_callbacks
):
    """The query the correction answers is written after the correction, in the same request
    (the after-commit work run at once rather than by a worker)."""
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q3_swallowing": 1})
    query = query_services.open_query(
        actor=monitor_a,
        site=site_a,
        record_type="alsfrs_r",
        record_pk=record.pk,
        field_name="q3_swallowing",
        text="The source says 3.",
    )
    monkeypatch.setattr(tasks.after_record_saved, "delay", query_services.after_record_saved)

    def work() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            save_crf(
                coordinator_a,
                m06,
                AlsfrsR,
                ALSFRS_NORMAL | {"q3_swallowing": 3},
                reason="transcription error",
            )

    in_one_request(coordinator_a, "/sites/ISF/", work)
    query.refresh_from_db()
    assert query.status == QueryStatus.ANSWERED
    corrected = last_context(AlsfrsR, pgh_obj_id=record.pk)
    assert corrected["reason"] == "transcription error"
    assert corrected["actor_id"] == coordinator_a.pk
    answered = last_context(Query, pgh_obj_id=query.pk)
    assert answered["reason"] == "query answered by a correction"


@pytest.mark.django_db
def test_a_nested_context_gives_the_outer_one_back(site_a):
    with audit_context(actor_id=1, reason="outer"):
        site_a.name = "Before"
        site_a.save()
        with audit_context(reason="inner", form="fvc"):
            site_a.name = "Inside"
            site_a.save()
        site_a.name = "After"
        site_a.save()
    *_, before, inside, after = contexts(Site, pgh_obj_id=site_a.pk)
    assert before == after == {"actor_id": 1, "reason": "outer"}
    assert inside == {"actor_id": 1, "reason": "inner", "form": "fvc"}


@pytest.mark.django_db
def test_an_exception_inside_a_nested_context_restores_the_outer_one(site_a):
    with audit_context(reason="outer"):
        with pytest.raises(RuntimeError), audit_context(reason="inner"):
            raise RuntimeError
        site_a.name = "After"
        site_a.save()
    assert last_context(Site, pgh_obj_id=site_a.pk) == {"reason": "outer"}


@pytest.mark.django_db(transaction=True)
def test_any_command_run_through_manage_py_says_command_and_its_name():
    """Django's own commands and `shell` are not the project's: manage.py names them."""
    root = Path(__file__).resolve().parents[2]
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    script = (
        "from trials import services; from trials.protocols import PROTOCOLS;"
        " services.load_trial(protocol=PROTOCOLS['NCT02116634'])"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=root,
        env=os.environ | {"DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    metadata = last_context(Trial)
    assert metadata["path"] == "command" and metadata["command"] == "shell"
    assert metadata["reason"].startswith("load protocol")
