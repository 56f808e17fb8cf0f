"""Loading a trial's wording file: checked, stored with its source and version, audited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from crfs.wording.models import InstrumentWording
from crfs.wording.spec import Wording, WordingFileError, parse
from trials.history import audit_context


@dataclass(frozen=True)
class Loaded:
    wording: InstrumentWording
    created: bool  # False: this very file was loaded before


def load_wording(path: Path, *, user: Any = None) -> Loaded:
    """Store the wording of the file at `path`. Raises WordingFileError when the file is not
    a valid wording file, or when its version was loaded before with other wording (a
    version's wording never changes: the trial gives the corrected file a new version)."""
    content = path.read_bytes()
    languages = tuple(code for code, _name in settings.LANGUAGES)
    wording: Wording = parse(content, languages)
    with transaction.atomic():
        existing = (
            InstrumentWording.objects.select_for_update()
            .filter(
                instrument=wording.instrument, language=wording.language, version=wording.version
            )
            .first()
        )
        if existing is not None:
            if existing.texts == wording.texts and existing.source == wording.source:
                return Loaded(existing, created=False)
            raise WordingFileError(
                [
                    f"version {wording.version!r} of this instrument in {wording.language!r} was "
                    f"loaded before with other wording (file sha256 {existing.sha256}): give the "
                    "corrected file a new version"
                ]
            )
        reason = f"instrument wording loaded: {path.name} (version {wording.version})"
        with audit_context(actor_id=getattr(user, "pk", None), reason=reason):
            row = InstrumentWording.objects.create(
                instrument=wording.instrument,
                language=wording.language,
                version=wording.version,
                source=wording.source,
                texts=wording.texts,
                sha256=wording.sha256,
                file_name=path.name[:255],
                loaded_by=user,
            )
    return Loaded(row, created=True)
