"""Writes for sites and teams: each a function, each in one transaction."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from trials import hooks, permissions
from trials.history import audit_context
from trials.models import Membership, Site, Trial
from trials.protocols.definitions import Protocol

# One answer for a username that does not exist and for an account that may not be given a
# role, so that the grant form cannot be used to find out which accounts exist.
NO_SUCH_USER = _("No user with this username can be given a role.")
OWN_ROLES = _("You cannot change your own roles: ask another site administrator.")
LAST_ADMIN = _("The last site administrator of a site cannot be revoked.")


@transaction.atomic
def grant_role(*, actor, site: Site, user, role: str) -> Membership:
    if not permissions.can(actor, permissions.MANAGE_TEAM, site):
        raise PermissionDenied
    if user.pk == actor.pk:
        raise ValidationError({"username": OWN_ROLES})
    if not permissions.may_hold_roles(user):
        raise ValidationError({"username": NO_SUCH_USER})
    with audit_context(actor_id=actor.pk, reason="grant role"):
        membership, created = Membership.objects.get_or_create(user=user, site=site, role=role)
        changed = created or not membership.is_active
        if not created and not membership.is_active:
            membership.is_active = True
            membership.save(update_fields=["is_active"])
    if changed:
        for hook in hooks.ON_ROLE_CHANGED:
            hook(membership, actor=actor, granted=True)
    permissions.forget(user)
    return membership


@transaction.atomic
def revoke_role(*, actor, membership: Membership) -> Membership:
    """Deactivate rather than delete: the audit trail must still say who held the role."""
    site = membership.site
    if not permissions.can(actor, permissions.MANAGE_TEAM, site):
        raise PermissionDenied
    if membership.user_id == actor.pk:
        raise ValidationError(OWN_ROLES)
    # Two administrators revoking each other at once both pass the check above (each still
    # held the role when their request began). Locking the site's team managers makes the
    # second wait for the first and then see the site as it is after it.
    managers = dict(
        Membership.objects.active()
        .filter(
            site=site,
            role__in=permissions.roles_with(permissions.MANAGE_TEAM),
            user__is_active=True,
        )
        .select_for_update(of=("self",))
        .values_list("pk", "user_id")
    )
    if actor.pk not in managers.values():
        raise PermissionDenied
    if membership.pk in managers and not set(managers) - {membership.pk}:
        raise ValidationError(LAST_ADMIN)
    with audit_context(actor_id=actor.pk, reason="revoke role"):
        membership.is_active = False
        membership.save(update_fields=["is_active"])
    for hook in hooks.ON_ROLE_CHANGED:
        hook(membership, actor=actor, granted=False)
    permissions.forget(membership.user)
    return membership


@transaction.atomic
def create_site(
    *, code: str, name: str, country: str, time_zone: str, language: str | None = None
) -> Site:
    """Create or refresh a site; `language` None leaves a site's language as it is (as the
    site administration set it)."""
    defaults = {"name": name, "country": country, "time_zone": time_zone}
    if language is not None:
        defaults["language"] = language
    site, _ = Site.objects.update_or_create(code=code, defaults=defaults)
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
    with audit_context(reason=f"load protocol {protocol.nct_id} v{protocol.version}"):
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
