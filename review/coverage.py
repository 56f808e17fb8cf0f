"""review's handler of trials.locking.COVERAGE_FINDERS: the lock covering any row of a write
that goes around one record's save (a bulk update, delete or insert of records, a change of
the participant or its transplantation), found in one query."""

from __future__ import annotations

from django.db.models import Q

from review.guard import describe
from review.models import Lock, Scope
from trials.locking import Covered, LockInfo

_WIDEST_FIRST = [Scope.SITE, Scope.PARTICIPANT, Scope.VISIT, Scope.RECORD]


def lock_covering(covered: Covered) -> LockInfo | None:
    targets = [f"participant:{pk}" for pk in covered.participant_ids]
    targets += [f"visit:{pk}" for pk in covered.visit_ids]
    if covered.record_type is not None:
        targets += [f"record:{covered.record_type}:{pk}" for pk in covered.record_ids]
    covers = Q(target__in=targets)
    if covered.participant_ids:
        covers |= Q(scope=Scope.SITE, site__participants__in=covered.participant_ids)
    if covered.site_ids:
        covers |= Q(scope=Scope.SITE, site__in=covered.site_ids)
    locks = list(Lock.objects.active().filter(covers).select_related("locked_by", "site")[:20])
    if not locks:
        return None
    return describe(min(locks, key=lambda lock: _WIDEST_FIRST.index(Scope(lock.scope))))
