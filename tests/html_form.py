"""Read an entry page's form the way a browser would submit it."""

from __future__ import annotations

from html.parser import HTMLParser


class PageForm(HTMLParser):
    """The values the entry page's form would submit as it stands."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None

    @classmethod
    def read(cls, html: str) -> dict[str, str]:
        parser = cls()
        parser.feed(html)
        return parser.values

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            default = "on" if a.get("type") in ("checkbox", "radio") else ""  # as browsers do
            self.values[a["name"]] = a.get("value") or default
        elif tag == "textarea" and a.get("name"):
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select = a.get("name")
            self.values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
