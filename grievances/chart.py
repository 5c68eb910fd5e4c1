"""The /stats chart: four rates per township as grouped bars, as a PNG.

The chart carries no words (a fresh server has no CJK font): townships are numbered and the
colours match the emoji squares of the message that carries the chart.
"""

from __future__ import annotations

import io

from grievances.stats import TownshipStats

SERIES = (  # attribute, bar colour, the emoji square naming it in the message
    ("response_rate", "#1f77b4", "🟦"),
    ("resolution_rate", "#ff7f0e", "🟧"),
    ("on_time_rate", "#2ca02c", "🟩"),
    ("satisfaction_rate", "#d62728", "🟥"),
)


def stats_png(rows: list[TownshipStats]) -> bytes:
    from matplotlib.figure import Figure  # 0.3 s to import: only when a chart is asked for

    figure = Figure(figsize=(max(4, 1.2 * len(rows) + 1), 3.2), dpi=100)
    axes = figure.add_subplot()
    width = 0.8 / len(SERIES)
    for number, (attribute, colour, _) in enumerate(SERIES):
        values = [100 * (getattr(row, attribute) or 0) for row in rows]
        positions = [index + number * width for index in range(len(rows))]
        axes.bar(positions, values, width, color=colour)
    axes.set_xticks([index + 0.4 - width / 2 for index in range(len(rows))])
    axes.set_xticklabels([str(index + 1) for index in range(len(rows))])
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
