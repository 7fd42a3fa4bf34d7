"""The report's charts: matplotlib SVG, inlined into the page, deterministic bytes.

No script, no CDN, no network at view time, crisp at any zoom. Rendering is deterministic (a
fixed `svg.hashsalt` per chart, text kept as text, no date in the SVG metadata), so the same
marts give the same bytes. Only `matplotlib.figure.Figure` is used, never `pyplot`: no global
backend or figure registry (the SVG canvas needs no GUI backend, Agg or otherwise).
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.figure import Figure

from ..report import KPI_RATES
from .data import MISSING_LABEL, ReportData, classification_mix, value_label, weekly_sentiment

SENTIMENT_COLORS = {
    "positive": "#2e9e5b",
    "neutral": "#8da0b3",
    "negative": "#d1495b",
    "unknown": "#d9d9d9",
}
#: Colours of undocumented values (schema drift), in turn; a missing value is black.
OTHER_COLORS = ("#f0a202", "#7b4fb0", "#2a7fba", "#a0522d")
MISSING_COLOR = "#333333"
KPI_LABELS = {
    "connect_rate": "connect rate",
    "voicemail_rate": "voicemail rate",
    "right_party_contact_rate": "right-party contact rate",
    "promise_to_pay_rate": "promise to pay / RPC",
    "dispute_complaint_share": "dispute / complaint share",
}
KPI_COLORS = ("#2a7fba", "#8da0b3", "#2e9e5b", "#f0a202", "#d1495b")
_SALT = "stuut-kpi-report"
_RC = {
    "svg.fonttype": "none",  # text stays text: small, selectable, no font outlines
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}


def _svg(fig: Figure, name: str, label: str) -> str:
    """The figure as an inline `<svg>` element (no XML prolog), deterministic bytes."""
    buf = io.BytesIO()
    with rc_context({"svg.hashsalt": f"{_SALT}-{name}", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue().decode()
    text = text[text.index("<svg") :]
    attrs = f'<svg role="img" aria-label="{html.escape(label)}" class="chart" '
    return attrs + text.removeprefix("<svg ").rstrip() + "\n"


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def _color_cycle(labels: Sequence[str], known: dict[str, str]) -> list[str]:
    colors, others = [], iter(OTHER_COLORS * (1 + len(labels) // len(OTHER_COLORS)))
    for label in labels:
        if label in known:
            colors.append(known[label])
        elif label == MISSING_LABEL:
            colors.append(MISSING_COLOR)
        else:
            colors.append(next(others))
    return colors


def sentiment_chart_svg(data: ReportData) -> str:
    """Stacked bars per ISO week: each sentiment's share of the week's calls."""
    weeks, counts = weekly_sentiment(data)
    with rc_context(_RC):
        fig = Figure(figsize=(9.0, 3.6))
        ax = fig.add_subplot()
        ax.set_title("Sentiment mix per ISO week (share of calls)", loc="left")
        totals = [sum(c[i] for c in counts.values()) for i in range(len(weeks))]
        if not weeks:
            _no_data(ax, "no calls with a date")
        else:
            x = list(range(len(weeks)))
            bottom = [0.0] * len(weeks)
            colors = _color_cycle(list(counts), SENTIMENT_COLORS)
            for (label, values), color in zip(counts.items(), colors, strict=True):
                shares = [100.0 * v / t if t else 0.0 for v, t in zip(values, totals, strict=True)]
                ax.bar(x, shares, 0.75, bottom=bottom, label=label, color=color, linewidth=0)
                bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
            if len(weeks) <= 26:
                for i, total in enumerate(totals):
                    ax.text(i, 101, f"{total}", ha="center", va="bottom", fontsize=7)
            ax.set_xticks(x, weeks, rotation=45, ha="right")
            ax.set_ylim(0, 108)
            ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="sentiment")
        return _svg(fig, "sentiment", "Sentiment mix per ISO week")


def classification_chart_svg(data: ReportData) -> str:
    """Horizontal bars: each classification's share of all classifications, with its count."""
    rows = classification_mix(data)
    with rc_context(_RC):
        fig = Figure(figsize=(9.0, max(1.8, 0.6 + 0.28 * len(rows))))
        ax = fig.add_subplot()
        ax.set_title("Classification mix (share of all classifications)", loc="left")
        if not rows:
            _no_data(ax, "no classifications")
        else:
            labels = [value_label(r["classification"]) for r in rows]
            shares = [100.0 * (r["share_of_classifications"] or 0.0) for r in rows]
            documented = {lb: "#2a7fba" for lb, r in zip(labels, rows, strict=True)
                          if r["is_documented_classification"]}  # fmt: skip
            y = list(range(len(rows)))
            colors = _color_cycle(labels, documented)
            bars = ax.barh(y, shares, 0.7, color=colors, linewidth=0)
            if len(documented) < len(labels):  # say what a bar of another colour is
                kinds = {}
                for bar, label in zip(bars, labels, strict=True):
                    kind = "documented" if label in documented else "not documented"
                    kinds.setdefault(MISSING_LABEL if label == MISSING_LABEL else kind, bar)
                ax.legend(kinds.values(), kinds.keys(), loc="lower right")
            for i, row in enumerate(rows):
                ax.text(shares[i] + 0.5, i, f"{row['classifications']}", va="center", fontsize=7)
            ax.set_yticks(y, labels)
            ax.invert_yaxis()
            ax.set_xlim(0, max(shares) * 1.15 + 1)
            ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:g}%")
        return _svg(fig, "classification", "Classification mix")


def kpi_chart_svg(data: ReportData) -> str:
    """One line per KPI rate over the ISO weeks (a null rate is a gap)."""
    weeks = data.weeks
    with rc_context(_RC):
        fig = Figure(figsize=(9.0, 3.6))
        ax = fig.add_subplot()
        ax.set_title("KPI trends per ISO week", loc="left")
        if not weeks:
            _no_data(ax, "no calls with a date")
        else:
            x = list(range(len(weeks)))
            for name, color in zip(KPI_RATES, KPI_COLORS, strict=True):
                values = [math.nan if r[name] is None else 100.0 * r[name] for r in weeks]
                ax.plot(x, values, marker="o", markersize=3, linewidth=1.6, color=color,
                        label=KPI_LABELS.get(name, name))  # fmt: skip
            ax.set_xticks(x, [str(r["iso_week"]) for r in weeks], rotation=45, ha="right")
            ax.set_ylim(0, 100)
            ax.set_yticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
            ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="KPI")
        return _svg(fig, "kpis", "KPI trends per ISO week")


#: Section id -> (heading, chart function), in page order.
CHARTS = {
    "sentiment-mix": ("Weekly sentiment mix", sentiment_chart_svg),
    "classification-mix": ("Classification mix", classification_chart_svg),
    "kpi-trends": ("KPI trends", kpi_chart_svg),
}


def render_charts(data: ReportData) -> dict[str, str]:
    """Section id -> the chart's inline `<svg>`."""
    return {section: chart(data) for section, (_, chart) in CHARTS.items()}
