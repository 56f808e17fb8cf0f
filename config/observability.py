"""What operators read when several web servers and workers share one database: a request
id that follows a request into the Celery tasks it queues, JSON log lines that carry it,
the duration of every task, and a worker heartbeat.

- ``RequestIdMiddleware`` gives each request an id (the proxy's ``X-Request-ID`` when
  ``DJANGO_TRUSTED_PROXY`` is set, else a new one), answers it in ``X-Request-ID`` and
  keeps it in a context variable for the log lines of that request.
- Celery's publish signal copies the id into the task's headers; the worker puts it back
  into the context variable while the task runs, so an export's log lines carry the id of
  the click that started it, whichever host runs it.
- ``JsonFormatter`` writes one JSON object per line (``ECRF_LOG_FORMAT=json``).
- ``heartbeat`` (a beat-scheduled task) stamps the cache; ``/healthz/workers`` reads the
  stamp's age and the broker's queue depth.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("request_id", default="-")
logger = logging.getLogger("ecrf.tasks")

HEARTBEAT_KEY = "ecrf:worker-heartbeat"
# A proxy's id is believed only if it looks like one (no log injection through it).
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        given = request.META.get("HTTP_X_REQUEST_ID", "")
        trusted = getattr(settings, "DJANGO_TRUSTED_PROXY", False)
        rid = given if trusted and _VALID_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


# Attributes every LogRecord has; anything else was passed in `extra=` and is logged too.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        entry.update(
            {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k not in entry}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


# --- Celery: the request id into the task's headers and back; durations.

_started: dict[str, float] = {}
_clock = time.monotonic  # a name of our own, so a test can move it


def add_request_id(headers: dict | None = None, **kwargs) -> None:
    if headers is not None and "request_id" not in headers:
        headers["request_id"] = request_id.get()


def task_started(task_id: str | None = None, task=None, **kwargs) -> None:
    rid = getattr(task.request, "request_id", None) if task is not None else None
    request_id.set(rid or (task_id or "-"))
    if task_id:
        _started[task_id] = _clock()


def task_finished(task_id: str | None = None, task=None, state: str | None = None, **kwargs):
    began = _started.pop(task_id or "", None)
    if began is None or task is None:
        return
    duration_ms = round((_clock() - began) * 1000)
    logger.info(
        "task %s %s in %d ms",
        task.name,
        state or "done",
        duration_ms,
        extra={
            "task": task.name,
            "task_id": task_id,
            "state": state,
            "duration_ms": duration_ms,
            "task_args": list(getattr(task.request, "args", None) or []),
        },
    )
    request_id.set("-")


def connect_signals() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(add_request_id, weak=False)
    task_prerun.connect(task_started, weak=False)
    task_postrun.connect(task_finished, weak=False)


# --- The heartbeat, and what /healthz/workers reports.


def stamp_heartbeat() -> None:
    from django.core.cache import cache

    cache.set(HEARTBEAT_KEY, time.time(), timeout=None)


def heartbeat_age() -> float | None:
    from django.core.cache import cache

    stamp = cache.get(HEARTBEAT_KEY)
    return None if stamp is None else max(0.0, time.time() - float(stamp))


def queue_depth(queue: str = "celery") -> int | None:
    """Messages waiting in the broker's default queue (None if the broker cannot say)."""
    from django.conf import settings
    from kombu import Connection

    url = settings.CELERY_BROKER_URL
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    try:
        with Connection(url, transport_options=options, connect_timeout=2) as conn:
            # Not passive: an empty queue has no key in Redis, and declaring creates nothing there.
            _name, count, _consumers = conn.default_channel.queue_declare(queue)
            return int(count)
    except Exception:  # an unreachable broker: nothing to count
        return None
