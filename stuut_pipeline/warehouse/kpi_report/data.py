"""The report's data: the three published marts of one workflow, and the figures it shows.

Read from the marts (their columns from `contract.ROLLUPS`), never from the source tables: no KPI
is recomputed here; the weekly sentiment mix only adds up the mart's daily counts per ISO week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pyarrow.parquet as pq

from stuut_pipeline.layout import checked_workflow_id, mart_key
from stuut_pipeline.storage import DataLocation
from stuut_pipeline.stuut_api.enums import SENTIMENTS

from ..contract import ROLLUPS
from ..report import KPI_RATES, SENTIMENT_GLYPHS

#: The marts a report reads, in the order of its sections.
REPORT_ROLLUPS: tuple[str, ...] = ("sentiment_rollup", "classification_rollup", "workflow_kpis")
#: Label of a null value (a missing sentiment or classification keeps its own bar).
MISSING_LABEL = "(missing)"
#: Sentiments in chart order: the order of the markdown chart, then any other documented one.
SENTIMENT_ORDER: tuple[str, ...] = (
    *SENTIMENT_GLYPHS,
    *(s for s in SENTIMENTS if s not in SENTIMENT_GLYPHS),
)
Headline = dict[str, float | int | str]


class MartMissingError(FileNotFoundError):
    """A mart the report needs has no published file for the workflow."""


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


def iso_week_label(day: date) -> str:
    """`2026-W07`: the ISO week of a day, as `workflow_kpis.iso_week` writes it."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def value_label(value: object) -> str:
    """A value as its chart label (a null is `MISSING_LABEL`)."""
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
        label = value_label(row["sentiment"])
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
    return sorted(seen, key=lambda r: (-r["classifications"], value_label(r["classification"])))


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
