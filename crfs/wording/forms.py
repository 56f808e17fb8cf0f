"""The entry forms' side: the wording a form shows in the page's language."""

from __future__ import annotations

from crfs.wording.models import InstrumentWording
from crfs.wording.selectors import current_wording, page_language
from crfs.wording.spec import ORIGINAL_LANGUAGE

# The wording a saved instrument records when no validated translation was shown.
PUBLISHED_ORIGINAL = "published original"


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


def wording_used(form: object) -> dict[str, str] | None:
    """What an instrument's saved version records of the wording its answers were given in
    (crfs.entry.save_form's `wording`): the validated translation's instrument, language,
    source, version and file checksum, or the published English original. None for a form
    that is no instrument."""
    if not isinstance(form, InstrumentWordingMixin) or not hasattr(form, "wording"):
        return None
    wording = form.wording
    if wording is None:
        return {
            "instrument": form.wording_instrument,
            "language": ORIGINAL_LANGUAGE,
            "version": PUBLISHED_ORIGINAL,
        }
    return {
        "instrument": wording.instrument,
        "language": wording.language,
        "source": wording.source,
        "version": wording.version,
        "sha256": wording.sha256,
    }
