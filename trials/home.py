"""What each role can do today, as cards on the home page.

A card leads with the user's work at that site (WORK: counts of what waits for them, each
a link to the list behind it), then the pages they can open (PANELS: label, url, icon).
Apps above append builders to both in ready(); each takes (user, site, roles) and returns
a list, empty when nothing concerns the user. A work builder costs a constant number of
queries per site, so the home page does not grow with the study.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from trials import permissions, selectors
from trials.models import Role, Site


@dataclass
class Action:
    label: str
    url: str
    icon: str = "arrow-right-circle"


@dataclass
class Work:
    label: str
    count: int
    url: str
    icon: str = "inbox"
    detail: str = ""  # a breakdown shown under the label (e.g. by age)


@dataclass
class Card:
    site: Site
    roles: list[str]
    work: list[Work] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def role_labels(self) -> list[str]:
        return [str(Role(role).label) for role in self.roles]


def _site_actions(user, site: Site, roles: list[str]) -> list[Action]:
    actions = [Action(_("Site overview"), reverse("site", args=[site.code]), "hospital")]
    if permissions.can(user, permissions.MANAGE_TEAM, site):
        actions.append(
            Action(_("Manage the site team"), reverse("site-team", args=[site.code]), "people")
        )
    else:
        actions.append(Action(_("Site team"), reverse("site-team", args=[site.code]), "people"))
    return actions


PANELS: list[Callable[[object, Site, list[str]], list[Action]]] = [_site_actions]
WORK: list[Callable[[object, Site, list[str]], list[Work]]] = []


def card_for(user, site: Site, roles: list[str]) -> Card:
    card = Card(site=site, roles=roles)
    for builder in WORK:
        card.work.extend(builder(user, site, roles))
    for panel in PANELS:
        card.actions.extend(panel(user, site, roles))
    return card


def cards_for(user) -> list[Card]:
    return [card_for(user, site, roles) for site, roles in selectors.sites_for_home(user)]
