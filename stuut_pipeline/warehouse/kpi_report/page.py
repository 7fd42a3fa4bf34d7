"""The report's HTML: the page of one workflow and the index of every workflow."""

from __future__ import annotations

import html
import posixpath
from collections.abc import Iterable

from stuut_pipeline.layout import (
    REPORT_INDEX_DIR,
    REPORT_INDEX_KEY,
    checked_workflow_id,
    report_dir,
    report_key,
)

from ..report import KPI_RATES
from .charts import CHARTS, KPI_LABELS, render_charts
from .data import ReportData, summary_figures

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
