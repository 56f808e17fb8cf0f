from __future__ import annotations

import pytest

from queries import services, tasks
from tests.factories import member
from trials.models import Role


@pytest.fixture
def data_manager_a(site_a):
    return member(Role.DATA_MANAGER, site_a, "dm_a")


@pytest.fixture
def on_commit(monkeypatch, django_capture_on_commit_callbacks):
    """`with on_commit(): <a save>`: the save's after-commit work runs as the worker would
    run it (the Celery task's body, called with the ids it is sent)."""
    monkeypatch.setattr(
        tasks.after_record_saved,
        "delay",
        lambda *args: services.after_record_saved(*args),
    )

    def capture():
        return django_capture_on_commit_callbacks(execute=True)

    return capture
