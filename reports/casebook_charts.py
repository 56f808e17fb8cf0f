"""The participant's trajectory charts for the casebook: the same SVG as the participant
page (reports.trajectory), with each chart's data tables and notes."""

from __future__ import annotations

from participants.models import Participant
from reports.casebook_selectors import ChartView


def charts_of(participant: Participant) -> list[ChartView]:
    try:
        from reports.trajectory import participant_trajectory
    except ImportError:  # the trajectory lands apart from the casebook
        return []
    trajectory = participant_trajectory(participant, participant.site.local_today())
    if trajectory is None:
        return []
    return [
        ChartView(
            title=chart.title,
            svg=str(chart.svg).encode(),
            notes=list(chart.notes),
            tables=[
                (table.caption, list(table.columns), [list(row) for row in table.rows])
                for table in chart.tables
            ],
        )
        for chart in trajectory.charts
    ]
