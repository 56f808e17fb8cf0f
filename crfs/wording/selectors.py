"""Which validated wording a page shows."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

from crfs.wording.models import InstrumentWording
from crfs.wording.spec import ORIGINAL_LANGUAGE


def page_language() -> str:
    """The active language's code without a region (fa-ir -> fa)."""
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()


def current_wording(instrument: str, language: str) -> InstrumentWording | None:
    """The latest loaded wording of `instrument` (form code) in `language`; None for the
    published English or when none is loaded. One query."""
    if language == ORIGINAL_LANGUAGE:
        return None
    return (
        InstrumentWording.objects.filter(instrument=instrument, language=language)
        .order_by("-loaded_at", "-pk")
        .first()
    )
