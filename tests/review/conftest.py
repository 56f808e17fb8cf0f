from __future__ import annotations

import pytest

from tests.factories import investigator_of, member
from trials import records
from trials.models import Role


@pytest.fixture
def data_manager_a(site_a):
    return member(Role.DATA_MANAGER, site_a, "dm_a")


@pytest.fixture
def investigator_a(site_a):
    return investigator_of(site_a)


def record_type(key: str):
    found = records.get(key)
    assert found is not None
    return found
