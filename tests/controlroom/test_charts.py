"""The control room's chart: pure SVG, escaped."""

from controlroom.charts import bar_chart_svg


def test_bar_chart_has_one_bar_per_value_and_escapes_labels():
    svg = bar_chart_svg([0, 3, 6], ["<a>", "b", "c"], title="Judgments & more")
    assert svg.count("<rect") == 3
    assert "<a>" not in svg
    assert "&lt;a&gt;" in svg
    assert 'aria-label="Judgments &amp; more"' in svg
    tallest = svg.split("<rect")[3]
    assert 'y="0.0"' in tallest
