"""Explicit extension points: lists of functions that apps above fill in AppConfig.ready().

Not Django signals: the service that owns a hook list calls its handlers synchronously,
inside its own transaction, so a handler that raises rolls the whole change back, and
reading the list tells you every reaction there is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from trials.models import Trial

H = TypeVar("H", bound=Callable[..., Any])


def connect(hooks: list[H], hook: H) -> None:
    """Append `hook` once (AppConfig.ready may run more than once in tests)."""
    if hook not in hooks:
        hooks.append(hook)


class Recomputed(Protocol):
    @property
    def changed(self) -> Sequence[Any]: ...
    @property
    def locked(self) -> Sequence[Any]: ...


# The trial's spirometry equation changed (the Django admin): stored values that were
# computed with it are recomputed (crfs re-derives every FVC of the trial).
class EquationHook(Protocol):
    def __call__(self, trial: Trial, *, actor: Any) -> Recomputed: ...


ON_SPIROMETRY_EQUATION_CHANGED: list[EquationHook] = []


# A role was granted or revoked (trials.services.grant_role / revoke_role): the audit app
# writes it to the access log, in the same transaction.
class RoleChangedHook(Protocol):
    def __call__(self, membership: Any, *, actor: Any, granted: bool) -> None: ...


ON_ROLE_CHANGED: list[RoleChangedHook] = []
