"""The KPI report page: one chart per section, the workflow's figures as the marts hold them.

Figures are compared with DuckDB queries over the published mart files, not with the report code.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from stuut_pipeline.layout import REPORT_INDEX_KEY, mart_key, report_key
from stuut_pipeline.storage import DataLocation
from stuut_pipeline.warehouse import kpi_report

RATES = [
    "connect_rate",
    "voicemail_rate",
    "right_party_contact_rate",
    "promise_to_pay_rate",
    "dispute_complaint_share",
]


class _Page(HTMLParser):
    """Sections (id -> svg count, h2 text), `data-figure` and `data-kpi` cells of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict] = {}
        self.figures: dict[str, str] = {}
        self.kpis: dict[str, str] = {}
        self.links: list[str] = []
        self._section: str | None = None
        self._capture: tuple[dict, str] | None = None
        self._h2 = False
        self.svg_outside_sections = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a["id"]
            self.sections[self._section] = {"svgs": 0, "h2": ""}
        elif tag == "svg":
            if self._section is None:
                self.svg_outside_sections += 1
            else:
                self.sections[self._section]["svgs"] += 1
        elif tag == "h2" and self._section:
            self._h2 = True
        elif tag == "a":
            self.links.append(a["href"])
        if "data-figure" in a:
            self._capture = (self.figures, a["data-figure"])
        if "data-kpi" in a:
            self.kpis[a["data-kpi"]] = a["data-value"]

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None
        elif tag == "h2":
            self._h2 = False
        elif tag in ("dd", "td"):
            self._capture = None

    def handle_data(self, data):
        if self._h2 and self._section:
            self.sections[self._section]["h2"] += data
        if self._capture:
            target, key = self._capture
            target[key] = target.get(key, "") + data


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def _scan(data_dir: Path, rollup: str, wf: str) -> str:
    return f"read_parquet('{data_dir / mart_key(rollup, wf)}')"


def expected_figures(data_dir: Path, wf: str) -> dict:
    """The page's figures, straight from the mart files by SQL."""
    con = duckdb.connect()
    calls = con.execute(
        f"SELECT sum(calls) FROM {_scan(data_dir, 'sentiment_rollup', wf)}"
    ).fetchone()
    classifications = con.execute(
        f"SELECT sum(classifications) FROM {_scan(data_dir, 'classification_rollup', wf)}"
    ).fetchone()
    kpis = _scan(data_dir, "workflow_kpis", wf)
    weeks, first, last = con.execute(
        f"SELECT count(*), min(iso_week), max(iso_week) FROM {kpis} WHERE week_start IS NOT NULL"
    ).fetchone()
    latest = con.execute(
        f"SELECT iso_week, calls, {', '.join(RATES)} FROM {kpis} "
        "WHERE week_start IS NOT NULL ORDER BY week_start DESC LIMIT 1"
    ).fetchone()
    sentiment_weeks = con.execute(
        "SELECT count(DISTINCT strftime(day, '%G-W%V')) FROM "
        f"{_scan(data_dir, 'sentiment_rollup', wf)} WHERE day IS NOT NULL"
    ).fetchone()[0]
    return {
        "calls": int(calls[0]),
        "classifications": int(classifications[0]),
        "weeks": weeks,
        "week_span": f"{first} – {last}",
        "latest_week": latest[0],
        "latest_calls": latest[1],
        "rates": dict(zip(RATES, latest[2:], strict=True)),
        "sentiment_weeks": sentiment_weeks,
    }


@pytest.fixture(scope="module")
def location(built_once) -> DataLocation:
    return DataLocation.from_url(built_once[0])


def test_report_has_one_chart_per_section_and_the_marts_figures(built_once, location) -> None:
    data_dir, by_wf = built_once
    assert len(by_wf) == 2
    pages = {}
    for wf in by_wf:
        page = kpi_report.report_html(location, wf)
        pages[wf] = page
        seen = parse(page)
        assert set(seen.sections) == {"sentiment-mix", "classification-mix", "kpi-trends"}
        assert all(s["svgs"] == 1 and s["h2"] for s in seen.sections.values()), seen.sections
        assert seen.svg_outside_sections == 0
        assert f"<title>KPI report: {wf}</title>" in page
        assert f'<code id="workflow-id">{wf}</code>' in page
        other = next(w for w in by_wf if w != wf)
        assert other not in page

        want = expected_figures(data_dir, wf)
        assert seen.figures["calls"] == f"{want['calls']:,}"
        assert seen.figures["classifications"] == f"{want['classifications']:,}"
        assert seen.figures["weeks"] == str(want["weeks"])
        assert seen.figures["week_span"] == want["week_span"]
        assert f"Latest week: {want['latest_week']}" in page
        assert int(seen.kpis["calls"]) == want["latest_calls"]
        for rate, value in want["rates"].items():
            if value is None:
                assert seen.kpis[rate] == ""
            else:
                assert float(seen.kpis[rate]) == pytest.approx(value), rate
        # one stacked bar per ISO week: its tick label is in the sentiment chart's SVG
        sentiment_svg = page.split('<section id="sentiment-mix">')[1].split("</section>")[0]
        weeks = set(re.findall(r"\d{4}-W\d{2}", sentiment_svg))
        assert len(weeks) == want["sentiment_weeks"] == want["weeks"]
        for chart_id, needle in [("kpi-trends", "right-party contact rate")]:
            assert needle in page.split(f'<section id="{chart_id}">')[1]
    assert pages[next(iter(by_wf))] != pages[list(by_wf)[1]]


def test_the_same_marts_give_the_same_bytes(built_once, location) -> None:
    wf = next(iter(built_once[1]))
    first = kpi_report.report_html(location, wf)
    assert kpi_report.report_html(location, wf) == first
    # nothing to run or fetch: no script, stylesheet, image or font by URL (the browser test
    # checks the same with real network events)
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "url(http"):
        assert needle not in first, needle
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", first)


def test_an_empty_workflow_renders_without_charts_data() -> None:
    data = kpi_report.ReportData("otwfl_empty", [], [], [])
    seen = parse(kpi_report.render_report(data))
    assert all(s["svgs"] == 1 for s in seen.sections.values())
    assert seen.figures["calls"] == "0"


def test_build_publishes_the_page_and_the_index(built) -> None:
    data_dir, by_wf = built
    location = DataLocation.from_url(data_dir)
    first, second = list(by_wf)
    build = kpi_report.build_report(location, first)
    assert build.key == report_key(first) == f"reports/workflow_id={first}/kpi_report.html"
    assert len((data_dir / build.key).read_bytes()) == build.bytes
    assert build.url == (data_dir / build.key).resolve().as_uri()
    assert build.workflows_in_index == [first]
    build = kpi_report.build_report(location, second)
    assert build.workflows_in_index == sorted(by_wf)
    index = (data_dir / REPORT_INDEX_KEY).read_text()
    links = parse(index).links
    assert links == [f"../workflow_id={w}/kpi_report.html" for w in sorted(by_wf)]
    for link in links:  # relative links resolve to the published pages
        assert (data_dir / REPORT_INDEX_KEY).parent.joinpath(link).resolve().is_file()
    # the per-workflow page links back to the index
    page = (data_dir / report_key(first)).read_text()
    assert (data_dir / report_key(first)).parent.joinpath(parse(page).links[0]).resolve() == (
        data_dir / REPORT_INDEX_KEY
    ).resolve()
    # republishing keeps every other report; nothing is left in staging
    build = kpi_report.build_report(location, first)
    assert kpi_report.published_report_ids(location) == sorted(by_wf)
    assert location.list_files(".staging") == []
    # the headline KPIs are the latest week's rates of the mart
    want = expected_figures(data_dir, first)
    for rate, value in want["rates"].items():
        if value is not None:
            assert build.kpis[rate] == pytest.approx(value)


def test_a_missing_mart_is_a_clear_error(built) -> None:
    data_dir, by_wf = built
    wf = next(iter(by_wf))
    (data_dir / mart_key("workflow_kpis", wf)).unlink()
    with pytest.raises(kpi_report.MartMissingError, match="materialise workflow_kpis"):
        kpi_report.report_html(DataLocation.from_url(data_dir), wf)


def test_index_of_no_workflows() -> None:
    page = kpi_report.render_index([])
    assert "No reports yet." in page and "<li>" not in page
