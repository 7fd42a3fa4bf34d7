"""What people look at: markdown tables, the sentiment chart, headline figures."""

from __future__ import annotations

import math

import orjson

from stuut_pipeline import warehouse as wh
from stuut_pipeline.layout import WAREHOUSE_FILE
from stuut_pipeline.simulator.generator import SENTIMENTS

from .. import factories
from ..reference import (
    expected_kpis,
    labels,
    utc_day,
)
from .inputs import build_all, write_parquet


def test_markdown_chart_and_headline_figures(built_once):
    data_dir, by_wf = built_once
    wf = sorted(by_wf)[0]
    recs = by_wf[wf]
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        chart = wh.sentiment_chart_markdown(con, wf, days=400)
        kpi_md = wh.latest_figures_markdown(con, "workflow_kpis", wf)
        sentiment_md = wh.latest_figures_markdown(con, "sentiment_rollup", wf)
        kpi = wh.headline_figures(con, "workflow_kpis", wf)
        sentiment = wh.headline_figures(con, "sentiment_rollup", wf)
        classification = wh.headline_figures(con, "classification_rollup", wf)
    days = sorted({utc_day(r) for r in recs})
    bars = [line for line in chart.splitlines() if "│" in line]
    assert [line[:10] for line in bars] == [d.isoformat() for d in days]
    assert all(len(line.split("│")[1]) == 40 for line in bars)
    assert "█ positive" in chart and "× other" in chart
    assert f"**Latest day: {days[-1].isoformat()} (UTC)**" in sentiment_md
    expected_weeks = expected_kpis(recs)
    latest = expected_weeks[max(expected_weeks)]
    assert latest["iso_week"] in kpi_md and "connect_rate" in kpi_md
    assert kpi["latest_week"] == latest["iso_week"]
    assert kpi["calls"] == latest["calls"]
    assert math.isclose(kpi["connect_rate"], latest["connect_rate"])
    assert math.isclose(kpi["right_party_contact_rate"], latest["right_party_contact_rate"])
    for currency, amount in latest["amount_due_by_currency"].items():
        assert math.isclose(kpi[f"amount_due/{currency}"], amount)
    assert sentiment["calls"] == len(recs)
    for s in SENTIMENTS:
        assert math.isclose(
            sentiment[f"share/{s}"], sum(r.get("sentiment") == s for r in recs) / len(recs)
        )
    promises = sum("payment_promise" in labels(r) for r in recs)
    assert math.isclose(classification["share_of_calls/payment_promise"], promises / len(recs))


# Hand-computed figures (8 glyphs ▁▂▃▄▅▆▇█: value v shows glyph int(v * 8), capped at █)


def test_sparkline_glyphs_by_hand() -> None:
    from stuut_pipeline.warehouse.report import sparkline

    assert sparkline([0.0, 0.124, 0.125, 0.5, 0.99, 1.0]) == "▁▁▂▅██"
    assert sparkline([None, float("nan"), 0.3]) == "  ▃"
    assert sparkline([-0.5, 1.7]) == "▁█"  # out of range: clamped
    assert sparkline([]) == ""


def test_segments_sum_to_the_width_by_largest_remainder() -> None:
    from stuut_pipeline.warehouse.report import _segments

    assert _segments([1, 1, 1], 40) == [14, 13, 13]  # 13.33 each: the first remainder wins
    assert _segments([3, 1], 40) == [30, 10]
    assert _segments([2, 1, 1], 10) == [5, 3, 2]  # 5, 2.5, 2.5: ties go to the first
    assert _segments([0, 0], 40) == [0, 0]
    assert _segments([7, 0, 0, 0], 40) == [40, 0, 0, 0]


def test_sentiment_chart_of_a_tiny_rollup_by_hand(tmp_path) -> None:
    """One workflow, one day: 3 positive, 1 negative calls, and one undocumented sentiment."""
    records = [
        orjson.loads(factories.generator(seed=1, n_workflows=1, no_workflow_share=0.0).call_json(i))
        for i in range(5)
    ]
    for rec, sentiment in zip(
        records, ["positive", "positive", "positive", "negative", "mixed"], strict=True
    ):
        rec["sentiment"] = sentiment
        rec["start_time"] = "2026-09-02T10:00:00Z"
        rec["end_time"] = "2026-09-02T10:01:00Z"
    data_dir = tmp_path / "data"
    (wf,) = write_parquet(data_dir, records)
    build_all(data_dir, [wf])
    with wh.connection((data_dir / WAREHOUSE_FILE), read_only=True) as con:
        chart = wh.sentiment_chart_markdown(con, wf, width=10)
        headline = wh.headline_figures(con, "sentiment_rollup", wf)
    (bar,) = [line for line in chart.splitlines() if "│" in line]
    # 10 columns: positive 6, neutral 0, negative 2, unknown 0, mixed 2 (3/5, 1/5, 1/5 of 10)
    assert bar == "2026-09-02 │██████▒▒××│     5 calls, positive  60%, negative  20%"
    assert headline["calls"] == 5
    assert math.isclose(headline["share/positive"], 0.6)
    assert math.isclose(headline["share/negative"], 0.2)
    assert headline["share/neutral"] == 0.0 and headline["share/unknown"] == 0.0
    assert math.isclose(headline["share/undocumented"], 0.2)
