"""The shipped term list: the procedure's expected events first, then CTCAE v5.0 terms by
system organ class; stable, unique codes."""

from __future__ import annotations

from safety import coding


def test_the_procedure_events_come_first_then_ctcae_by_organ_class():
    groups = coding.term_choices()
    first_label, first_terms = groups[0]
    assert str(first_label) == "Procedure-specific events"
    codes = [code for code, _term in first_terms]
    # CLINICAL.md: post-LP headache, fever, back/neck or puncture-site pain, nausea/vomiting,
    # meningism, infection, radicular pain.
    for expected in (
        "post_lp_headache",
        "fever",
        "back_pain",
        "neck_pain",
        "injection_site_pain",
        "nausea",
        "vomiting",
        "meningismus",
        "meningitis",
        "wound_infection",
        "radiculitis",
    ):
        assert expected in codes
    socs = [str(label) for label, _terms in groups[1:-1]]
    assert socs == sorted(socs)
    assert str(groups[-1][0]) == "Other" and groups[-1][1] == [("other", coding.OTHER.term)]


def test_codes_are_unique_and_each_term_has_an_organ_class():
    codes = [term.code for term in coding.TERMS]
    assert len(codes) == len(set(codes))
    assert all(code == code.lower() and " " not in code for code in codes)
    known = {
        value for name, value in vars(coding).items() if name.isupper() and isinstance(value, str)
    }
    assert all(term.soc in known for term in coding.TERMS)
    assert (
        coding.label("meningitis") == "Meningitis" and coding.soc("meningitis") == coding.INFECTIONS
    )
    assert coding.label("no-such-code") == "no-such-code" and coding.label(None) == ""
