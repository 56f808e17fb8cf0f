"""The casebook laid out as a PDF with fpdf2 (a pure-Python wheel): a Casebook in, bytes out.

DejaVu Sans (vendored in reports/fonts with its licence) covers what the data hold — Persian
names and free text, arrows, dashes, ≤ — where the PDF core fonts know Latin-1 only;
uharfbuzz shapes Persian right to left. Every page's footer names the participant, the
application's version and the time the casebook was written, and "page n of N"."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from reports.casebook_selectors import Casebook, Item, RecordBlock

log = logging.getLogger(__name__)

FONTS = Path(__file__).resolve().parent / "fonts"
# The family name reports.charts writes in its SVG text, so the charts use the same font.
FAMILY = "DejaVu Sans"
MARGIN = 14
BODY = 8.5
SMALL = 7
LINE = 4.2
GREY = (90, 90, 90)
HEAD_FILL = (233, 236, 239)


class _Pdf(FPDF):
    def __init__(self, footer: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer
        self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_text_shaping(True)
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
        pdf.multi_cell(0, LINE, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)

    def items(self, items: list[Item], *, notes: bool = False) -> None:
        if not items:
            return
        pdf = self.pdf
        pdf.set_font(FAMILY, "", BODY)
        widths = (62, 70, 50) if notes else (70, 112)
        with pdf.table(
            col_widths=widths,
            width=sum(widths),
            align="LEFT",
            first_row_as_headings=notes,
            line_height=LINE,
            padding=(0.6, 1),
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            if notes:
                table.row([_("Item"), _("Value"), _("Missing-data reason")])
            for item in items:
                cells = [item.label, item.value]
                if notes:
                    cells.append(item.note)
                table.row(cells)
        pdf.ln(1)

    def grid(self, head: list[str], rows: list[list[str]], widths: tuple[float, ...]) -> None:
        pdf = self.pdf
        pdf.set_font(FAMILY, "", SMALL)
        with pdf.table(
            col_widths=widths,
            width=sum(widths),
            align="LEFT",
            line_height=3.6,
            padding=(0.5, 0.8),
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            borders_layout="HORIZONTAL_LINES",
        ) as table:
            table.row(head)
            for row in rows:
                table.row(row)
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
                about = f" · {query.field}" if query.field else ""
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
        for title, svg, rows in self.book.charts:
            if self.pdf.get_y() > self.pdf.h - 110:
                self.pdf.add_page()
            self.heading(title, 10)
            try:
                self.pdf.image(io.BytesIO(svg), w=self.pdf.epw * 0.9)
            except Exception:  # a chart the renderer cannot draw: its table still prints
                log.warning("casebook chart %r not drawn", title, exc_info=True)
                self.text(_("(The chart could not be drawn; its data follow.)"), grey=True)
            if rows:
                head, *body = rows
                width = self.pdf.epw / max(len(head), 1)
                self.grid(head, body, tuple(width for _cell in head))

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
