"""A form submitted twice saves once: a contact attempt posted again (a double click, parallel
retries) is the row its first post saved, and a trial registers a national ID only once, even
when the registrations race."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from participants.models import ContactAttempt, Participant
from tests.factories import SiteFactory, member, register
from tests.html_form import PageForm
from tests.participants.test_pages import REGISTRATION
from trials import services as trial_services
from trials.models import Role
from trials.protocols import PROTOCOLS

TODAY = date(2026, 3, 10)


def _parallel(count: int, action) -> tuple[list, list[BaseException]]:
    """Run `action()` in `count` threads released together; their answers and failures."""
    barrier = threading.Barrier(count)
    answers: list = []
    failures: list[BaseException] = []

    def run():
        try:
            barrier.wait(timeout=30)
            answers.append(action())
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, failures


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Registration: one national ID, one record per trial ---------------------------------


@pytest.mark.django_db
def test_a_national_id_registered_again_is_refused_with_a_link_to_the_earlier_record(
    frozen, client_for, coordinator_a, site_a, trial
):
    client = client_for(coordinator_a)
    url = reverse("participant-register", args=["ISF"])
    assert client.post(url, REGISTRATION | {"trial": trial.pk}).status_code == 302
    earlier = Participant.objects.get()
    # The second click of a double submit, and the same person typed with a dash.
    for national_id in ("1234567890", "12345-67890"):
        again = client.post(url, REGISTRATION | {"trial": trial.pk, "national_id": national_id})
        assert again.status_code == 400
        [error] = again.context["form"].errors["national_id"]
        assert earlier.screening_number in error
        link = reverse("participant-detail", args=["ISF", earlier.pk])
        assert f'<a href="{link}">' in again.text  # a link, not escaped text
    assert Participant.objects.count() == 1
    # Another person registers as before.
    other = client.post(url, REGISTRATION | {"trial": trial.pk, "national_id": "9876543210"})
    assert other.status_code == 302 and Participant.objects.count() == 2


@pytest.mark.django_db
def test_a_national_id_registered_at_a_site_the_user_cannot_see_gets_a_neutral_refusal(
    frozen, client_for, coordinator_a, coordinator_b, site_a, site_b, trial
):
    earlier = register(coordinator_a, site_a, trial, screened_on=TODAY, national_id="1234567890")
    refused = client_for(coordinator_b).post(
        reverse("participant-register", args=["THR"]), REGISTRATION | {"trial": trial.pk}
    )
    assert refused.status_code == 400
    assert refused.context["form"].errors["national_id"] == [
        "This national ID is already registered in this trial at another site."
    ]
    assert earlier.screening_number not in refused.text
    assert reverse("participant-detail", args=["ISF", earlier.pk]) not in refused.text
    assert Participant.objects.count() == 1


@pytest.mark.django_db
def test_registrations_without_a_national_id_are_not_refused(frozen, coordinator_a, site_a, trial):
    for _ in range(2):
        register(coordinator_a, site_a, trial, screened_on=TODAY, national_id="")
    assert Participant.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_four_parallel_registrations_of_one_national_id_make_one_participant():
    site = SiteFactory(code="ISF")
    trial = trial_services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    coordinator = member(Role.COORDINATOR, site, "busy")
    url = reverse("participant-register", args=["ISF"])
    data = REGISTRATION | {"trial": trial.pk}

    answers, failures = _parallel(4, lambda: _client(coordinator).post(url, data).status_code)

    assert failures == []
    assert sorted(answers) == [302, 400, 400, 400]
    assert Participant.objects.count() == 1


# --- Contact attempts: a form posted twice is one attempt --------------------------------


def _attempt_form(client, url) -> dict[str, str]:
    """What the page's form submits, filled in."""
    values = PageForm.read(client.get(url).text)
    values.pop("csrfmiddlewaretoken", None)
    return values | {
        "attempted_on": "2026-03-10",
        "method": "phone",
        "outcome": "no_answer",
        "notes": "Rang twice",
    }


@pytest.mark.django_db
def test_the_same_contact_attempt_form_posted_twice_saves_one_attempt(
    frozen, client_for, coordinator_a, site_a, trial
):
    person = register(coordinator_a, site_a, trial, screened_on=TODAY)
    client = client_for(coordinator_a)
    url = reverse("participant-contact", args=["ISF", person.pk])
    form = _attempt_form(client, url)
    first = client.post(url, form)
    second = client.post(url, form)
    detail = reverse("participant-detail", args=["ISF", person.pk])
    assert (first.status_code, first.url) == (second.status_code, second.url) == (302, detail)
    assert ContactAttempt.objects.count() == 1

    # The same form sent back with other answers (back button, edit, save) is not taken for
    # the first attempt: it is refused, and shown again ready to save as a new one.
    changed = client.post(url, form | {"notes": "Rang a third time"})
    assert changed.status_code == 400
    assert "This form was saved already" in changed.text
    assert ContactAttempt.objects.count() == 1
    renewed = PageForm.read(changed.text)
    assert renewed["form_token"] != form["form_token"]
    assert renewed["notes"] == "Rang a third time"
    renewed.pop("csrfmiddlewaretoken", None)
    again = client.post(url, form | {"form_token": renewed["form_token"], "notes": "Third"})
    assert again.status_code == 302
    assert list(ContactAttempt.objects.values_list("notes", flat=True)) == [
        "Rang twice",
        "Third",
    ]
    # A fresh form is a fresh attempt.
    assert client.post(url, _attempt_form(client, url)).status_code == 302
    assert ContactAttempt.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_five_parallel_posts_of_one_contact_attempt_form_save_one_attempt():
    site = SiteFactory(code="ISF")
    trial = trial_services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    coordinator = member(Role.COORDINATOR, site, "busy")
    person = register(coordinator, site, trial, screened_on=date(2026, 3, 1))
    url = reverse("participant-contact", args=["ISF", person.pk])
    form = _attempt_form(_client(coordinator), url)

    answers, failures = _parallel(5, lambda: _client(coordinator).post(url, form).status_code)

    assert failures == []
    assert answers == [302] * 5
    assert ContactAttempt.objects.count() == 1


# --- Registration without a national ID: the form's token ---------------------------------


def _registration_form(client, url, trial, **changes) -> dict[str, str]:
    """The page's registration form as a browser submits it, filled in without a national ID."""
    values = PageForm.read(client.get(url).text)
    values.pop("csrfmiddlewaretoken", None)
    assert values["form_token"]  # one nonce per rendered form
    return values | REGISTRATION | {"trial": str(trial.pk), "national_id": ""} | changes


@pytest.mark.django_db
def test_the_same_registration_form_posted_twice_without_a_national_id_registers_once(
    frozen, client_for, coordinator_a, site_a, trial
):
    client = client_for(coordinator_a)
    url = reverse("participant-register", args=["ISF"])
    form = _registration_form(client, url, trial)
    first = client.post(url, form)
    second = client.post(url, form)
    [participant] = Participant.objects.all()
    detail = reverse("participant-detail", args=["ISF", participant.pk])
    assert (first.status_code, first.url) == (second.status_code, second.url) == (302, detail)

    # The same form sent back for another person (back button, edit) is not taken for the
    # first registration: refused, and shown again ready to register them.
    changed = client.post(url, form | {"full_name": "Someone Else"})
    assert changed.status_code == 400
    assert "This form has registered a person already (ISF-S001)" in changed.text
    renewed = PageForm.read(changed.text)
    assert renewed["form_token"] != form["form_token"]
    again = client.post(
        url, form | {"full_name": "Someone Else", "form_token": renewed["form_token"]}
    )
    assert again.status_code == 302
    # A fresh form is a fresh registration (no national ID: nothing else tells them apart).
    assert client.post(url, _registration_form(client, url, trial)).status_code == 302
    assert Participant.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_five_parallel_posts_of_one_registration_form_without_a_national_id_register_once():
    site = SiteFactory(code="ISF")
    trial = trial_services.load_trial(protocol=PROTOCOLS["NCT02116634"])
    coordinator = member(Role.COORDINATOR, site, "busy")
    url = reverse("participant-register", args=["ISF"])
    form = _registration_form(_client(coordinator), url, trial)

    answers, failures = _parallel(5, lambda: _client(coordinator).post(url, form).url)

    assert failures == []
    [participant] = Participant.objects.all()
    assert answers == [reverse("participant-detail", args=["ISF", participant.pk])] * 5
