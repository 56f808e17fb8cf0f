"""An operator's load balancer asks /healthz whether the database and broker answer."""

from __future__ import annotations

import pytest
from django.db import connections
from django.db.utils import ConnectionHandler

from config import health

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_are_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up", "broker": "up"}
    assert "no-cache" in response["Cache-Control"]


def test_broker_that_does_not_answer_is_down():
    assert health.broker_status("redis://127.0.0.1:1/0", timeout=1) == "down"


def test_filesystem_broker_without_its_folder_is_down(tmp_path, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "gone"),
        "data_folder_out": str(tmp_path / "gone"),
    }
    assert health.broker_status() == "down"


def test_database_that_does_not_answer_is_down(monkeypatch):
    settings = dict(connections["default"].settings_dict)
    settings.update(HOST="127.0.0.1", PORT="1", NAME="nowhere", CONN_MAX_AGE=0)
    monkeypatch.setattr(health, "connections", ConnectionHandler({"default": settings}))
    assert health.database_status() == "down"


@pytest.mark.parametrize("down", ["database", "broker"])
def test_healthz_is_503_when_either_is_down(client, monkeypatch, down):
    if down == "database":
        settings = dict(connections["default"].settings_dict)
        settings.update(HOST="127.0.0.1", PORT="1", NAME="nowhere", CONN_MAX_AGE=0)
        monkeypatch.setattr(health, "connections", ConnectionHandler({"default": settings}))
    else:
        monkeypatch.setattr(health, "broker_status", lambda: "down")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()[down] == "down"
