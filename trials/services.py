"""Writes for sites and teams: each a function, each in one transaction."""

from __future__ import annotations

import pghistory
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction

from trials import permissions
from trials.models import Membership, Site, Trial
from trials.protocols.definitions import Protocol


@transaction.atomic
def grant_role(*, actor, site: Site, user, role: str) -> Membership:
    if not permissions.can(actor, permissions.MANAGE_TEAM, site):
        raise PermissionDenied
    with pghistory.context(actor_id=actor.pk, reason="grant role"):
        membership, created = Membership.objects.get_or_create(user=user, site=site, role=role)
        if not created and not membership.is_active:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
    permissions.forget(user)
    return membership


@transaction.atomic
def revoke_role(*, actor, membership: Membership) -> Membership:
    """Deactivate rather than delete: the audit trail must still say who held the role."""
    if not permissions.can(actor, permissions.MANAGE_TEAM, membership.site):
        raise PermissionDenied
    with pghistory.context(actor_id=actor.pk, reason="revoke role"):
        membership.is_active = False
        membership.save(update_fields=["is_active"])
    permissions.forget(membership.user)
    return membership


@transaction.atomic
def create_site(*, code: str, name: str, country: str, time_zone: str) -> Site:
    site, _ = Site.objects.update_or_create(
        code=code, defaults={"name": name, "country": country, "time_zone": time_zone}
    )
    site.full_clean()
    return site


@transaction.atomic
def ensure_user(
    *, username: str, password: str, email: str = "", first_name: str = "", last_name: str = ""
):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": email, "first_name": first_name, "last_name": last_name},
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def load_trial(*, protocol: Protocol) -> Trial:
    """Create or refresh the Trial row from its declarative definition (idempotent)."""
    with pghistory.context(reason=f"load protocol {protocol.nct_id} v{protocol.version}"):
        trial, _ = Trial.objects.update_or_create(
            nct_id=protocol.nct_id,
            defaults={
                "title": protocol.title,
                "phase": protocol.phase,
                "sponsor": protocol.sponsor,
                "protocol_version": protocol.version,
            },
        )
    trial.full_clean()
    return trial
