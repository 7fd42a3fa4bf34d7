"""What people look at: markdown tables, the sentiment chart, headline figures."""

from __future__ import annotations

import math

from stuut_pipeline import warehouse as wh
from stuut_pipeline.simulator.generator import SENTIMENTS

from ..reference import (
    expected_kpis,
    labels,
    utc_day,
)


def test_markdown_chart_and_headline_figures(built_once):
    data_dir, by_wf = built_once
    wf = sorted(by_wf)[0]
    recs = by_wf[wf]
    with wh.connection(wh.default_db_path(data_dir), read_only=True) as con:
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
