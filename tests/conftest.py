from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from tests.factories import SiteFactory, member
from trials import services
from trials.models import Role
from trials.protocols import PROTOCOLS

# Hypothesis' per-example deadline (200 ms) is a timed assertion: on a loaded 2-core machine a
# correct example took 298 ms and failed the FVC look-up test. Speed is measured by
# benchmarks/, never by tests.
hypothesis_settings.register_profile("ecrf", deadline=None)
hypothesis_settings.load_profile("ecrf")

# A fixed "now" for stories that need one: 10 March 2026, 08:00 UTC (11:30 in Tehran).
NOW = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def default_language():
    """Every story starts in the default language. A request through LocaleMiddleware leaves
    its language active in the thread (a server's next request activates its own), so a
    Persian page in one test made the next test's direct renders Persian."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def edit_checks_not_queued(monkeypatch):
    """A save queues its edit checks for a worker after commit; outside the stories of the
    checks (tests/queries, which run the task's body instead) nothing is sent, so test runs
    do not fill the broker with tasks no worker will take."""
    from queries import tasks

    monkeypatch.setattr(tasks.after_record_saved, "delay", lambda *args: None)
    monkeypatch.setattr(tasks.run_all_checks, "delay", lambda: None)


@pytest.fixture(autouse=True)
def force_login_passes_second_factor(monkeypatch, settings):
    """`client.force_login(user)` stands for a user who passed both factors, so stories of
    other pages need no authenticator; tests/accounts prove the requirement with real logins
    (the login page), which this leaves alone. The idle timeout is off for the same reason
    (stories move the clock by months between two pages); tests/accounts turn it on."""
    from django.test.client import ClientMixin
    from django_otp import DEVICE_ID_SESSION_KEY

    settings.ECRF_IDLE_TIMEOUT_MINUTES = 0
    original = ClientMixin.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = "tests.force_login"
        session.save()

    monkeypatch.setattr(ClientMixin, "force_login", force_login)


@pytest.fixture
def site_a(db):
    return SiteFactory(code="ISF", name="Neurosciences Research Center, Isfahan")


@pytest.fixture
def site_b(db):
    return SiteFactory(code="THR", name="Tehran site")


@pytest.fixture
def coordinator_a(site_a):
    return member(Role.COORDINATOR, site_a, "coord_a")


@pytest.fixture
def coordinator_b(site_b):
    return member(Role.COORDINATOR, site_b, "coord_b")


@pytest.fixture
def monitor_a(site_a):
    return member(Role.MONITOR, site_a, "monitor_a")


@pytest.fixture
def trial(db):
    return services.load_trial(protocol=PROTOCOLS["NCT02116634"])


@pytest.fixture
def frozen(time_machine):
    """Stop the clock at NOW (tests may move it with `time_machine.move_to`)."""
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def client_for(client):
    """Log a user in on the Django test client: `client_for(user)`."""

    def login(user):
        client.force_login(user)
        return client

    return login


# The transplantation day of the participant whose month-6 visit the entry tests fill in.
TX_DAY = date(2025, 8, 1)


@pytest.fixture
def tx_participant(frozen, coordinator_a, site_a, trial):
    """A participant transplanted on TX_DAY, the one `m06` belongs to."""
    from tests.factories import transplanted_participant

    return transplanted_participant(coordinator_a, site_a, trial, on=TX_DAY)


@pytest.fixture
def m06(tx_participant, coordinator_a):
    """The month-6 visit of `tx_participant`, dated two days before its target (inside the
    window), ready for its forms."""
    from visits.services import record_visit_date

    visit = tx_participant.visits.get(code="M06")
    record_visit_date(
        actor=coordinator_a, visit=visit, actual_date=visit.target_date - timedelta(days=2)
    )
    visit.refresh_from_db()
    return visit
