"""Digits typed on a Persian or Arabic keyboard, read as the ASCII digits they are.

Python's ``int`` and ``Decimal`` already read them, but a pattern such as ``[0-9]`` or a
date format does not, and neither reads the Arabic decimal separator U+066B, which a
Persian keyboard types for the point (172.5 is typed 172, U+066B, 5), nor the thousands
separator U+066C. Inputs where digits are expected normalise them before validation, so what
is stored, searched and exported is ASCII. Free text (names, addresses, notes) is left as
typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.datastructures import MultiValueDict

# Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits.
_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# In a number only: the Arabic decimal separator is the point; the thousands separator
# only groups digits, so it goes.
_NUMBER_TO_ASCII = _TO_ASCII | str.maketrans(
    {"\N{ARABIC DECIMAL SEPARATOR}": ".", "\N{ARABIC THOUSANDS SEPARATOR}": None}
)


def ascii_digits(text: str) -> str:
    return text.translate(_TO_ASCII)


def ascii_number(text: str) -> str:
    """A number as typed on a Persian or Arabic keyboard, in ASCII (its digits, U+066B as
    the point, U+066C dropped)."""
    return text.translate(_NUMBER_TO_ASCII)


def with_ascii_numbers(data: Mapping[str, Any], names: Iterable[str]) -> Mapping[str, Any]:
    """A copy of a form's submitted `data` whose values under `names` (its numeric
    fields) are `ascii_number`; `data` itself (the request's POST) is left alone."""

    def read(value: Any) -> Any:
        return ascii_number(value) if isinstance(value, str) else value

    wanted = set(names)
    if isinstance(data, MultiValueDict):
        copy = data.copy()
        for name in wanted & set(copy):
            copy.setlist(name, [read(value) for value in copy.getlist(name)])
        return copy
    return {name: read(value) if name in wanted else value for name, value in data.items()}


class AsciiDigitsWidget(forms.Widget):
    """Mix in before a widget class: its submitted value has ASCII digits.

    Done where the value is read from the request, so the field's validators see ASCII
    digits and a form shown again with errors shows what will be stored.
    """

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        return ascii_digits(value) if isinstance(value, str) else value


class DigitsTextInput(AsciiDigitsWidget, forms.TextInput):
    pass


class PhoneInput(AsciiDigitsWidget, forms.TextInput):
    input_type = "tel"


class AsciiNumberWidget(forms.Widget):
    """Mix in before a widget class: its submitted value is an ASCII number (digits and
    separators of a Persian or Arabic keyboard read as `ascii_number`)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        value = super().value_from_datadict(data, files, name)
        return ascii_number(value) if isinstance(value, str) else value


class DecimalInput(AsciiNumberWidget, forms.TextInput):
    """The input of a measurement (height, weight): text with a decimal keyboard, since a
    browser's number input drops what a Persian keyboard types, read as `ascii_number`."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "decimal", **(attrs or {})})
