"""An investigator signs a visit, a casebook or a set of adverse events with their password;
the meaning, time and each record's version are stored; a later change of signed data
invalidates the signature visibly and puts the records back in the queue."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from review import selectors
from review.models import MEANING, Signature, SignatureKind
from tests.factories import ALSFRS_NORMAL, PASSWORD, save_crf

pytestmark = pytest.mark.django_db


def test_signing_a_visit_then_a_change_invalidates_it(
    client_for, coordinator_a, investigator_a, m06
):
    record = save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    participant = m06.participant
    site = participant.site
    url = reverse("review-sign", args=[site.code, participant.pk, "visit"]) + f"?visit={m06.pk}"
    client = client_for(investigator_a)
    page = client.get(url)
    assert page.status_code == 200 and str(MEANING) in page.text
    assert client.post(url, {"password": "wrong"}).status_code == 400
    assert not Signature.objects.exists()
    assert client.post(url, {"password": PASSWORD}).status_code == 302

    signature = Signature.objects.get()
    assert signature.kind == SignatureKind.VISIT and signature.meaning == str(MEANING)
    items = {(i.record_type, i.record_id): i for i in signature.items.all()}
    assert items[("alsfrs_r", record.pk)].record_version == record.version
    assert ("visit", m06.pk) in items
    before = selectors.queue_counts(investigator_a, site, {"review_and_sign"}).to_sign

    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL | {"q1_speech": 2}, reason="typo")
    signature.refresh_from_db()
    assert signature.invalidated_at is not None
    assert signature.invalidated_by_record == f"alsfrs_r:{record.pk}"
    assert signature.invalidated_version == record.version + 1
    after = selectors.queue_counts(investigator_a, site, {"review_and_sign"}).to_sign
    assert after == before + len(items)
    page = client.get(reverse("review-participant", args=[site.code, participant.pk]))
    assert 'data-testid="signature-invalidated"' in page.text


def test_a_form_added_to_a_signed_visit_invalidates_its_signature(
    coordinator_a, investigator_a, m06
):
    from crfs.fvc.models import Fvc
    from review import services
    from tests.factories import SCREENING_FVC

    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    signature = services.sign(
        actor=investigator_a,
        participant=m06.participant,
        kind="visit",
        password=PASSWORD,
        visit=m06,
    )
    save_crf(coordinator_a, m06, Fvc, SCREENING_FVC)
    signature.refresh_from_db()
    assert signature.invalidated_at is not None


def test_signing_chosen_adverse_events(client_for, coordinator_a, investigator_a, m06):
    from tests.safety.conftest import report

    serious = report(
        coordinator_a,
        m06,
        serious=True,
        sae_hospitalisation=True,
        grade=3,
        outcome="recovered",
        action="hospitalisation",
    )
    participant = m06.participant
    site = participant.site
    assert selectors.queue_counts(investigator_a, site, {"review_and_sign"}).serious_to_sign == 1
    url = reverse("review-sign", args=[site.code, participant.pk, "records"])
    response = client_for(investigator_a).post(
        url, {"records": [f"adverse_event:{serious.pk}"], "password": PASSWORD}
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert [(i.record_type, i.record_id) for i in signature.items.all()] == [
        ("adverse_event", serious.pk)
    ]
    assert selectors.queue_counts(investigator_a, site, {"review_and_sign"}).serious_to_sign == 0


def test_only_an_investigator_signs(client_for, coordinator_a, monitor_a, m06):
    participant = m06.participant
    url = reverse("review-sign", args=[participant.site.code, participant.pk, "casebook"])
    for user in (coordinator_a, monitor_a):
        assert client_for(user).post(url, {"password": PASSWORD}).status_code == 404


def test_a_casebook_signature_covers_every_record_and_a_correction_invalidates_it(
    coordinator_a, investigator_a, m06
):
    from decimal import Decimal

    from participants.corrections import correct_demographics
    from review import services

    participant = m06.participant
    save_crf(coordinator_a, m06, AlsfrsR, ALSFRS_NORMAL)
    signature = services.sign(
        actor=investigator_a, participant=participant, kind="casebook", password=PASSWORD
    )
    kinds = {item.record_type for item in signature.items.all()}
    assert {"demographics", "als_history", "visit", "alsfrs_r", "eligibility"} <= kinds
    demographics = participant.demographics
    correct_demographics(
        actor=coordinator_a,
        participant=participant,
        changes={"weight_kg": demographics.weight_kg + Decimal("1.0")},
        expected_version=demographics.version,
        reason="scale recalibrated",
    )
    signature.refresh_from_db()
    assert signature.invalidated_by_record == f"demographics:{participant.pk}"
