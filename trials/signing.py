"""Re-authentication for an electronic signature (eligibility override, AE assessment, the
review's signatures): one place, so the second factor (step 12) joins every signature."""

from __future__ import annotations

from typing import Any


def confirms_identity(actor: Any, password: str) -> bool:
    """Whether the signer typed their own password again now."""
    return bool(password) and actor.check_password(password)
