"""Registry of protocol definitions, keyed by NCT number.

A second trial is one more module here and one more entry in PROTOCOLS; the
system check in trials.protocols.checks validates every entry at start-up.
"""

from __future__ import annotations

from trials.protocols import nct02116634
from trials.protocols.definitions import Protocol

PROTOCOLS: dict[str, Protocol] = {p.nct_id: p for p in (nct02116634.PROTOCOL,)}
DEFAULT_NCT_ID = nct02116634.PROTOCOL.nct_id


def get_protocol(nct_id: str) -> Protocol:
    try:
        return PROTOCOLS[nct_id]
    except KeyError:
        raise LookupError(f"no protocol definition for {nct_id!r}") from None
