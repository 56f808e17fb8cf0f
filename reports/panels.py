"""The trajectory card of the participant page (registered in ReportsConfig.ready)."""

from __future__ import annotations

from django.http import HttpRequest

from clinic.panels import Panel
from participants.models import Participant
from reports.trajectory import participant_trajectory


def trajectory_panel(request: HttpRequest, participant: Participant) -> Panel | None:
    # The page has checked that this user may see this participant; the charts carry no
    # identifiers (coded AE terms, no names), so every role that sees the page sees them.
    found = participant_trajectory(participant, participant.site.local_today())
    if found is None:
        return None
    return Panel(template="reports/_trajectory.html", context={"trajectory": found})
