from participants.models.clinical import AlsHistory, Demographics
from participants.models.consent import Consent, ConsentVersion
from participants.models.end_of_study import ContactAttempt, EndOfStudy
from participants.models.identity import ParticipantIdentity
from participants.models.participant import Participant, StatusChange
from participants.models.sequence import SiteSequence

__all__ = [
    "AlsHistory",
    "Consent",
    "ConsentVersion",
    "ContactAttempt",
    "Demographics",
    "EndOfStudy",
    "Participant",
    "ParticipantIdentity",
    "SiteSequence",
    "StatusChange",
]
