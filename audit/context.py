"""Through which path a change came: every audit event's context says `path` (page, api,
admin, command, task) and where (the URL, the command's or the task's name).

Web requests: `AuditContextMiddleware` (pghistory's middleware, which opens one context per
request with the user and URL) adds the path from the URL. Commands and Celery tasks open no
context of their own: the services they call open theirs (one per service call, with its
reason), and `PathEncoder` (pghistory's JSON encoder of the context metadata) adds the path
of the running command or task to each. A context shared by a whole command or task would
make the seeder's forked workers update one context row at once and wait on each other, and
would give every change of a long run the last service's reason (pghistory merges nested
contexts into the outermost). A write made outside any service's context (today only the
nightly visit status refresh) has no context, hence no path.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from pghistory.middleware import HistoryMiddleware

PAGE = "page"
API = "api"
ADMIN = "admin"
COMMAND = "command"
TASK = "task"

# URL prefixes of the read API and the Django admin (config/urls.py, exports/urls.py).
API_PREFIX = "/api/"
ADMIN_PREFIX = "/admin/"

_AMBIENT: ContextVar[dict[str, Any] | None] = ContextVar("audit_path", default=None)


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


class PathEncoder(DjangoJSONEncoder):
    """Context metadata with the running command's or task's path added (a key the code
    sets itself, e.g. a request's own path, wins)."""

    def encode(self, o: Any) -> str:
        ambient = _AMBIENT.get()
        if ambient and isinstance(o, dict):
            o = {**ambient, **o}
        return super().encode(o)


@contextmanager
def running(path: str, name: str) -> Iterator[None]:
    """Changes made inside are attributed to `path` (command or task) `name`."""
    token = _AMBIENT.set({"path": path, path: name})
    try:
        yield
    finally:
        _AMBIENT.reset(token)


def start(path: str, name: str) -> object:
    """`running` for code that has no block to wrap (Celery's prerun/postrun signals)."""
    return _AMBIENT.set({"path": path, path: name})


def stop(token: object) -> None:
    try:
        _AMBIENT.reset(token)  # type: ignore[arg-type]
    except ValueError:
        # Set in another context (a task run eagerly from a request): forget it anyway.
        _AMBIENT.set(None)


def record_command_paths() -> None:
    """Every management command, run from manage.py or `call_command`, runs inside
    `running("command", <name>)`: Django has no hook around commands, and a base class
    would have to be added to each app's commands (and to Django's own, such as
    `changepassword` and `createsuperuser`), so `BaseCommand.execute` is wrapped once."""
    from django.core.management.base import BaseCommand

    original = BaseCommand.execute
    if getattr(original, "_audit_paths", False):
        return

    @functools.wraps(original)
    def execute(self, *args: Any, **options: Any) -> Any:
        name = type(self).__module__.rsplit(".", 1)[-1]
        with running(COMMAND, name):
            return original(self, *args, **options)

    execute._audit_paths = True  # type: ignore[attr-defined]
    BaseCommand.execute = execute  # type: ignore[method-assign]


_TASK_TOKENS: dict[str, object] = {}


def task_started(task_id: str | None = None, task: Any = None, **_kwargs: Any) -> None:
    """Celery's task_prerun. No context is opened for the whole task: a nightly batch calls
    many services, and one shared context would give all their changes the last one's
    reason (pghistory merges nested contexts into the outermost)."""
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
