from participants.models.clinical import AlsHistory, Demographics
from participants.models.identity import ParticipantIdentity
from participants.models.participant import Participant, StatusChange
from participants.models.sequence import SiteSequence

__all__ = [
    "AlsHistory",
    "Demographics",
    "Participant",
    "ParticipantIdentity",
    "SiteSequence",
    "StatusChange",
]
