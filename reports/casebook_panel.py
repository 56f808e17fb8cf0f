"""The casebook's card on the participant page (registered in clinic.panels)."""

from __future__ import annotations

from clinic.panels import Panel
from reports import casebook_selectors as selectors


def casebook_panel(request, participant) -> Panel | None:
    if not selectors.may_print(request.user, participant.site):
        return None
    return Panel(
        "reports/_casebook_panel.html",
        {
            "participant": participant,
            "site": participant.site,
            "job": selectors.latest_job(request.user, participant),
            "identifiers": selectors.may_see_identifiers(request.user, participant.site),
        },
    )
