"""What apps above clinic add to the participant page (reports: the trajectory charts).

clinic cannot import them, so they register a function in their AppConfig.ready(); the
page calls each one and includes the template it names, with its context as `data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from django.http import HttpRequest

    from participants.models import Participant


@dataclass(frozen=True)
class Panel:
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


class ParticipantPanel(Protocol):
    # None: nothing to show this user for this participant.
    def __call__(self, request: HttpRequest, participant: Participant) -> Panel | None: ...


PARTICIPANT_PANELS: list[ParticipantPanel] = []


def participant_panels(request: HttpRequest, participant: Participant) -> list[Panel]:
    return [panel for hook in PARTICIPANT_PANELS if (panel := hook(request, participant))]
