from __future__ import annotations

import pytest

from tests.factories import SiteFactory, member
from trials.models import Role


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
def client_for(client):
    """Log a user in on the Django test client: `client_for(user)`."""

    def login(user):
        client.force_login(user)
        return client

    return login
