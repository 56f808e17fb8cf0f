"""trials.prepared.Prepared: a query's SQL built once per shape, run with each call's values;
it never keeps a result, so a write between two calls shows in the second."""

from __future__ import annotations

import pytest

from trials.models import Site
from trials.prepared import Prepared

pytestmark = pytest.mark.django_db


def _codes(shape: tuple[str, ...], site_id: int):
    return Site.objects.filter(pk=site_id, code__in=shape or ["ISF", "THR", "TEH"]).values_list(
        "code"
    )


def test_each_call_runs_with_its_values_and_sees_the_latest_rows(site_a, site_b):
    prepared = Prepared(_codes)
    assert prepared.rows(site_a.pk) == [(site_a.code,)]
    assert prepared.rows(site_b.pk) == [(site_b.code,)]
    assert prepared.rows(-5) == []
    Site.objects.filter(pk=site_a.pk).update(code="TEH")
    assert prepared.rows(site_a.pk) == [("TEH",)]


def test_the_shape_keys_the_sql(site_a):
    prepared = Prepared(_codes)
    assert prepared.rows(site_a.pk, shape=("NOPE",)) == []
    assert prepared.rows(site_a.pk, shape=(site_a.code,)) == [(site_a.code,)]
    assert prepared.sql(("NOPE",)) != prepared.sql((site_a.code,))


def test_only_integers_and_only_as_parameters(site_a):
    prepared = Prepared(_codes)
    with pytest.raises(TypeError):
        prepared.rows(str(site_a.pk))
    with pytest.raises(TypeError):
        prepared.rows(site_a.pk, site_a.pk)
    # A value the query does not pass as a parameter cannot be filled in later.
    unused = Prepared(lambda _shape, _value: Site.objects.values_list("code"))
    with pytest.raises(ValueError, match="cannot be prepared"):
        unused.rows(site_a.pk)
