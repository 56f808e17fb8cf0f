"""A query's SQL built once per process and run again with other values: a prepared statement
on the Python side, for the pages' reads whose ORM construction costs more than running them
(a UNION ALL over every record type costs tens of milliseconds of Python to build and compile,
and under a millisecond in PostgreSQL).

Only the SQL text is kept, never a result: every call runs the query, so nothing shown is
ever stale. The text is built by the same ORM code with stand-in values (ids no row has),
and the stand-ins' places among the parameters are then filled with the real values. What
changes the text itself (a trial's targeted record types, say) goes in `shape`, the key of
the kept texts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.db import connection
from django.db.models import QuerySet

# Ids no row has (PostgreSQL bigint, negative): the stand-ins of the values.
_STAND_INS = tuple(-(2**62) - index for index in range(8))


class Prepared:
    """`build(shape, *values)` returns a values_list queryset; `rows(*values, shape=...)` runs
    its SQL, built once per `shape`, with `values` (integers: ids) in the stand-ins' places."""

    def __init__(self, build: Callable[..., QuerySet[Any]], arity: int = 1) -> None:
        if not 0 < arity <= len(_STAND_INS):
            raise ValueError(f"arity {arity}: 1 to {len(_STAND_INS)} values")
        self._build = build
        self._arity = arity
        self._texts: dict[Hashable, tuple[str, list[Any], list[int | None]]] = {}
        self._lock = threading.Lock()

    def _compile(self, shape: Hashable) -> tuple[str, list[Any], list[int | None]]:
        stand_ins = _STAND_INS[: self._arity]
        query = self._build(shape, *stand_ins).query
        sql, params = query.get_compiler(connection=connection).as_sql()
        places = [stand_ins.index(p) if _is_stand_in(p, stand_ins) else None for p in params]
        missing = set(range(self._arity)) - {place for place in places if place is not None}
        inlined = any(str(value) in sql for value in stand_ins)
        if missing or inlined:
            raise ValueError("a value is not a parameter of the query: it cannot be prepared")
        return sql, list(params), places

    def sql(self, shape: Hashable = ()) -> tuple[str, list[Any], list[int | None]]:
        text = self._texts.get(shape)
        if text is None:
            with self._lock:
                text = self._texts.get(shape) or self._compile(shape)
                self._texts[shape] = text
        return text

    def rows(self, *values: int, shape: Hashable = ()) -> list[tuple[Any, ...]]:
        if len(values) != self._arity:
            raise TypeError(f"{self._arity} value(s) expected, {len(values)} given")
        if any(type(value) is not int for value in values):
            raise TypeError("only integer values (ids) can be prepared")
        sql, params, places = self.sql(shape)
        filled: Sequence[Any] = [
            param if place is None else values[place]
            for param, place in zip(params, places, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, filled)
            return cursor.fetchall()


def _is_stand_in(param: Any, stand_ins: tuple[int, ...]) -> bool:
    return type(param) is int and param in stand_ins
