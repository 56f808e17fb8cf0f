"""Through which path a change came: every audit event's context says `path` (page, api,
admin, command, task) and where (the URL, the command's or the task's name).

The context itself (the metadata each event row keeps, set by services with
`trials.history.audit_context`, and the ambient path of commands and tasks) lives in
`trials.history`, below every app that writes. Here: web requests, whose context
`AuditContextMiddleware` (pghistory's middleware: one context per request with the user and
URL) opens with the path from the URL; Celery tasks, whose path is set by the prerun/postrun
signals; and `describe`, which reads a path back. Commands: `trials.history.AuditedCommand`
(the project's commands) and manage.py (any command, Django's own and `shell` included).
No context spans a command or a task: each service opens its own, with its reason.
A write made outside any service's context (today only the nightly visit status refresh)
has no context, hence no path.
"""

from __future__ import annotations

from typing import Any

from pghistory.middleware import HistoryMiddleware

from trials.history import ADMIN, API, COMMAND, PAGE, TASK, start, stop

__all__ = ["ADMIN", "API", "COMMAND", "PAGE", "TASK", "AuditContextMiddleware", "describe"]

# URL prefixes of the read API and the Django admin (config/urls.py, exports/urls.py).
API_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/"


def path_of_url(url: str) -> str:
    if url.startswith(API_PREFIX):
        return API
    if url.startswith(ADMIN_PREFIX):
        return ADMIN
    return PAGE


class AuditContextMiddleware(HistoryMiddleware):
    def get_context(self, request) -> dict[str, Any]:
        context = super().get_context(request)
        context["path"] = path_of_url(request.path)
        return context


_TASK_TOKENS: dict[str, object] = {}


def task_started(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    """Celery's task_prerun: the task's changes say its name (each service its reason)."""
    if task_id is not None:
        _TASK_TOKENS[task_id] = start(TASK, getattr(task, "name", "") or "")


def task_ended(task_id: str | None = None, **_kwargs: Any) -> None:
    """Celery's task_postrun (sent after success and failure alike)."""
    token = _TASK_TOKENS.pop(task_id, None) if task_id is not None else None
    if token is not None:
        stop(token)


def describe(metadata: dict[str, Any] | None) -> tuple[str, str]:
    """(path, where) of an event's context metadata: ("page", "/sites/…/"), ("command",
    "seed_demo") …; ("", "") when the change came before paths were recorded."""
    if not metadata:
        return "", ""
    path = metadata.get("path") or ""
    if path in (PAGE, API, ADMIN):
        return path, str(metadata.get("url") or "")
    if path in (COMMAND, TASK):
        return path, str(metadata.get(path) or "")
    if metadata.get("url"):
        return path_of_url(str(metadata["url"])), str(metadata["url"])
    return "", ""
