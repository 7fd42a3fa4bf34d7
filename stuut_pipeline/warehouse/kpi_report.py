"""The KPI report: one self-contained HTML page per workflow, charts rendered at build time.

Read from the three published marts (`marts/<rollup>/workflow_id=<id>/part-0.parquet`, their
columns from `contract.ROLLUPS`), never from the source tables: no KPI is recomputed here; the
weekly sentiment mix only adds up the mart's daily counts per ISO week.

The charts are matplotlib SVG inlined into the page: no script, no CDN, no network at view time,
crisp at any zoom. Rendering is deterministic (a fixed `svg.hashsalt` per chart, text kept as
text, no date in the SVG metadata), so the same marts give the same bytes. Only
`matplotlib.figure.Figure` is used, never `pyplot`: no global backend or figure registry (the
SVG canvas needs no GUI backend, Agg or otherwise).

Published through `storage`: `reports/workflow_id=<id>/kpi_report.html` per workflow, and an
index of every workflow that has a report at `reports/index/index.html` (a directory of its
own, since a publish replaces its target directory whole).
"""

from __future__ import annotations

import base64
import html
import io
import math
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from matplotlib import rc_context
from matplotlib.figure import Figure

from stuut_pipeline.layout import (
    MARTS_DIR,
    PART_FILE,
    PARTITION_COLUMN,
    REPORT_FILE,
    REPORT_INDEX_DIR,
    REPORT_INDEX_FILE,
    REPORT_INDEX_KEY,
    REPORTS_DIR,
    checked_workflow_id,
    partition_dir,
    report_dir,
    report_key,
)
from stuut_pipeline.storage import (
    DataLocation,
    clean_orphaned_staging,
    new_staging,
    publish_file,
)
from stuut_pipeline.stuut_api.discovery import is_valid_workflow_id
from stuut_pipeline.stuut_api.enums import SENTIMENTS

from .contract import ROLLUPS
from .report import KPI_RATES, SENTIMENT_GLYPHS

#: The marts a report reads, in the order of its sections.
REPORT_ROLLUPS: tuple[str, ...] = ("sentiment_rollup", "classification_rollup", "workflow_kpis")
#: Label of a null value (a missing sentiment or classification keeps its own bar).
MISSING_LABEL = "(missing)"
#: Sentiments in chart order: the order of the markdown chart, then any other documented one.
SENTIMENT_ORDER: tuple[str, ...] = (
    *SENTIMENT_GLYPHS,
    *(s for s in SENTIMENTS if s not in SENTIMENT_GLYPHS),
)
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

Headline = dict[str, float | int | str]


class MartMissingError(FileNotFoundError):
    """A mart the report needs has no published file for the workflow."""


# --------------------------------------------------------------------------------------------
# Reading the marts
# --------------------------------------------------------------------------------------------


def mart_key(rollup: str, workflow_id: str) -> str:
    """`marts/<rollup>/workflow_id=<id>/part-0.parquet` as a storage key."""
    return f"{MARTS_DIR}/{ROLLUPS[rollup].name}/{partition_dir(workflow_id)}/{PART_FILE}"


def read_mart_rows(location: DataLocation, rollup: str, workflow_id: str) -> list[dict]:
    """The rows of one workflow's mart (the contract's columns); `MartMissingError` if absent."""
    columns = ROLLUPS[rollup].contract.column_names
    key = mart_key(rollup, workflow_id)
    try:
        with location.open_input_file(key) as source:
            table = pq.read_table(source, columns=columns)
    except FileNotFoundError:
        raise MartMissingError(
            f"no {rollup} mart for workflow {workflow_id!r} at {location.uri(key)}: "
            f"materialise {rollup} for this partition before the report"
        ) from None
    return table.to_pylist()


@dataclass(frozen=True)
class ReportData:
    """The three marts' rows of one workflow."""

    workflow_id: str
    sentiment: list[dict]
    classification: list[dict]
    kpis: list[dict]
    #: rollup -> the mart key the rows were read from
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def weeks(self) -> list[dict]:
        """`workflow_kpis` rows with a week, oldest first."""
        return sorted((r for r in self.kpis if r["week_start"]), key=lambda r: r["week_start"])


def read_report_data(location: DataLocation, workflow_id: str) -> ReportData:
    """Read the three marts of one workflow."""
    workflow_id = checked_workflow_id(workflow_id)
    rows = {r: read_mart_rows(location, r, workflow_id) for r in REPORT_ROLLUPS}
    return ReportData(
        workflow_id,
        rows["sentiment_rollup"],
        rows["classification_rollup"],
        rows["workflow_kpis"],
        {r: mart_key(r, workflow_id) for r in REPORT_ROLLUPS},
    )


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def iso_week_label(day: date) -> str:
    """`2026-W07`: the ISO week of a day, as `workflow_kpis.iso_week` writes it."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _label(value: object) -> str:
    return MISSING_LABEL if value is None else str(value)


def weekly_sentiment(data: ReportData) -> tuple[list[str], dict[str, list[int]]]:
    """ISO weeks (oldest first) and, per sentiment, its calls in each week (both directions).

    Documented sentiments first, then undocumented values, then a missing one; calls without a
    day are left out (counted by `summary_figures`).
    """
    by_week: dict[str, dict[str, int]] = {}
    for row in data.sentiment:
        if row["day"] is None:
            continue
        week = by_week.setdefault(iso_week_label(row["day"]), {})
        label = _label(row["sentiment"])
        week[label] = week.get(label, 0) + int(row["calls"])
    weeks = sorted(by_week)
    seen = {s for counts in by_week.values() for s in counts}
    order = [
        *SENTIMENT_ORDER,
        *sorted(seen - set(SENTIMENT_ORDER) - {MISSING_LABEL}),
        *([MISSING_LABEL] if MISSING_LABEL in seen else []),
    ]
    return weeks, {s: [by_week[w].get(s, 0) for w in weeks] for s in order}


def classification_mix(data: ReportData) -> list[dict]:
    """Classification rows that occur, most frequent first (ties by label)."""
    seen = [r for r in data.classification if r["classifications"]]
    return sorted(seen, key=lambda r: (-r["classifications"], _label(r["classification"])))


def summary_figures(data: ReportData) -> Headline:
    """What the page was generated from: calls, classifications and the weeks covered."""
    weeks = data.weeks
    out: Headline = {
        "calls": sum(int(r["calls"]) for r in data.sentiment),
        "calls_without_day": sum(int(r["calls"]) for r in data.sentiment if r["day"] is None),
        "classifications": sum(int(r["classifications"]) for r in data.classification),
        "weeks": len(weeks),
    }
    if weeks:
        out["first_week"] = str(weeks[0]["iso_week"])
        out["latest_week"] = str(weeks[-1]["iso_week"])
    return out


def latest_kpis(data: ReportData) -> Headline:
    """The latest ISO week: its label, calls and the five rates (a null rate is left out)."""
    weeks = data.weeks
    if not weeks:
        return {}
    latest = weeks[-1]
    out: Headline = {"latest_week": str(latest["iso_week"]), "latest_week_calls": latest["calls"]}
    for name in KPI_RATES:
        if latest[name] is not None:
            out[name] = float(latest[name])
    return out


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


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
            labels = [_label(r["classification"]) for r in rows]
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


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1.5rem; color: #222; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
code { background: #f3f3f3; padding: 0 .25rem; border-radius: 3px; }
dl { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; margin: .5rem 0; }
dt { color: #555; } dd { margin: 0; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .75rem; text-align: right; }
td { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
section { border-top: 1px solid #eee; }
svg.chart { max-width: 100%; height: auto; display: block; }
nav a, li a { color: #1a5fa0; }
.note { color: #666; font-size: .85rem; margin: .25rem 0; line-height: 1.6; }
""".strip()


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _figures_html(data: ReportData) -> str:
    figures = summary_figures(data)
    items = [
        ("calls", "calls", f"{figures['calls']:,}"),
        ("classifications", "classifications", f"{figures['classifications']:,}"),
        ("weeks", "ISO weeks", f"{figures['weeks']}"),
    ]
    if figures["weeks"]:
        span = f"{figures['first_week']} – {figures['latest_week']}"
        items.append(("week_span", "from – to", span))
    if figures["calls_without_day"]:
        text = f"{figures['calls_without_day']:,} (not in the weekly charts)"
        items.append(("calls_without_day", "calls without a date", text))
    rows = "".join(
        f'<dt>{html.escape(label)}</dt><dd data-figure="{key}">{html.escape(text)}</dd>\n'
        for key, label, text in items
    )
    sources = "".join(f"<li><code>{html.escape(k)}</code></li>" for k in data.sources.values())
    tail = (
        f'<p class="note">Generated from</p>\n<ul class="note">{sources}</ul>\n' if sources else ""
    )
    return f'<dl id="figures">\n{rows}</dl>\n{tail}'


def _latest_week_html(data: ReportData) -> str:
    weeks = data.weeks
    if not weeks:
        return '<p id="latest-week">No calls with a date.</p>\n'
    latest = weeks[-1]
    head = "".join(f"<th>{html.escape(KPI_LABELS.get(n, n))}</th>" for n in KPI_RATES)
    cells = "".join(
        f'<td data-kpi="{n}" data-value="{"" if latest[n] is None else repr(float(latest[n]))}">'
        f"{_pct(latest[n])}</td>"
        for n in KPI_RATES
    )
    week = html.escape(str(latest["iso_week"]))
    return (
        f'<h2>Latest week: {week}</h2>\n<table id="latest-week">\n'
        f"<tr><th>ISO week</th><th>calls</th>{head}</tr>\n"
        f'<tr><td>{week}</td><td data-kpi="calls" data-value="{latest["calls"]}">'
        f"{latest['calls']:,}</td>{cells}</tr>\n</table>\n"
    )


def render_charts(data: ReportData) -> dict[str, str]:
    """Section id -> the chart's inline `<svg>`."""
    return {section: chart(data) for section, (_, chart) in CHARTS.items()}


def render_report(data: ReportData, charts: dict[str, str] | None = None) -> str:
    """The HTML page of one workflow: figures, the latest week's KPIs, one section per chart."""
    charts = charts if charts is not None else render_charts(data)
    wf = html.escape(data.workflow_id)
    index = posixpath.relpath(REPORT_INDEX_KEY, report_dir(data.workflow_id))
    sections = "".join(
        f'<section id="{section}">\n<h2>{html.escape(heading)}</h2>\n{charts[section]}</section>\n'
        for section, (heading, _) in CHARTS.items()
    )
    body = (
        f'<header>\n<nav><a href="{html.escape(index)}">All workflows</a></nav>\n'
        f'<h1>KPI report</h1>\n<p>Workflow <code id="workflow-id">{wf}</code></p>\n'
        f"{_figures_html(data)}{_latest_week_html(data)}</header>\n<main>\n{sections}</main>\n"
    )
    return _page(f"KPI report: {data.workflow_id}", body)


def report_html(location: DataLocation, workflow_id: str) -> str:
    """Read the three marts of one workflow and return its report page."""
    return render_report(read_report_data(location, workflow_id))


def render_index(workflow_ids: Iterable[str]) -> str:
    """The index page: a link to the report of each workflow (sorted, each once)."""
    ids = sorted({checked_workflow_id(w) for w in workflow_ids})
    items = "".join(
        f'<li><a href="{html.escape(posixpath.relpath(report_key(w), REPORT_INDEX_DIR))}">'
        f"<code>{html.escape(w)}</code></a></li>\n"
        for w in ids
    )
    listing = f'<ul id="reports">\n{items}</ul>\n' if ids else "<p>No reports yet.</p>\n"
    body = f"<h1>KPI reports</h1>\n<p>{len(ids)} workflows.</p>\n{listing}"
    return _page("KPI reports", body)


# --------------------------------------------------------------------------------------------
# Publishing
# --------------------------------------------------------------------------------------------


def published_report_ids(location: DataLocation) -> list[str]:
    """Workflow ids that have a published report page, sorted."""
    pattern = f"{REPORTS_DIR}/{PARTITION_COLUMN}=*/{REPORT_FILE}"
    prefix = f"{PARTITION_COLUMN}="
    ids = [key.split("/")[1].removeprefix(prefix) for key in location.list_files(pattern=pattern)]
    return sorted(w for w in ids if is_valid_workflow_id(w))


def _publish(location: DataLocation, label: str, page: str, target_dir: str, name: str) -> str:
    clean_orphaned_staging(location, label)  # left by a killed run of this same partition
    staging = new_staging(location, label)
    try:
        location.write_bytes(staging.key_for(name), page.encode())
        return publish_file(location, staging.key_for(name), target_dir, name)
    except BaseException:
        staging.discard()
        raise


def publish_report(location: DataLocation, workflow_id: str, page: str) -> str:
    """Publish one workflow's page atomically; return its key."""
    wf = checked_workflow_id(workflow_id)
    return _publish(location, f"report-{wf}", page, report_dir(wf), REPORT_FILE)


def publish_index(location: DataLocation, workflow_id: str) -> tuple[str, list[str]]:
    """Rebuild and publish the index of every published report; return its key and the ids.

    `workflow_id` (the partition doing it) only names the staging. Partitions running at once
    may each rebuild it: the page is always whole, and the next run of any partition lists a
    report that a concurrent rebuild missed.
    """
    wf = checked_workflow_id(workflow_id)
    ids = published_report_ids(location)
    key = _publish(
        location, f"report_index-{wf}", render_index(ids), REPORT_INDEX_DIR, REPORT_INDEX_FILE
    )
    return key, ids


def file_url(location: DataLocation, key: str) -> str | None:
    """A `file://` URL of `key` on a local location, else None."""
    return Path(location.path(key)).as_uri() if location.is_local else None


def svg_data_uri(svg: str) -> str:
    """`data:image/svg+xml;base64,...` of an inline SVG (for a markdown image)."""
    text = svg.replace('role="img" ', "", 1)
    if "xmlns=" not in text.split(">", 1)[0]:
        text = text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode()


@dataclass(frozen=True)
class ReportBuild:
    """One published report: where it is, its size, its headline KPIs and the main chart."""

    workflow_id: str
    key: str
    uri: str
    url: str | None
    bytes: int
    index_key: str
    index_uri: str
    index_url: str | None
    workflows_in_index: list[str]
    figures: Headline
    kpis: Headline
    sentiment_svg: str


def build_report(location: DataLocation, workflow_id: str) -> ReportBuild:
    """Read the marts of one workflow, publish its page, then rebuild the index."""
    data = read_report_data(location, workflow_id)
    charts = render_charts(data)
    page = render_report(data, charts).encode()
    key = publish_report(location, data.workflow_id, page.decode())
    index_key, ids = publish_index(location, data.workflow_id)
    return ReportBuild(
        workflow_id=data.workflow_id,
        key=key,
        uri=location.uri(key),
        url=file_url(location, key),
        bytes=len(page),
        index_key=index_key,
        index_uri=location.uri(index_key),
        index_url=file_url(location, index_key),
        workflows_in_index=ids,
        figures=summary_figures(data),
        kpis=latest_kpis(data),
        sentiment_svg=charts["sentiment-mix"],
    )
