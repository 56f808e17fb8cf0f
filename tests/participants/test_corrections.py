"""A coordinator corrects the demographics or ALS history recorded at registration: with a
reason, validated as at registration, audited, refused when stale or unchanged; what reads
them (FVC % predicted, ΔFS, the screening checklist) is re-derived in the same transaction,
and a screen failure the corrected data undo can return to screening and be enrolled."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crfs.alsfrs_r.models import AlsfrsR
from crfs.base import FormStatus
from crfs.eligibility.scoring import Decision
from crfs.eligibility.selectors import screening_checklist
from crfs.fvc.models import Fvc
from crfs.screening import services as screening
from participants import corrections, services
from participants.choices import ParticipantStatus as S
from participants.models import AlsHistory, Demographics, StatusChange
from review import services as review
from tests.factories import consent, enrol, member, register, screen_eligible, screening_forms
from tests.html_form import PageForm
from trials import permissions
from trials.models import Role

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 10)


def _form(client, url: str, **changes) -> dict[str, str]:
    """What the page's form submits as shown, with `changes` typed in."""
    values = PageForm.read(client.get(url).text)
    values.pop("csrfmiddlewaretoken", None)
    return values | changes


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _reasons(model: str, pk) -> list[str]:
    """The audit reasons of one tracked row's events (from its own event table)."""
    app, name = model.split(".")
    events = apps.get_model(app, f"{name}Event").objects.filter(pgh_obj_id=pk)
    return [(event.pgh_context or {}).get("reason") or "" for event in events]


@pytest.fixture
def person(frozen, coordinator_a, site_a, trial):
    return register(coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=2))


def demographics_url(p) -> str:
    return reverse("participant-demographics", args=[p.site.code, p.pk])


def history_url(p) -> str:
    return reverse("participant-als-history", args=[p.site.code, p.pk])


# --- The whole story: a wrong onset region, a screen failure, the way back ----------------


def test_a_wrong_onset_region_screen_failure_is_corrected_returned_to_screening_and_enrolled(
    frozen, client_for, coordinator_a, site_a, trial
):
    person = register(
        coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=3), onset_region="bulbar"
    )
    consent(coordinator_a, person)
    checklist = screening_forms(coordinator_a, person)
    assert checklist.decision == Decision.SCREEN_FAILURE
    assert "spinal_onset" in checklist.failed_criteria
    screening.record_screen_failure(
        actor=coordinator_a, participant=person, effective_date=TODAY - timedelta(days=2)
    )
    person.refresh_from_db()
    assert person.status == S.SCREEN_FAILED

    client = client_for(coordinator_a)
    return_url = reverse("participant-return-to-screening", args=["ISF", person.pk])
    # Before the correction the way back is refused: the checklist makes a screen failure.
    refused = client.get(return_url)
    assert "still makes this participant a screen failure" in refused.text
    assert 'name="reason"' not in refused.text

    page = client.get(history_url(person))
    assert page.status_code == 200
    form = PageForm.read(page.text)
    assert (form["onset"], form["onset_region"]) == ("2025-03", "bulbar")  # prefilled
    form.pop("csrfmiddlewaretoken")
    saved = client.post(
        history_url(person),
        form | {"onset_region": "lower_limb", "reason": "Onset region misread from the referral"},
    )
    # The corrected data undo the screen failure: the result offers the way back.
    assert (saved.status_code, saved.url) == (302, return_url)
    said = _messages(saved)
    assert "Corrected: onset region." in said
    assert "Eligibility re-derived: now Eligible (was Screen failure)." in said
    assert screening_checklist(person).decision == Decision.ELIGIBLE
    history = AlsHistory.objects.get(participant=person)
    assert (history.onset_region, history.version) == ("lower_limb", 2)
    assert any("Onset region misread" in r for r in _reasons("participants.AlsHistory", person.pk))

    offer = client.get(return_url)
    assert offer.status_code == 200 and not offer.context["form"].is_bound  # no errors yet
    assert 'data-testid="return-offer"' in offer.text
    back = client.post(return_url, {"reason": "Screen failure came from the wrong onset region"})
    assert back.status_code == 302
    person.refresh_from_db()
    assert (person.status, person.status_date, person.exited_on) == (S.SCREENING, TODAY, None)
    change = StatusChange.objects.filter(participant=person).latest("pk")
    assert (change.from_status, change.to_status, change.changed_by) == (
        S.SCREEN_FAILED,
        S.SCREENING,
        coordinator_a,
    )
    assert change.reason == "Screen failure came from the wrong onset region"

    enrolled = services.enrol_participant(
        actor=coordinator_a, participant=person, enrolled_on=TODAY
    )
    assert enrolled.status == S.ENROLLED and enrolled.study_id


def test_return_to_screening_is_refused_while_the_checklist_still_fails(
    frozen, coordinator_a, site_a, trial
):
    person = register(
        coordinator_a, site_a, trial, screened_on=TODAY - timedelta(days=3), family_history="yes"
    )
    consent(coordinator_a, person)
    screening_forms(coordinator_a, person)
    screening.record_screen_failure(actor=coordinator_a, participant=person, effective_date=TODAY)
    with pytest.raises(ValidationError, match="still makes this participant a screen failure"):
        corrections.return_to_screening(actor=coordinator_a, participant=person, reason="try")
    # Nor is it a manual status change: it has its own service.
    person.refresh_from_db()
    assert person.manual_next_statuses() == []
    with pytest.raises(ValidationError, match="has its own page"):
        services.change_status(
            actor=coordinator_a,
            participant=person,
            to_status=S.SCREENING,
            effective_date=TODAY,
            reason="try",
        )
    assert person.status == S.SCREEN_FAILED


def test_only_a_screen_failure_returns_to_screening(frozen, coordinator_a, person):
    with pytest.raises(ValidationError, match="Only a screen failure"):
        corrections.return_to_screening(actor=coordinator_a, participant=person, reason="x")


# --- Demographics: re-derivation of FVC % predicted ------------------------------------


def test_a_corrected_height_recomputes_fvc_percent_predicted_and_says_so(
    frozen, client_for, coordinator_a, person
):
    screen_eligible(coordinator_a, person)
    fvc = Fvc.objects.get(visit__participant=person)
    before = fvc.percent_predicted
    client = client_for(coordinator_a)
    saved = client.post(
        demographics_url(person),
        _form(client, demographics_url(person), height_cm="175.0", reason="Height re-measured"),
    )
    assert (saved.status_code, saved.url) == (
        302,
        reverse("participant-detail", args=["ISF", person.pk]),
    )
    fvc.refresh_from_db()
    assert fvc.percent_predicted < before  # taller: more is predicted of the same litres
    said = _messages(saved)
    assert "Corrected: height (cm)." in said
    [line] = [m for m in said if m.startswith("FVC (spirometry) at SCR:")]
    assert f"% predicted {before:.1f} → {fvc.percent_predicted:.1f}" in line
    # The checklist reads the FVC % predicted: re-derived, with the same decision.
    assert "Eligibility re-derived: still Eligible." in said
    demographics = Demographics.objects.get(participant=person)
    assert (demographics.height_cm, demographics.version) == (Decimal("175.0"), 2)
    assert any("Height re-measured" in r for r in _reasons("participants.Demographics", person.pk))
    assert any("Height re-measured" in r for r in _reasons("crfs.Fvc", fvc.pk))
    # The answers and the record's own version are not touched by a re-derivation.
    assert (fvc.version, fvc.status) == (1, FormStatus.COMPLETE)


def test_a_corrected_onset_recomputes_delta_fs(frozen, coordinator_a, person):
    consent(coordinator_a, person)
    screening_forms(coordinator_a, person, alsfrs={"q1_speech": 2})  # total 46
    alsfrs = AlsfrsR.objects.get(visit__participant=person)
    before = alsfrs.delta_fs
    history = AlsHistory.objects.get(participant=person)
    corrected = corrections.correct_als_history(
        actor=coordinator_a,
        participant=person,
        changes={"onset_date": date(2025, 9, 1), "onset_precision": "month"},
        expected_version=history.version,
        reason="Onset was September, not March",
    )
    alsfrs.refresh_from_db()
    assert alsfrs.delta_fs > before  # the same loss in fewer months
    assert any(line.startswith("ALSFRS-R at SCR: ΔFS") for line in corrected.rederived)
    assert corrected.changed == ["symptom onset"]


def test_a_locked_form_is_left_alone_and_reported(frozen, coordinator_a, person):
    screen_eligible(coordinator_a, person)
    fvc = Fvc.objects.get(visit__participant=person)
    data_manager = member(Role.DATA_MANAGER, person.site, "dm")
    review.lock_record(actor=data_manager, record=fvc, reason="FVC reviewed")
    corrected = corrections.correct_demographics(
        actor=coordinator_a,
        participant=person,
        changes={"height_cm": Decimal("175.0")},
        expected_version=1,
        reason="Height re-measured",
    )
    assert "FVC (spirometry) at SCR is locked: its derived values were left as they were." in (
        corrected.rederived
    )
    assert Fvc.objects.get(pk=fvc.pk).percent_predicted == fvc.percent_predicted


# --- Refusals: field errors, no change, no reason, a stale page ---------------------------


def test_bad_corrections_are_refused_with_every_field_error_at_once(
    frozen, client_for, coordinator_a, person
):
    client = client_for(coordinator_a)
    refused = client.post(
        demographics_url(person),
        _form(
            client,
            demographics_url(person),
            height_cm="20",
            weight_kg="9999",
            date_of_birth="2027-01-01",
            reason="typo",
        ),
    )
    assert refused.status_code == 400
    errors = refused.context["form"].errors
    assert errors["height_cm"] == ["Height must be between 100 and 230 cm."]
    assert errors["weight_kg"] == ["Weight must be between 25 and 250 kg."]
    assert errors["date_of_birth"] == ["This date is in the future at the site."]
    assert 'class="error-summary' in refused.text or "error-summary" in refused.text

    bad_history = client.post(
        history_url(person),
        _form(client, history_url(person), onset="2025-13", reason="typo"),
    )
    assert bad_history.status_code == 400
    assert bad_history.context["form"].errors["onset"] == [
        "Enter a date as YYYY-MM-DD, YYYY-MM or YYYY."
    ]
    # Diagnosis before onset and onset after screening: the service's checks, on their fields.
    before_onset = client.post(
        history_url(person),
        _form(client, history_url(person), diagnosis_date="2025-01-10", reason="typo"),
    )
    assert before_onset.context["form"].errors["diagnosis_date"] == [
        "The diagnosis cannot precede symptom onset."
    ]
    after_screening = client.post(
        history_url(person),
        _form(client, history_url(person), onset="2026-03-09", reason="typo"),
    )
    assert after_screening.context["form"].errors["onset"] == [
        "Symptom onset cannot be after the screening date (2026-03-08)."
    ]
    assert Demographics.objects.get(participant=person).version == 1
    assert AlsHistory.objects.get(participant=person).version == 1


def test_a_correction_that_changes_nothing_or_gives_no_reason_is_refused(
    frozen, client_for, coordinator_a, person
):
    client = client_for(coordinator_a)
    unchanged = client.post(
        demographics_url(person), _form(client, demographics_url(person), reason="checking")
    )
    assert unchanged.status_code == 400
    assert "Nothing was changed" in unchanged.text
    no_reason = client.post(
        demographics_url(person), _form(client, demographics_url(person), weight_kg="61.0")
    )
    assert no_reason.context["form"].errors["reason"] == ["Give the reason for the correction."]
    assert Demographics.objects.get(participant=person).weight_kg == Decimal("60.0")


def test_a_stale_page_is_refused_and_its_entries_kept(frozen, client_for, coordinator_a, person):
    client = client_for(coordinator_a)
    first_tab = _form(client, demographics_url(person), height_cm="170.0", reason="Re-measured")
    second_tab = _form(client, demographics_url(person), weight_kg="58.5", reason="Re-weighed")
    assert client.post(demographics_url(person), first_tab).status_code == 302

    stale = client.post(demographics_url(person), second_tab)
    assert stale.status_code == 400
    assert "Someone else corrected these details" in stale.text
    assert "height (cm): 170.0" in stale.text  # what is stored now, where the entries differ
    stored = Demographics.objects.get(participant=person)
    assert (stored.height_cm, stored.weight_kg, stored.version) == (
        Decimal("170.0"),
        Decimal("60.0"),
        2,
    )
    # Nothing lost: the page keeps the entries, now based on the newer row.
    shown = PageForm.read(stale.text)
    assert (shown["weight_kg"], shown["version"]) == ("58.5", "2")
    shown.pop("csrfmiddlewaretoken")
    again = client.post(
        demographics_url(person), shown | {"height_cm": "170.0", "reason": "Re-weighed"}
    )
    assert again.status_code == 302
    stored.refresh_from_db()
    assert (stored.height_cm, stored.weight_kg, stored.version) == (
        Decimal("170.0"),
        Decimal("58.5"),
        3,
    )


# --- Who may ------------------------------------------------------------------------------


def test_the_pages_are_for_those_who_enter_data_at_the_site(
    frozen, client_for, person, monitor_a, coordinator_b
):
    for user in (monitor_a, coordinator_b):
        client = client_for(user)
        for url in (
            demographics_url(person),
            history_url(person),
            reverse("participant-return-to-screening", args=["ISF", person.pk]),
        ):
            assert client.get(url).status_code == 404
            assert client.post(url, {"reason": "x"}).status_code == 404


def test_the_date_of_birth_is_corrected_only_by_who_may_see_identifiers(
    frozen, client_for, coordinator_a, person, monkeypatch
):
    client = client_for(coordinator_a)
    assert 'name="date_of_birth"' in client.get(demographics_url(person)).text
    # A role that enters data but may not see identifiers (none has it today).
    without = permissions.CAPABILITIES[Role.COORDINATOR] - {permissions.VIEW_IDENTIFIERS}
    monkeypatch.setitem(permissions.CAPABILITIES, Role.COORDINATOR, without)
    coordinator_a.__dict__.pop("_ecrf_site_roles", None)

    page = client.get(demographics_url(person))
    assert 'name="date_of_birth"' not in page.text
    assert "1970-01-15" not in page.text
    assert "Age at screening: 56 years" in page.text
    # A date of birth posted anyway is not a field of this user's form: ignored.
    form = _form(client, demographics_url(person), weight_kg="61.0", reason="Re-weighed")
    saved = client.post(demographics_url(person), form | {"date_of_birth": "1980-01-01"})
    assert saved.status_code == 302
    stored = Demographics.objects.get(participant=person)
    assert (stored.date_of_birth, stored.weight_kg) == (date(1970, 1, 15), Decimal("61.0"))
    with pytest.raises(PermissionDenied):
        corrections.correct_demographics(
            actor=coordinator_a,
            participant=person,
            changes={"date_of_birth": date(1980, 1, 1)},
            expected_version=stored.version,
            reason="x",
        )


def test_a_corrected_participant_can_still_be_enrolled_as_before(frozen, coordinator_a, person):
    screen_eligible(coordinator_a, person)
    corrections.correct_demographics(
        actor=coordinator_a,
        participant=person,
        changes={"weight_kg": Decimal("62.0")},
        expected_version=1,
        reason="Re-weighed",
    )
    assert enrol(coordinator_a, person, TODAY).status == S.ENROLLED


def test_the_participant_page_links_the_corrections_for_those_who_enter_data(
    frozen, client_for, coordinator_a, monitor_a, person
):
    detail = reverse("participant-detail", args=["ISF", person.pk])
    page = client_for(coordinator_a).get(detail).text
    assert f'href="{demographics_url(person)}"' in page
    assert f'href="{history_url(person)}"' in page
    seen_by_monitor = client_for(monitor_a).get(detail).text
    assert demographics_url(person) not in seen_by_monitor


def test_the_status_page_of_a_screen_failure_leads_to_the_return_to_screening(
    frozen, client_for, coordinator_a, person
):
    services.change_status(
        actor=coordinator_a,
        participant=person,
        to_status=S.SCREEN_FAILED,
        effective_date=TODAY,
        reason="Onset region typed as bulbar",
    )
    page = client_for(coordinator_a).get(reverse("participant-status", args=["ISF", person.pk]))
    return_url = reverse("participant-return-to-screening", args=["ISF", person.pk])
    assert f'href="{return_url}"' in page.text
    # No checklist contradicts it: the way back is open, with a reason.
    refused = client_for(coordinator_a).post(return_url, {"reason": ""})
    assert refused.context["form"].errors["reason"] == ["This field is required."]
    assert client_for(coordinator_a).post(return_url, {"reason": "Typo"}).status_code == 302
    person.refresh_from_db()
    assert person.status == S.SCREENING
