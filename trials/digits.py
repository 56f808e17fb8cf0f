"""Digits typed on a Persian or Arabic keyboard, read as the ASCII digits they are.

Python's ``int`` and ``Decimal`` already read them (so numeric fields accept them), but
a pattern such as ``[0-9]`` or a date format does not. Inputs where digits are expected
normalise them before validation, so what is stored, searched and exported is ASCII.
Free text (names, addresses, notes) is left as typed.
"""

from __future__ import annotations

from typing import Any

from django import forms

# Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits.
_TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def ascii_digits(text: str) -> str:
    return text.translate(_TO_ASCII)


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
