"""/healthz: is the database reachable, is the broker reachable."""

from __future__ import annotations

import os

from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def database_status(alias: str = "default") -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "down"
    return "up"


def broker_status(url: str | None = None, timeout: float = 2.0) -> str:
    from django.conf import settings
    from kombu import Connection

    url = url or settings.CELERY_BROKER_URL
    options = (
        getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        if url == settings.CELERY_BROKER_URL
        else {}
    )
    try:
        with Connection(url, transport_options=options, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            # The filesystem transport "connects" without touching anything: check its folder instead.
            folder = getattr(conn.default_channel, "data_folder_out", None)
            if folder is not None and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
                return "down"
    except Exception:  # kombu raises transport-specific errors; any of them means unreachable
        return "down"
    return "up"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value == "up" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", **checks}, status=200 if healthy else 503
    )


@never_cache
@require_GET
def healthz_workers(request: HttpRequest) -> JsonResponse:
    """For operators (not a load balancer's check: a dead worker must not take web down).
    503 when no worker has run the heartbeat task within three of its intervals."""
    from django.conf import settings

    from config import observability

    interval = float(settings.ECRF_HEARTBEAT_SECONDS)
    age = observability.heartbeat_age()
    fresh = age is not None and age <= 3 * interval
    body = {
        "status": "ok" if fresh else ("stale" if age is not None else "no heartbeat yet"),
        "heartbeat_age_seconds": None if age is None else round(age, 1),
        "heartbeat_interval_seconds": interval,
        "queue_depth": observability.queue_depth(),
    }
    return JsonResponse(body, status=200 if fresh else 503)
