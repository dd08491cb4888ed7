"""Charts for the report, drawn from the printed (suppressed) cells only, so a chart can never
show a small count that the tables hide. PNG bytes in memory (Agg, no display)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot import content


def bar_chart(labels: list[str], cells: list[str], title: str) -> bytes:
    """One bar per label whose printed cell is a number; a hidden cell ("<5", "x") gets no bar
    and is marked with its printed value."""
    figure = Figure(figsize=(6.4, 3.0), dpi=150)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    values = [int(c) if c.isdigit() else 0 for c in cells]
    bars = axes.bar(range(len(labels)), values, color="#3b6ea5")
    for bar, cell in zip(bars, cells):
        axes.annotate(cell, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                      fontsize=8, xytext=(0, 2), textcoords="offset points")
    axes.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center",
                    fontsize=8)
    axes.set_title(title, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    if any(not c.isdigit() for c in cells):
        figure.text(0.01, 0.01, content.text("report_chart_hidden"), fontsize=7)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
