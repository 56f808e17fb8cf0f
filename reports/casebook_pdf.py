"""The casebook laid out as a PDF with fpdf2 (a pure-Python wheel): a Casebook in, bytes out.

DejaVu Sans (vendored in reports/fonts with its licence) covers what the data hold — Persian
names and free text, arrows, dashes, ≤ — where the PDF core fonts know Latin-1 only;
uharfbuzz shapes Persian right to left. Every page's footer names the participant, the
application's version and the time the casebook was written, and "page n of N"."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from reports.casebook_selectors import Casebook, Item, RecordBlock

log = logging.getLogger(__name__)
# fpdf2 subsets the font through fontTools, which logs every table at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
# The charts' <title> (their accessible name on the page) is not drawn: said once per chart.
logging.getLogger("fpdf.svg").setLevel(logging.ERROR)

FONTS = Path(__file__).resolve().parent / "fonts"
# The family name reports.charts writes in its SVG text, so the charts use the same font.
FAMILY = "DejaVu Sans"
MARGIN = 14
BODY = 8.5
SMALL = 7
LINE = 4.2
GREY = (90, 90, 90)
HEAD_FILL = (233, 236, 239)
PAD_X, PAD_Y = 1.0, 0.6
# Hebrew, Arabic (Persian) and their presentation forms: the text that needs shaping.
RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


class _Pdf(FPDF):
    def __init__(self, footer: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, "", SMALL)
        self.set_text_color(*GREY)
        self.set_draw_color(200, 200, 200)
        self.line(MARGIN, self.get_y(), self.w - MARGIN, self.get_y())
        self.cell(self.epw * 0.78, 6, self.footer_text, new_x=XPos.RIGHT, new_y=YPos.TOP, align="L")
        self.cell(
            self.epw * 0.22,
            6,
            _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"},
            align="R",
        )
        self.set_text_color(0, 0, 0)


class _Writer:
    def __init__(self, book: Casebook, progress: Callable[[int], None]):
        footer = _("%(participant)s · %(site)s · ALS eCRF %(version)s · generated %(at)s") % {
            "participant": book.participant_label,
            "site": book.site,
            "version": book.version,
            "at": book.generated_at,
        }
        self.book = book
        self.pdf = _Pdf(footer)
        self.progress = progress
        self.pdf.set_title(
            _("Casebook of %(participant)s") % {"participant": book.participant_label}
        )
        self.pdf.set_creator(f"ALS eCRF {book.version}")
        self.pdf.set_author("ALS eCRF")

    # --- primitives -------------------------------------------------------------------

    def heading(self, text: str, size: float = 13, *, new_page: bool = False) -> None:
        pdf = self.pdf
        if new_page or pdf.get_y() > pdf.h - 45:
            pdf.add_page()
        else:
            pdf.ln(2)
        pdf.set_font(FAMILY, "B", size)
        pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
        pdf.set_font(FAMILY, "", BODY)

    def text(self, text: str, *, size: float = BODY, grey: bool = False) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", size)
        if grey:
            pdf.set_text_color(*GREY)
        with self.shaped(text):
            if "\n" not in text and pdf.get_string_width(text) <= pdf.epw:
                pdf.cell(pdf.epw, LINE, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            else:
                pdf.multi_cell(0, LINE, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        pdf.set_text_color(0, 0, 0)

    @contextmanager
    def shaped(self, text: str) -> Iterator[None]:
        """Shaping (and the bidirectional algorithm) only for text in a right-to-left
        script: it measures every glyph through HarfBuzz, which made a casebook of every
        visit take minutes when it was on for all of it."""
        if not RTL.search(text):
            yield
            return
        self.pdf.set_text_shaping(True)
        try:
            yield
        finally:
            self.pdf.set_text_shaping(False)

    def _lines(self, text: str, width: float, line: float) -> int:
        if "\n" not in text and self.pdf.get_string_width(text) <= width:
            return 1
        with self.shaped(text):
            lines = self.pdf.multi_cell(width, line, text, dry_run=True, output="LINES", align="L")
        assert isinstance(lines, list)  # output="LINES" gives the lines
        return len(lines)

    def row(
        self,
        cells: list[str],
        widths: tuple[float, ...],
        *,
        line: float,
        bold: bool = False,
        head: list[str] | None = None,
    ) -> None:
        """One table row laid out by hand (fpdf2's table measured each cell twice): cells
        that fit are one `cell`, longer ones wrap; a row that does not fit on the page goes
        to the next one, under the table's header again."""
        pdf = self.pdf
        size = pdf.font_size_pt
        pdf.set_font(FAMILY, "B" if bold else "", size)
        inner = [w - 2 * PAD_X for w in widths]
        counts = [self._lines(text, w, line) for text, w in zip(cells, inner, strict=True)]
        height = max(counts) * line + 2 * PAD_Y
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            if head is not None and not bold:
                self.row(head, widths, line=line, bold=True)
                pdf.set_font(FAMILY, "", size)
        top, left = pdf.get_y(), pdf.l_margin
        if bold:
            pdf.set_fill_color(*HEAD_FILL)
            pdf.rect(left, top, sum(widths), height, style="F")
        x = left
        for text, width, count in zip(cells, inner, counts, strict=True):
            pdf.set_xy(x + PAD_X, top + PAD_Y)
            with self.shaped(text):
                if count == 1:
                    pdf.cell(width, line, text)
                else:
                    pdf.multi_cell(width, line, text, align="L")
            x += width + 2 * PAD_X
        pdf.set_draw_color(200, 200, 200)
        pdf.line(left, top + height, left + sum(widths), top + height)
        pdf.set_xy(left, top + height)
        pdf.set_font(FAMILY, "", size)

    def items(self, items: list[Item], *, notes: bool = False) -> None:
        if not items:
            return
        self.pdf.set_font(FAMILY, "", BODY)
        widths = (62, 70, 50) if notes else (70, 112)
        head = [_("Item"), _("Value"), _("Missing-data reason")] if notes else None
        if head is not None:
            self.row(head, widths, line=LINE, bold=True)
        for item in items:
            cells = [item.label, item.value, item.note] if notes else [item.label, item.value]
            self.row(cells, widths, line=LINE, head=head)
        self.pdf.ln(1)

    def grid(self, head: list[str], rows: list[list[str]], widths: tuple[float, ...]) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", SMALL)
        self.row(head, widths, line=3.6, bold=True)
        for cells in rows:
            self.row([str(cell) for cell in cells], widths, line=3.6, head=head)
        pdf.set_font(FAMILY, "", BODY)
        pdf.ln(1)

    # --- parts --------------------------------------------------------------------------

    def record(self, block: RecordBlock, *, heading: str = "") -> None:
        title = heading or block.title
        if block.status:
            title += f" — {block.status}"
        self.heading(title, 10)
        has_missing = any(item.note for item in block.answers)
        self.items(block.answers, notes=has_missing)
        if block.derived:
            self.text(_("Derived values"), size=BODY)
            self.items(block.derived)
        for label, row in block.children:
            self.text(label, size=BODY)
            self.items(row)
        self.text(_("Review"), size=BODY)
        for line in block.review:
            self.text(f"• {line}", size=SMALL)
        if block.queries:
            self.text(_("Queries"), size=BODY)
            for query in block.queries:
                about = f" · {query.about}" if query.about else ""
                self.text(
                    _(
                        "Query %(number)s%(about)s — %(status)s, opened %(opened)s, assigned to %(role)s"
                    )
                    % {
                        "number": query.number,
                        "about": about,
                        "status": query.status,
                        "opened": query.opened,
                        "role": query.assigned_to,
                    },
                    size=SMALL,
                )
                for message in query.messages:
                    text = f" {message.text}" if message.text else ""
                    self.text(
                        f"    {message.at} · {message.who} · {message.kind}:{text}", size=SMALL
                    )
        if block.audit is not None:
            audit = block.audit
            self.text(
                _(
                    "Audit: created %(created)s; %(changes)s changes; last %(at)s by %(who)s"
                    "%(reason)s"
                )
                % {
                    "created": audit.created,
                    "changes": audit.changes,
                    "at": audit.last_at,
                    "who": audit.last_by,
                    "reason": f" — {audit.reason}" if audit.reason else "",
                },
                size=SMALL,
                grey=True,
            )

    def front(self) -> None:
        book = self.book
        pdf = self.pdf
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 18)
        pdf.multi_cell(
            0,
            9,
            _("Casebook of participant %(participant)s") % {"participant": book.participant_label},
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.text(book.trial)
        self.text(
            _("Generated %(at)s (site time, %(zone)s) by ALS eCRF %(version)s")
            % {"at": book.generated_at, "zone": book.time_zone, "version": book.version},
            grey=True,
        )
        if book.identifiers is not None:
            self.heading(_("Identity"), 12)
            self.items(book.identifiers)
        else:
            self.text(
                _("Identifiers (name, national ID, date of birth, contact details) are withheld."),
                grey=True,
            )
        self.heading(_("Participant"), 12)
        self.items(book.summary)
        for block in book.participant_records:
            self.record(block)
        self.heading(_("E-signatures"), 12)
        if book.signatures:
            self.grid(
                [_("Signed"), _("Of"), _("By"), _("When"), _("Records"), _("State"), _("Meaning")],
                [
                    [s.kind, s.scope, s.signed_by, s.signed_at, str(s.records), s.state, s.meaning]
                    for s in book.signatures
                ],
                (18, 18, 20, 28, 14, 30, 54),
            )
        else:
            self.text(_("No e-signatures."), grey=True)
        self.heading(_("Locks"), 12)
        for line in book.locks or [_("No active lock.")]:
            self.text(line)

    def charts(self) -> None:
        if not self.book.charts:
            return
        self.heading(_("Trajectories"), 14, new_page=True)
        for chart in self.book.charts:
            if self.pdf.get_y() > self.pdf.h - 120:
                self.pdf.add_page()
            self.heading(chart.title, 10)
            try:
                self.pdf.image(io.BytesIO(chart.svg), w=self.pdf.epw * 0.8)
            except Exception:  # a chart the renderer cannot draw: its tables still print
                log.warning("casebook chart %r not drawn", chart.title, exc_info=True)
                self.text(_("(The chart could not be drawn; its data follow.)"), grey=True)
            for note in chart.notes:
                self.text(note, size=SMALL, grey=True)
            for caption, columns, rows in chart.tables:
                if not rows:
                    continue
                self.text(caption, size=SMALL)
                width = self.pdf.epw / max(len(columns), 1)
                self.grid(columns, rows, tuple(width for _column in columns))

    def visits(self) -> None:
        book = self.book
        total = max(len(book.visits), 1)
        self.heading(_("Visits"), 14, new_page=True)
        for index, visit in enumerate(book.visits):
            label = f"{visit.code} · {visit.label}" if visit.label else visit.code
            self.heading(_("Visit %(visit)s") % {"visit": label}, 12, new_page=index > 0)
            self.items(visit.facts)
            for line in visit.forms:
                if line.record is not None:
                    self.record(line.record, heading=f"{line.label} ({visit.code})")
                else:
                    self.text(f"{line.label} ({visit.code}): {line.state}")
            self.progress(60 + 30 * (index + 1) // total)

    def logs(self) -> None:
        book = self.book
        self.heading(_("Adverse events"), 14, new_page=True)
        for block in book.adverse_events:
            self.record(block)
        if not book.adverse_events:
            self.text(_("No adverse event recorded."), grey=True)
        self.heading(_("Concomitant medication"), 14, new_page=True)
        for block in book.conmeds:
            self.record(block)
        if not book.conmeds:
            self.text(_("No medication recorded."), grey=True)
        if book.other_records:
            self.heading(_("Other records"), 14, new_page=True)
            for block in book.other_records:
                self.record(block)

    def audit(self) -> None:
        self.heading(_("Audit summary"), 14, new_page=True)
        self.text(
            _("Per record: when it was created, how many times it changed, the last change."),
            grey=True,
        )
        self.grid(
            [_("Record"), _("Created"), _("Changes"), _("Last change"), _("By"), _("Reason")],
            [
                [a.record, a.created, str(a.changes), a.last_at, a.last_by, a.reason]
                for a in self.book.audit
            ],
            (52, 28, 14, 28, 20, 40),
        )

    def write(self) -> bytes:
        self.front()
        self.charts()
        self.visits()
        self.logs()
        self.audit()
        self.progress(95)
        return bytes(self.pdf.output())


def write_pdf(book: Casebook, progress: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages."""
    writer = _Writer(book, progress or (lambda percent: None))
    data = writer.write()
    return data, writer.pdf.page_no()
