"""The participant's trajectory charts for the casebook: the same SVG as the participant
page (reports.trajectory, written by the trajectory work), with each chart's data table."""

from __future__ import annotations

import logging

from participants.models import Participant

log = logging.getLogger(__name__)


def charts_of(participant: Participant) -> list[tuple[str, bytes, list[list[str]]]]:
    """(title, SVG bytes, table rows with the header first) per chart; none until the
    trajectory module exists."""
    try:
        from reports import trajectory  # noqa: F401
    except ImportError:
        return []
    return []
