"""An operator follows one click from the web server into the worker that ran its job, and
asks whether any worker is alive and how much work waits."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from config import observability
from config.celery import app, heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The console handler as settings configure it in production: filter + JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(observability.RequestIdFilter())
    handler.setFormatter(observability.JsonFormatter())
    log = logging.getLogger("ecrf.test")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield log, stream
    log.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_answer_carries_a_request_id_that_its_log_lines_repeat(client, json_log):
    log, stream = json_log
    seen = []

    def view(request):
        log.info("exporting", extra={"site": "ISF"})
        seen.append(observability.request_id.get())
        return HttpResponse("ok")

    response = observability.RequestIdMiddleware(view)(RequestFactory().get("/"))
    rid = response["X-Request-ID"]
    assert len(rid) == 32 and seen == [rid]
    [line] = _lines(stream)
    assert line["request_id"] == rid
    assert line["message"] == "exporting" and line["site"] == "ISF"
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
    # Outside a request the id is back to none.
    assert observability.request_id.get() == "-"
    assert client.get("/healthz")["X-Request-ID"]


def test_a_proxys_request_id_is_believed_only_behind_a_trusted_proxy(settings):
    middleware = observability.RequestIdMiddleware(lambda r: HttpResponse())
    given = RequestFactory().get("/", HTTP_X_REQUEST_ID="proxy-abc.123")
    settings.DJANGO_TRUSTED_PROXY = False
    assert middleware(given)["X-Request-ID"] != "proxy-abc.123"
    settings.DJANGO_TRUSTED_PROXY = True
    assert middleware(given)["X-Request-ID"] == "proxy-abc.123"
    # A forged id that would break a log line is replaced even behind the proxy.
    hostile = RequestFactory().get("/", HTTP_X_REQUEST_ID='x"\n{"level": "ERROR"}')
    assert middleware(hostile)["X-Request-ID"] != hostile.META["HTTP_X_REQUEST_ID"]


def test_a_task_queued_by_a_request_logs_its_duration_under_that_requests_id(json_log, monkeypatch):
    _log, stream = json_log
    clock = iter([100.0, 102.5])
    monkeypatch.setattr(observability, "_clock", lambda: next(clock))
    logging.getLogger("ecrf.tasks").addHandler(logging.getLogger("ecrf.test").handlers[-1])
    try:
        token = observability.request_id.set("click-42")
        headers: dict = {}
        observability.add_request_id(headers=headers)
        observability.request_id.reset(token)
        assert headers == {"request_id": "click-42"}

        # On the worker (another host): the header comes back as the task request's field.
        task = SimpleNamespace(
            name="exports.run_export",
            request=SimpleNamespace(request_id="click-42", args=[17]),
        )
        observability.task_started(task_id="t-1", task=task)
        assert observability.request_id.get() == "click-42"
        observability.task_finished(task_id="t-1", task=task, state="SUCCESS")
    finally:
        logging.getLogger("ecrf.tasks").handlers.clear()
    [line] = _lines(stream)
    assert line["request_id"] == "click-42"
    assert line["task"] == "exports.run_export" and line["task_args"] == [17]
    assert line["duration_ms"] == 2500 and line["state"] == "SUCCESS"
    assert observability.request_id.get() == "-"


def test_publishing_any_task_stamps_the_request_id_into_its_headers():
    from celery.signals import before_task_publish

    headers: dict = {}
    token = observability.request_id.set("click-7")
    try:
        before_task_publish.send(sender="reports.build_casebook", headers=headers, body=())
    finally:
        observability.request_id.reset(token)
    assert headers["request_id"] == "click-7"


def test_workers_health_says_stale_when_no_worker_ran_the_heartbeat(client, settings):
    settings.ECRF_HEARTBEAT_SECONDS = 60
    cache.delete(observability.HEARTBEAT_KEY)
    response = client.get("/healthz/workers")
    assert response.status_code == 503
    assert response.json()["status"] == "no heartbeat yet"

    with time_machine.travel("2026-12-01 10:00:00Z", tick=False) as traveller:
        heartbeat()  # what a worker runs when beat sends it
        traveller.shift(timedelta(seconds=90))
        body = client.get("/healthz/workers").json()
        assert body["status"] == "ok" and body["heartbeat_age_seconds"] == 90.0
        assert isinstance(body["queue_depth"], int) and body["queue_depth"] >= 0
        traveller.shift(timedelta(seconds=100))  # 190 s > three intervals
        stale = client.get("/healthz/workers")
        assert stale.status_code == 503 and stale.json()["status"] == "stale"
    cache.delete(observability.HEARTBEAT_KEY)


def test_beat_sends_the_heartbeat_every_interval(settings):
    entry = app.conf.beat_schedule["worker-heartbeat"]
    assert entry["task"] == "ops.heartbeat"
    assert float(entry["schedule"]) == float(settings.ECRF_HEARTBEAT_SECONDS)


def test_queue_depth_counts_waiting_messages(tmp_path, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        # Else kombu keeps the queue's bindings in ./control, inside the checkout.
        "control_folder": str(tmp_path / "control"),
    }
    from kombu import Connection

    assert observability.queue_depth("depth-test") == 0
    with Connection(
        "filesystem://", transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    ) as conn:
        queue = conn.SimpleQueue("depth-test")
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.close()
    assert observability.queue_depth("depth-test") == 2
