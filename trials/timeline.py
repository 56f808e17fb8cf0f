"""A record's story beyond its own changes, for its history page: verifications and their
clearing, e-signatures and their invalidation, locks and unlocks (review), queries and their
messages (queries).

The history page belongs to `audit`, which sits below review and queries and cannot import
them; so they add their part through `HISTORY_SOURCES`, filled in their AppConfig.ready()
(trials.hooks style). Each source answers for many records of one type at once, in a number
of queries that does not grow with the records or their events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from trials.records import RecordType


@dataclass(frozen=True)
class HistoryEntry:
    """One step of a record's story that is not a change of the record itself."""

    record_type: str
    record_id: int
    at: datetime
    kind: str  # stable, for tests and styling: "verified", "query_opened" …
    label: str  # what happened, translated ("Source data verified")
    who: str = ""
    detail: str = ""  # the fields concerned, a query's message, a signature's meaning
    reason: str = ""
    tone: str = "secondary"  # the badge's colour: success, warning, danger, info, secondary
    link: str = ""  # a page with more (a query's thread)

    # Set apart from the record's own changes (audit.selectors.Entry) in one timeline.
    is_change = False


HistorySource = Callable[[RecordType, Sequence[int]], list[HistoryEntry]]

HISTORY_SOURCES: list[HistorySource] = []


def entries_for(record_type: RecordType, ids: Sequence[int]) -> list[HistoryEntry]:
    """Every source's entries for records `ids` of `record_type`, in no particular order."""
    found: list[HistoryEntry] = []
    if ids:
        for source in HISTORY_SOURCES:
            found.extend(source(record_type, ids))
    return found
