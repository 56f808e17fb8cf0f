"""The entry forms' side: the wording a form shows in the page's language."""

from __future__ import annotations

from crfs.wording.models import InstrumentWording
from crfs.wording.selectors import current_wording, page_language
from crfs.wording.spec import ORIGINAL_LANGUAGE


class InstrumentWordingMixin:
    """Sets `wording` (the validated wording in the page's language, or None) and
    `wording_missing` (a page in another language than English has none loaded: the items
    stay in the published English and the page says so)."""

    wording_instrument: str
    wording: InstrumentWording | None
    wording_missing: bool

    def load_wording(self) -> InstrumentWording | None:
        language = page_language()
        self.wording = current_wording(self.wording_instrument, language)
        self.wording_missing = language != ORIGINAL_LANGUAGE and self.wording is None
        return self.wording
