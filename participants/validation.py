"""Model validation for the services, without the database round trips that cannot fail.

`Model.full_clean` asks the database, one query each, whether every foreign key's row
exists, whether every unique field and unique constraint is free, and whether every check
constraint holds. A service that has just locked or created the related rows, or has
itself established a constraint (and given the user a field error when it does not hold),
gets nothing from those queries but their cost; in bulk (seed_demo) they are most of the
queries of a registration. `validate` is `full_clean` without them; the database's own
foreign keys and constraints still enforce every one of them, as they always did.
"""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router


def validate(instance: models.Model, *, established: Collection[str] = ()) -> None:
    """`instance.full_clean()`, less the database checks the caller has made pointless.

    - A foreign key set to a saved instance (the service holds the row, often locked) is
      not looked up again. A raw id (`participant_id=…`) is still checked.
    - `established`: unique fields and constraints (by field or constraint name) whose
      condition the caller has established itself: a number it drew from a sequence, the
      one-to-one row of a participant created in the same transaction, a duplicate it has
      already refused with its own message.
    - The model's `checks_repeating_validators`: check constraints that only repeat
      field validators in the database. full_clean evaluates a constraint only for fields
      whose validators passed, so in Python it can never fail.

    Raises ValidationError with the same keys as full_clean would.
    """
    established = set(established) | set(getattr(instance, "checks_repeating_validators", ()))
    errors: dict = {}
    try:
        instance.clean_fields(exclude=_held_relations(instance))
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    # As full_clean: uniqueness and constraints only for fields that passed validation.
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    try:
        instance.validate_unique(exclude=failed | established)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    using = router.db_for_write(type(instance), instance=instance)
    for model_class, constraints in instance.get_constraints():
        for constraint in constraints:
            if constraint.name in established:
                continue
            try:
                constraint.validate(model_class, instance, exclude=failed, using=using)
            except ValidationError as error:
                fields = getattr(constraint, "fields", ())
                if getattr(error, "code", None) == "unique" and len(fields) == 1:
                    errors.setdefault(fields[0], []).append(error)
                else:
                    errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _held_relations(instance: models.Model) -> set[str]:
    """Foreign keys (and one-to-ones) whose related object is a saved instance in hand."""
    held = set()
    for field in instance._meta.concrete_fields:
        if not (field.many_to_one or field.one_to_one) or not field.is_cached(instance):
            continue
        related = field.get_cached_value(instance)
        if (
            related is not None
            and not related._state.adding
            and getattr(related, field.target_field.attname) == getattr(instance, field.attname)
        ):
            held.add(field.name)
    return held
