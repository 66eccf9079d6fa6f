"""A tiny server-side SVG bar chart (no JavaScript, no library) for the control room."""

from html import escape


def bar_chart_svg(
    values: list[int], labels: list[str], *, title: str, width: int = 720, height: int = 160, label_every: int = 3
) -> str:
    """An accessible SVG bar chart: one bar per value, a <title> per bar for hover and screen readers."""
    if len(values) != len(labels):
        raise ValueError("values and labels must have the same length")
    top = max(values, default=0) or 1
    axis_height = 18
    plot_height = height - axis_height
    slot = width / max(len(values), 1)
    bar_width = max(slot * 0.8, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="bar-chart">',
        f"<title>{escape(title)}</title>",
        f'<text x="2" y="12" font-size="11" fill="#5c6475">max {top}</text>',
    ]
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar_height = round(plot_height * value / top, 1)
        x = round(index * slot + (slot - bar_width) / 2, 1)
        y = round(plot_height - bar_height, 1)
        parts.append(
            f'<rect x="{x}" y="{y}" width="{round(bar_width, 1)}" height="{bar_height}" fill="#2f5bea">'
            f"<title>{escape(label)}: {value}</title></rect>"
        )
        if index % label_every == 0:
            parts.append(f'<text x="{x}" y="{height - 4}" font-size="10" fill="#5c6475">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
