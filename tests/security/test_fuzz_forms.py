"""Hostile input to every page (issue 20): Hypothesis posts wrong types, huge and tiny numbers,
NaN, inf, NUL bytes, 100,000-character strings, mixed-direction text, impossible dates, fields
left out and fields sent twice, each twice in a row (a double submit), to every form of every
page, and sends hostile query parameters to every page (the list pages' filters included).

Never a 500; a refused POST answers with a field error (a 4xx, or the form again with its
errors) and changes nothing in the database (every table, the audit event tables included).

Discovery is systematic: every named URL pattern of the resolver (the CRF entry page once per
form of the CRF registry) is filled with the ids of a small seeded study, every page is read
as a user holding every role, and each <form> is fuzzed at the URL its action names. A new
page or form is covered without touching this file; a new URL parameter without an id here
fails `test_every_url_pattern_is_reached`.

Bounded: `strategies.FUZZ` (15 examples per form by default, `FUZZ_EXAMPLES` to change,
derandomized when CI is set). Each example runs in a savepoint rolled back afterwards, so every
example starts from the same seeded study.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from hypothesis import given
from hypothesis import strategies as st

from tests.security import fuzz_study
from tests.security.fuzz_study import PageForm, Study, changed, snapshot
from tests.security.strategies import FUZZ, field_value, hostile_value, random_text

# Every test is marked, so that pytest-django sets up the test database even for a selection
# (-k) of tests that do not ask for `db` themselves (the crawl's seed would go elsewhere).
pytestmark = pytest.mark.django_db


PATTERNS = fuzz_study.url_patterns()

# Where a refused request writes on purpose: a failed login is counted and logged (lockout),
# and a logout (whatever its body) is done and logged, then sends to the login page.
LOGIN_PAGES = {"login", "logout", "accounts-verify", "password_change", "password_reset"}

# Not fuzzed, with the reason (every other pattern is).
NOT_FUZZED = {
    # Serves the OpenAPI description: test_fuzz_api fuzzes the API it describes.
    "api-docs": "the API's own fuzz (test_fuzz_api.py)",
}

# Answers above 499 that are a page's meaning, not a failure: the workers' health check says
# 503 when no worker answers (none runs beside the tests).
EXPECTED_5XX = {"healthz-workers": {503}}

ERROR_MARK = re.compile(
    r'is-invalid|invalid-feedback|errorlist|alert-danger|class="[^"]*\berror\b|role="alert"'
)


@dataclass
class Crawl:
    study: Study
    urls: dict[str, list[str]]
    # url name → forms whose action is that URL (deduplicated by fields)
    forms: dict[str, list[PageForm]] = field(default_factory=dict)
    # url → what the first GET raised (a 500), for the pattern's test to report
    failures: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def crawl(django_db_setup, django_db_blocker):
    """The seeded study (in a transaction rolled back at the end of the module) and every
    page of it read once."""
    with (
        django_db_blocker.unblock(),
        override_settings(ECRF_IDLE_TIMEOUT_MINUTES=0),
        transaction.atomic(),
    ):
        study = fuzz_study.seed_study(_SignedIn())
        client = Client()
        _sign_in_base(client, study.user)
        result = Crawl(study=study, urls={})
        for name, route, params in PATTERNS:
            result.urls[name] = fuzz_study.urls_of(name, route, params, study)
            for url in result.urls[name]:
                try:
                    response = client.get(url)
                except Exception as error:
                    result.failures[url] = repr(error)
                    continue
                if "text/html" not in response.get("Content-Type", ""):
                    continue
                for form in fuzz_study.forms_of(url, response.content.decode()):
                    target = fuzz_study.url_name(form.action)
                    if target is None or (target in ("logout", "set_language") and name != target):
                        continue
                    known = result.forms.setdefault(target, [])
                    if form.key not in {f.key for f in known}:
                        known.append(form)
                _sign_in_base(client, study.user)  # a page that signs out (logout) does not stop us
        yield result
        transaction.set_rollback(True)


class _SignedIn(Client):
    """The seeding client: signs in with the second factor passed."""

    def force_login(self, user, backend=None):
        _sign_in_base(self, user, backend)


def _sign_in_base(client: Client, user, backend=None) -> None:
    """As conftest's force_login: the user has passed the second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY

    Client.force_login(client, user, backend)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = "tests.force_login"
    session.save()


def _cases() -> list:
    from crfs import registry

    cases = []
    for name, _route, params in PATTERNS:
        if name in NOT_FUZZED:
            continue
        if "form_code" in params:
            cases += [
                pytest.param(name, code, id=f"{name}-{code}") for code in registry.entry_forms()
            ]
        else:
            cases.append(pytest.param(name, None, id=name))
    return cases


def _check_no_server_error(response, what: str, name: str = "") -> None:
    if response.status_code in EXPECTED_5XX.get(name, ()):
        return
    assert response.status_code < 500, f"{what}: {response.status_code}"


def _post_and_check(
    client: Client, url: str, data: dict, ignore: set[str], what: str, *, a_form: bool, name: str
) -> None:
    """POST twice (a double submit): never a 500; a refusal saves nothing and, for a form the
    page offered (`a_form`), shows an error."""
    for attempt in ("first", "second"):
        before = snapshot(ignore)
        response = client.post(url, data)
        _check_no_server_error(response, f"{what} ({attempt} submit)", name)
        if response.status_code >= 500:
            continue
        diff = changed(before, snapshot(ignore))
        status = response.status_code
        refused_to_login = status in (301, 302, 303) and "/accounts/login/" in response.get(
            "Location", ""
        )
        if status >= 400 or refused_to_login:
            assert not diff, f"{what}: refused with {status} but wrote to {diff}"
        elif a_form and status == 200 and not diff and "text/html" in response["Content-Type"]:
            html = response.content.decode()
            assert ERROR_MARK.search(html) or _no_error_expected(url), (
                f"{what}: 200 with nothing saved and no error shown"
            )


def _no_error_expected(url: str) -> bool:
    """Pages whose POST may legitimately change nothing and say nothing (none so far)."""
    return False


def _form_data(draw, form: PageForm) -> dict:
    data: dict = {}
    for name, offered in form.fields.items():
        value = draw(field_value([v for v in offered if v is not None]))
        if value is not None:
            data[name] = value
    if draw(st.booleans()):
        data[draw(random_text.filter(bool))] = draw(hostile_value)
    return data


@pytest.mark.parametrize(("name", "form_code"), _cases())
def test_hostile_input_never_fails_and_a_refusal_saves_nothing(crawl, db, name, form_code):
    urls = crawl.urls[name]
    if form_code:
        urls = [u for u in urls if f"/forms/{form_code}/" in u]
    for url in urls:
        assert url not in crawl.failures, f"GET {url}: {crawl.failures[url]}"

    client = Client()
    _sign_in_base(client, crawl.study.user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    ignore = fuzz_study.LOGIN_RECORDS if name in LOGIN_PAGES else set()

    def fresh() -> None:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key

    forms = crawl.forms.get(name, [])
    get_forms = [f for f in forms if f.method == "get"]
    post_forms = [f for f in forms if f.method == "post"]
    page_urls = urls[:1]  # query parameters: one context is enough

    @FUZZ
    @given(data=st.data())
    def query_parameters(data):
        url = data.draw(st.sampled_from(page_urls))
        form = data.draw(st.sampled_from(get_forms)) if get_forms else PageForm("get", url)
        params = _form_data(data.draw, form)
        for generic in ("page", "q", "sort", "status", "site"):
            value = data.draw(field_value([]))
            if value is not None:
                params[generic] = value
        fresh()
        with transaction.atomic():
            response = client.get(url, params)
            _check_no_server_error(response, f"GET {url} {params!r:.300}", name)
            transaction.set_rollback(True)

    @FUZZ
    @given(data=st.data())
    def post(data, form: PageForm, url: str, a_form: bool):
        payload = _form_data(data.draw, form)
        fresh()
        with transaction.atomic():
            what = f"POST {url} {payload!r:.300}"
            _post_and_check(client, url, payload, ignore, what, a_form=a_form, name=name)
            transaction.set_rollback(True)

    if page_urls:
        query_parameters()
    # Each form at the URLs where the page offered it; with none found, random fields.
    posted = False
    for form in post_forms:
        for url in urls:
            if fuzz_study.url_name(url) == name and (form.action == url or len(urls) == 1):
                post(form=form, url=url, a_form=True)
                posted = True
    if not posted:
        for url in urls[:1]:
            post(form=PageForm("post", url, fields={"x": [], "reason": []}), url=url, a_form=False)


def test_every_url_pattern_is_reached(crawl):
    """Every pattern is filled with real ids (a new parameter needs one in fuzz_study)."""
    unreached = [
        name for name, _r, _p in PATTERNS if name not in NOT_FUZZED and not crawl.urls[name]
    ]
    assert not unreached


def test_the_crawl_finds_the_forms_of_the_registry_and_the_accounts(crawl):
    """The discovery itself: each CRF's entry form, the login and the clinical forms."""
    assert {"crf-entry", "participant-register", "adverse-event-new", "conmed-new"} <= set(
        crawl.forms
    )
    assert "query-detail" in crawl.forms
