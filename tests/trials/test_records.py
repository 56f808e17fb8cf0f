"""The catalogue of reviewable records: review, queries and audit find every kind of trial
data through it, so a kind missing here would be a record nobody can verify or lock."""

from __future__ import annotations

import pytest

from crfs import registry
from trials import records


def test_every_entry_form_and_the_records_outside_forms_are_reviewable():
    keys = {t.key for t in records.all_types()}
    assert set(registry.entry_forms()) <= keys
    assert {"visit", "demographics", "als_history", "adverse_event", "conmed"} <= keys


def test_a_record_type_is_found_by_its_model_and_lists_only_entered_data():
    from crfs.alsfrs_r.models import AlsfrsR

    alsfrs = records.for_model(AlsfrsR)
    assert alsfrs is not None and alsfrs.key == "alsfrs_r"
    assert "q1_speech" in alsfrs.data_fields
    assert not set(alsfrs.data_fields) & records.BOOKKEEPING


def test_a_taken_key_cannot_be_given_to_another_model():
    from visits.models import Visit

    taken = records.get("alsfrs_r")
    assert taken is not None
    with pytest.raises(ValueError, match="already"):
        records.register(
            records.RecordType(
                key="alsfrs_r", model=Visit, participant_path="participant", visit_path="", page=str
            )
        )
    records.register(taken)  # the same type again is a no-op (ready() may run twice)
    assert records.get("alsfrs_r") is taken


@pytest.mark.django_db
def test_each_record_leads_to_its_page(m06):
    """Pages are built from the record with its participant; a visit's is the visit page."""
    visit_type = records.get("visit")
    assert visit_type is not None
    assert visit_type.page(m06).endswith(f"/participants/{m06.participant_id}/visits/{m06.pk}/")
    assert visit_type.participant_of(m06) == m06.participant
    assert visit_type.visit_of(m06) == m06
