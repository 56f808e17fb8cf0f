"""Numbers typed on a Persian or Arabic keyboard: the digits, the decimal separator U+066B
and the thousands separator U+066C are read as the ASCII number, where
numbers are expected; digits-only inputs (phone, dates) and free text are unchanged."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.http import QueryDict

from trials.digits import DecimalInput, ascii_digits, ascii_number, with_ascii_numbers

DECIMAL_SEPARATOR = "\N{ARABIC DECIMAL SEPARATOR}"
THOUSANDS_SEPARATOR = "\N{ARABIC THOUSANDS SEPARATOR}"
PERSIAN = str.maketrans("0123456789.,", "۰۱۲۳۴۵۶۷۸۹" + DECIMAL_SEPARATOR + THOUSANDS_SEPARATOR)
ARABIC_INDIC = str.maketrans("0123456789.,", "٠١٢٣٤٥٦٧٨٩" + DECIMAL_SEPARATOR + THOUSANDS_SEPARATOR)


def persian(number: str) -> str:
    """`number` as a Persian keyboard types it: "172.5" -> Persian digits and U+066B."""
    return number.translate(PERSIAN)


def arabic(number: str) -> str:
    return number.translate(ARABIC_INDIC)


def test_ascii_number_reads_the_persian_decimal_and_thousands_separators():
    assert ascii_number(persian("172.5")) == "172.5"
    assert ascii_number(arabic("36.8")) == "36.8"  # Arabic-Indic digits
    assert ascii_number(persian("1,000.25")) == "1000.25"
    assert ascii_number("72.5") == "72.5"
    # Only numbers lose the separators: a digits-only input keeps what it does not read.
    assert ascii_digits(persian("172.5")) == "172" + DECIMAL_SEPARATOR + "5"


def test_with_ascii_numbers_reads_only_the_named_fields_and_leaves_the_request_alone():
    post = QueryDict(mutable=True)
    post.update(
        {"height_cm": persian("172.5"), "note": persian("172.5") + " cm", "version": persian("0")}
    )
    read = with_ascii_numbers(post, ["height_cm", "version"])
    assert (read["height_cm"], read["version"], read["note"]) == (
        "172.5",
        "0",
        persian("172.5") + " cm",
    )
    assert post["height_cm"] == persian("172.5")
    assert with_ascii_numbers({"w": persian("72.5"), "x": 3}, ["w", "x"]) == {"w": "72.5", "x": 3}


class Measurements(forms.Form):
    height_cm = forms.DecimalField(max_digits=4, decimal_places=1, widget=DecimalInput)
    weight_kg = forms.DecimalField(max_digits=4, decimal_places=1, widget=DecimalInput)


def test_a_form_with_decimal_inputs_reads_persian_height_and_weight():
    html = str(Measurements()["height_cm"])
    assert 'type="text"' in html and 'inputmode="decimal"' in html
    form = Measurements({"height_cm": persian("172.5"), "weight_kg": arabic("72.5")})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"height_cm": Decimal("172.5"), "weight_kg": Decimal("72.5")}
