"""The charts every report draws: an investigator reads the picture, a screen-reader user
or a statistician reads the same numbers in the table, and the casebook PDF embeds the
same SVG. Pure functions: no database."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from django.template.loader import render_to_string

from reports.charts import (
    Band,
    BarGroup,
    Marker,
    Point,
    Reference,
    Series,
    bar_chart,
    line_chart,
    nice_ticks,
    scatter_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart):
    return ET.fromstring(str(chart.svg))  # noqa: S314 - our own markup


def texts(root) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_a_trajectory_chart_says_what_it_shows_with_units_and_its_numbers():
    observed = Series(
        "Observed",
        [
            Point(-1, 40),
            Point(0, 39),
            Point(3, 37, hollow=True, note="out of window"),
            Point(6, 36),
        ],
    )
    expected = Series("Expected", [Point(-10, 48), Point(12, 20)], markers=False)
    chart = line_chart(
        "ALSFRS-R total over time",
        "Months from transplantation",
        "ALSFRS-R total (points)",
        [observed, expected],
        bands=[Band("King's", -10, 2, "1", 1), Band("King's", 2, 12, "2", 2)],
        markers=[Marker("AE", 2, "Fall, grade 3, serious", text="3", emphasis=True)],
        references=[Reference(0, "Transplantation")],
        y_range=(0, 48),
    )
    root = parse(chart)
    assert root.get("role") == "img"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("width") is None  # scales to its column (a phone's width)
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "ALSFRS-R total over time"
    assert root.get("aria-labelledby") == title.get("id")
    labels = texts(root)
    assert "ALSFRS-R total (points)" in labels and "Months from transplantation" in labels
    assert {"0", "10", "20", "30", "40"} <= set(labels)  # round ticks
    assert "style" not in str(chart.svg) and "<script" not in str(chart.svg)
    assert "class=" not in str(chart.svg)

    assert chart.table.columns == (
        "Series",
        "Months from transplantation",
        "ALSFRS-R total (points)",
        "Note",
    )
    assert chart.table.rows == (
        ("Observed", "-1", "40", ""),
        ("Observed", "0", "39", ""),
        ("Observed", "3", "37", "out of window"),
        ("Observed", "6", "36", ""),
        ("Expected", "-10", "48", ""),
        ("Expected", "12", "20", ""),
    )
    stages, events = chart.extra_tables
    assert stages.rows == (("King's", "1", "-10", "2"), ("King's", "2", "2", "12"))
    assert events.rows == (("AE", "2", "Fall, grade 3, serious"),)
    # an open marker for the out-of-window visit: filled white
    assert any(c.get("fill") == "#ffffff" for c in root.iter(f"{SVG}circle"))


def test_none_breaks_the_line_and_series_differ_without_colour():
    chart = line_chart(
        "FVC",
        "Months (months)",
        "FVC (% predicted)",
        [
            Series("A", [Point(0, 80), Point(1, 78), Point(2, None), Point(3, 75), Point(4, 74)]),
            Series("B", [Point(0, 70), Point(4, 60)]),
        ],
    )
    root = parse(chart)
    lines = list(root.iter(f"{SVG}polyline"))
    # A in two pieces around the gap, B in one
    assert len(lines) == 3
    dashes = {line.get("stroke-dasharray") for line in lines}
    assert len(dashes) == 2  # solid (no attribute) and dashed
    assert ("A", "2", "") in chart.table.rows


def test_degenerate_inputs_draw_rather_than_fail():
    one = line_chart(
        "One visit", "Months (months)", "Weight (kg)", [Series("Weight", [Point(0, 70)])]
    )
    labels = texts(parse(one))
    assert len([t for t in labels if t.replace(".", "").isdigit()]) >= 3  # an axis around 70
    flat = line_chart(
        "Flat", "Months (months)", "Weight (kg)", [Series("W", [Point(0, 70), Point(3, 70)])]
    )
    parse(flat)
    assert flat.table.rows == (("W", "0", "70"), ("W", "3", "70"))
    empty = line_chart("Nothing yet", "Months (months)", "Weight (kg)", [])
    assert empty.empty and empty.table.rows == ()
    assert "No data to show yet." in texts(parse(empty))
    gaps_only = line_chart("Only gaps", "x (u)", "y (u)", [Series("S", [Point(0, None)])])
    assert gaps_only.empty
    assert bar_chart("No bars", "Timepoint", "Visits (n)", [], []).empty
    assert bar_chart(
        "Zeros", "Timepoint", "Visits (n)", ["M01"], [BarGroup("n", [0])]
    ).table.rows == (("M01", "0"),)
    assert nice_ticks(5, 5)[2]  # a range around a single value


def test_mean_with_standard_error_bars():
    chart = line_chart(
        "Mean FVC",
        "Months from transplantation",
        "FVC (% predicted)",
        [Series("Mean ± SE", [Point(0, 80, 2.5, note="n = 10"), Point(3, 75, 3.0, note="n = 9")])],
    )
    root = parse(chart)
    assert chart.table.columns[-2:] == ("± (error bar)", "Note")
    assert chart.table.rows[0] == ("Mean ± SE", "0", "80", "2.5", "n = 10")
    assert any("V" in (p.get("d") or "") for p in root.iter(f"{SVG}path"))


def test_scatter_with_identity_line():
    chart = scatter_chart(
        "Slope after transplantation against the pre-treatment ΔFS",
        "Pre-treatment ΔFS (points/month)",
        "Observed slope (points/month)",
        [Series("Participants", [Point(0.5, 0.3), Point(1.2, -0.1)])],
    )
    root = parse(chart)
    assert not list(root.iter(f"{SVG}polyline"))  # points, not a line
    identity = [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray") == "5 4"]
    assert len(identity) == 1
    assert chart.table.rows == (("Participants", "0.5", "0.3"), ("Participants", "1.2", "-0.1"))


def test_stacked_bars_link_to_the_list_behind_them():
    chart = bar_chart(
        "Visits per timepoint",
        "Timepoint",
        "Visits (n)",
        ["M01", "M03"],
        [BarGroup("In window", [5, 4], hrefs=["/visits?tp=M01", None]), BarGroup("Missed", [1, 0])],
        stacked=True,
    )
    root = parse(chart)
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert links == ["/visits?tp=M01"]
    # Links inside an image are unreachable to assistive technology: a group of them instead.
    assert root.get("role") == "group" and root.get("aria-labelledby")
    assert chart.table.columns == ("Timepoint", "In window", "Missed", "Total")
    assert chart.table.rows == (("M01", "5", "1", "6"), ("M03", "4", "0", "4"))
    assert "Visits (n)" in texts(root)
    horizontal = bar_chart(
        "Screen failures by criterion",
        "Criterion",
        "Participants (n)",
        ["A very long exclusion criterion that cannot fit beside the bar", "Age"],
        [BarGroup("Screen failures", [3, 1])],
        horizontal=True,
    )
    assert parse(horizontal).get("role") == "img"
    assert horizontal.table.rows[0][0].startswith("A very long exclusion criterion that cannot fit")


def test_text_is_escaped():
    chart = line_chart(
        '<b>"x" & y</b>', "x <u>", "y & z", [Series("<s>", [Point(0, 1), Point(1, 2)])]
    )
    root = parse(chart)
    assert root.find(f"{SVG}title").text == '<b>"x" & y</b>'
    assert "<b>" not in str(chart.svg)


def test_the_partial_shows_figure_caption_and_data_table():
    chart = line_chart(
        "Weight over time",
        "Months (months)",
        "Weight (kg)",
        [Series("Weight", [Point(0, 70), Point(3, 69.5)])],
    )
    html = render_to_string("reports/_chart.html", {"chart": chart})
    assert "<figure" in html and "<figcaption" in html and "Weight over time" in html
    assert "<details" in html and "Data table" in html
    assert "<td>69.5</td>" in html
    assert "style=" not in html


def test_the_pdf_renders_the_same_svg():
    import io
    from pathlib import Path

    from fpdf import FPDF

    import reports

    fonts = Path(reports.__file__).parent / "fonts"

    chart = line_chart(
        "ΔFS \u2013 trajectory",
        "Months from transplantation",
        "ALSFRS-R total (points)",
        [Series("Observed", [Point(0, 40), Point(3, None), Point(6, 37)])],
        bands=[Band("MiToS", 0, 6, "1", 1)],
        markers=[Marker("AE", 2, "Headache")],
    )
    pdf = FPDF()
    pdf.add_font("DejaVu Sans", fname=fonts / "DejaVuSans.ttf")
    pdf.add_font("DejaVu Sans", style="B", fname=fonts / "DejaVuSans-Bold.ttf")
    pdf.add_page()
    pdf.image(io.BytesIO(str(chart.svg).encode()), x=10, y=10, w=180)
    assert bytes(pdf.output()).startswith(b"%PDF")
