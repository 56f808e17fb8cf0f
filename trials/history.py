"""The audit context of a write: who made it, why, and through which path (page, api, admin,
command, task). Every app's services set it with `audit_context`, here below them all.

Each audit event row keeps the context that was current when it was written
(`PGHISTORY_CONTEXT_FIELD` is pghistory's JSON field: pghistory sends the metadata with each
SQL statement). `audit_context` sets metadata for the duration of a block and puts the previous
metadata back after it: pghistory's own nested `pghistory.context(...)` merges into the
outermost context and keeps it until that one exits, so a correction that calls a
re-derivation would write its own later rows with the re-derivation's reason, and a service
called after another in the same request would inherit the keys the first one set.

The path of commands and Celery tasks is ambient (`running`): the JSON encoder adds it to the
metadata of each statement (`PathEncoder`, `PGHISTORY_JSON_ENCODER`), so a long command opens
no context spanning its run. Web requests name their path in their own context
(audit.context's middleware), which wins over an ambient one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import pghistory
from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

PAGE = "page"
API = "api"
ADMIN = "admin"
COMMAND = "command"
TASK = "task"

_AMBIENT: ContextVar[dict[str, Any] | None] = ContextVar("audit_path", default=None)


@contextmanager
def audit_context(**metadata: Any) -> Iterator[None]:
    """Changes made inside carry `metadata` (actor_id, reason, form …) on their audit events,
    over the metadata of an enclosing context (a request's user and URL, a calling service's
    actor); after the block, the enclosing metadata is what later changes carry again."""
    # Entering pghistory's context gives the running one (a new one when none runs).
    with pghistory.context() as current:
        outer = dict(current.metadata)
        current.metadata.update(metadata)
        try:
            yield
        finally:
            current.metadata.clear()
            current.metadata.update(outer)


class PathEncoder(DjangoJSONEncoder):
    """Context metadata with the running command's or task's path added, unless the context
    names its own path (a web request run in a command, e.g. the test client in `shell`)."""

    def encode(self, o: Any) -> str:
        ambient = _AMBIENT.get()
        if ambient and isinstance(o, dict) and "path" not in o:
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


class AuditedCommand(BaseCommand):
    """A management command whose changes say path "command" and the command's name, also
    when called with `call_command` (manage.py gives the same default to every command,
    Django's own included, but call_command does not pass through manage.py)."""

    def execute(self, *args: Any, **options: Any) -> Any:
        with running(COMMAND, type(self).__module__.rsplit(".", 1)[-1]):
            return super().execute(*args, **options)
