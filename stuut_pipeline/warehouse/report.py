"""What a person looks at: markdown tables of the latest figures, a unicode chart of the sentiment
mix over time, and headline numbers (Dagster plots numeric metadata over materialisations).

Everything is read from the rollup tables; no KPI is recomputed here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import duckdb

from stuut_pipeline.model import markdown_table
from stuut_pipeline.stuut_api.enums import SENTIMENTS

from .contract import Rollup, get_rollup
from .db import fetch_rollup, run_sql

#: Classifications AR analysts follow (NOTES.md), shown as headline numbers.
KEY_CLASSIFICATIONS: tuple[str, ...] = (
    "payment_promise",
    "complaint",
    "refund_request",
    "cancellation_request",
    "wrong_contact",
)
#: Rates of workflow_kpis shown as headline numbers and sparklines.
KPI_RATES: tuple[str, ...] = (
    "connect_rate",
    "voicemail_rate",
    "right_party_contact_rate",
    "promise_to_pay_rate",
    "dispute_complaint_share",
)
#: Glyph of each documented sentiment in the chart; any other value (or null) is OTHER_GLYPH.
SENTIMENT_GLYPHS: dict[str, str] = {
    "positive": "█",
    "neutral": "▓",
    "negative": "▒",
    "unknown": "░",
}
OTHER_GLYPH = "×"
SPARKS = "▁▂▃▄▅▆▇█"

Headline = dict[str, float | int | str]


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def sparkline(values: Sequence[float | None]) -> str:
    """A unicode sparkline of values in [0, 1] (blank for a missing value)."""
    out = []
    for v in values:
        if v is None or math.isnan(v):
            out.append(" ")
        else:
            out.append(SPARKS[min(len(SPARKS) - 1, max(0, int(v * len(SPARKS))))])
    return "".join(out)


def _segments(shares: Sequence[float], width: int) -> list[int]:
    """Integer widths proportional to `shares` summing to `width` (largest remainder)."""
    total = sum(shares)
    if total <= 0:
        return [0] * len(shares)
    exact = [s / total * width for s in shares]
    ints = [int(x) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: exact[i] - ints[i], reverse=True)
    for i in order[: width - sum(ints)]:
        ints[i] += 1
    return ints


# --------------------------------------------------------------------------------------------
# Sentiment
# --------------------------------------------------------------------------------------------


def sentiment_chart_markdown(
    con: duckdb.DuckDBPyConnection, workflow_id: str, *, days: int = 28, width: int = 40
) -> str:
    """A stacked unicode bar per UTC day (the last `days` days) of the sentiment mix."""
    rows = run_sql(con, "report_sentiment_mix.sql", workflow_id)
    by_day: dict[date | None, dict[str | None, int]] = {}
    for row in rows:
        by_day.setdefault(row["day"], {})[row["sentiment"]] = int(row["calls"])
    shown = sorted(d for d in by_day if d is not None)[-days:]
    legend = "  ".join(f"{g} {s}" for s, g in SENTIMENT_GLYPHS.items())
    lines = [f"Sentiment mix per UTC day (share of calls)   {legend}  {OTHER_GLYPH} other"]
    for day in shown:
        counts = by_day[day]
        total = sum(counts.values())
        others = sorted((k for k in counts if k not in SENTIMENT_GLYPHS), key=str)
        order = [*SENTIMENT_GLYPHS, *others]
        glyphs = [SENTIMENT_GLYPHS.get(s, OTHER_GLYPH) if s else OTHER_GLYPH for s in order]
        widths = _segments([counts.get(s, 0) for s in order], width)
        bar = "".join(g * w for g, w in zip(glyphs, widths, strict=True))
        pos = counts.get("positive", 0) / total if total else 0.0
        neg = counts.get("negative", 0) / total if total else 0.0
        lines.append(
            f"{day.isoformat()} │{bar:<{width}}│ {total:>5} calls, "
            f"positive {100 * pos:3.0f}%, negative {100 * neg:3.0f}%"
        )
    if not shown:
        lines.append("(no calls)")
    return "```\n" + "\n".join(lines) + "\n```"


def _sentiment_latest(con: duckdb.DuckDBPyConnection, workflow_id: str) -> str:
    rows = fetch_rollup(con, "sentiment_rollup", workflow_id)
    days = [r["day"] for r in rows if r["day"] is not None]
    if not days:
        return "_No calls with a date._"
    latest = max(days)
    table = markdown_table(
        [r for r in rows if r["day"] == latest],
        [
            ("direction", "direction", ""),
            ("sentiment", "sentiment", ""),
            ("calls", "calls", "num1"),
            ("share_of_calls", "share", "pct"),
            ("voicemail_rate", "voicemail", "pct"),
            ("mean_duration_seconds", "mean s", "num1"),
            ("median_duration_seconds", "median s", "num1"),
        ],
    )
    return f"**Latest day: {latest.isoformat()} (UTC)**\n\n{table}"


def _sentiment_headline(con: duckdb.DuckDBPyConnection, workflow_id: str) -> Headline:
    rows = run_sql(con, "report_sentiment_overall.sql", workflow_id)
    out: Headline = {"calls": int(sum(r["calls"] for r in rows))}
    shares = {r["sentiment"]: r["share"] for r in rows}
    for s in SENTIMENTS:
        out[f"share/{s}"] = float(shares.get(s) or 0.0)
    out["share/undocumented"] = float(
        sum(r["share"] or 0.0 for r in rows if r["sentiment"] not in SENTIMENTS)
    )
    return out


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------


def _classification_latest(con: duckdb.DuckDBPyConnection, workflow_id: str) -> str:
    rows = fetch_rollup(con, "classification_rollup", workflow_id)
    seen = sorted((r for r in rows if r["classifications"]), key=lambda r: -r["calls"])
    table = markdown_table(
        seen,
        [
            ("classification", "classification", ""),
            ("calls", "calls", "num1"),
            ("share_of_calls", "of calls", "pct"),
            ("share_of_classifications", "of classifications", "pct"),
            ("action_required_rate", "action req.", "pct"),
            ("reply_required_rate", "reply req.", "pct"),
            ("mean_agent_confidence", "confidence", "num1"),
            ("tasks_open", "tasks open", "num1"),
            ("tasks_completed", "tasks done", "num1"),
        ],
    )
    unseen = [str(r["classification"]) for r in rows if not r["classifications"]]
    tail = f"\n\nNever seen: {', '.join(unseen)}." if unseen else ""
    return f"**Classifications of all calls**\n\n{table}{tail}"


def _classification_headline(con: duckdb.DuckDBPyConnection, workflow_id: str) -> Headline:
    rows = {r["classification"]: r for r in fetch_rollup(con, "classification_rollup", workflow_id)}
    out: Headline = {}
    for key in (
        "classifications",
        "action_required",
        "reply_required",
        "tasks_open",
        "tasks_completed",
    ):
        out[key] = int(sum(r[key] for r in rows.values()))
    for c in KEY_CLASSIFICATIONS:
        share = rows[c]["share_of_calls"] if c in rows else None
        if share is not None:
            out[f"share_of_calls/{c}"] = float(share)
    return out


# --------------------------------------------------------------------------------------------
# KPIs
# --------------------------------------------------------------------------------------------


def _kpi_latest(con: duckdb.DuckDBPyConnection, workflow_id: str, weeks: int = 8) -> str:
    rows = [r for r in fetch_rollup(con, "workflow_kpis", workflow_id) if r["week_start"]]
    if not rows:
        return "_No calls with a date._"
    table = markdown_table(
        rows[-weeks:],
        [
            ("iso_week", "week", ""),
            ("calls", "calls", "num1"),
            ("connect_rate", "connect", "pct"),
            ("voicemail_rate", "voicemail", "pct"),
            ("right_party_contact_rate", "RPC", "pct"),
            ("promise_to_pay_rate", "PTP / RPC", "pct"),
            ("dispute_complaint_share", "dispute/complaint", "pct"),
            ("invoices_discussed", "invoices", "num1"),
            ("amount_due_by_currency", "amount due", ""),
        ],
    )
    sparks = "\n".join(f"{name:<26}{sparkline([r[name] for r in rows])}" for name in KPI_RATES)
    return (
        f"**Last {min(weeks, len(rows))} ISO weeks (UTC)**\n\n{table}\n\n"
        f"**Weekly trend, {rows[0]['iso_week']} – {rows[-1]['iso_week']}** (0 ▁ … █ 100%)\n\n"
        f"```\n{sparks}\n```"
    )


def _kpi_headline(con: duckdb.DuckDBPyConnection, workflow_id: str) -> Headline:
    rows = [r for r in fetch_rollup(con, "workflow_kpis", workflow_id) if r["week_start"]]
    if not rows:
        return {}
    latest = rows[-1]
    out: Headline = {
        "latest_week": str(latest["iso_week"]),
        "calls": int(latest["calls"]),
        "invoices_discussed": int(latest["invoices_discussed"]),
    }
    for name in KPI_RATES:
        if latest[name] is not None:
            out[name] = float(latest[name])
    for currency, amount in (latest["amount_due_by_currency"] or {}).items():
        if amount is not None:
            out[f"amount_due/{currency}"] = float(amount)
    return out


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def latest_figures_markdown(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str
) -> str:
    """Markdown of a rollup's latest figures for one workflow (latest day / all / last weeks)."""
    latest, _ = _FIGURES[get_rollup(rollup).name]
    return latest(con, workflow_id)


def headline_figures(
    con: duckdb.DuckDBPyConnection, rollup: str | Rollup, workflow_id: str
) -> Headline:
    """The headline numbers of a rollup for one workflow (name -> number; a few texts)."""
    _, headline = _FIGURES[get_rollup(rollup).name]
    return headline(con, workflow_id)


#: Rollup name -> (latest figures as markdown, headline numbers).
_FIGURES = {
    "sentiment_rollup": (_sentiment_latest, _sentiment_headline),
    "classification_rollup": (_classification_latest, _classification_headline),
    "workflow_kpis": (_kpi_latest, _kpi_headline),
}
