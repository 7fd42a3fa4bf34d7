"""The rollups computed independently, in plain Python over the call dicts as served.

Never the project's SQL: the tests compare every figure of the warehouse with these.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from stuut_pipeline.simulator.generator import CLASSIFICATIONS, NOT_CONNECTED_REASONS, SENTIMENTS

ROLLUP_NAMES = ("sentiment_rollup", "classification_rollup", "workflow_kpis")
#: Each rollup's key, as the README documents its grain.
PRIMARY_KEYS = {
    "sentiment_rollup": ("day", "direction", "sentiment"),
    "classification_rollup": ("classification",),
    "workflow_kpis": ("week_start",),
}


def exact(amount: Decimal | float | int | str) -> Decimal:
    """The exact value of an amount as the JSON carries it (a float's repr is its JSON text)."""
    return amount if isinstance(amount, Decimal) else Decimal(str(amount))


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _call_time(rec: dict) -> datetime:
    return _ts(rec.get("start_time")) or _ts(rec["created_at"])


def _day(rec: dict) -> date:
    return _call_time(rec).astimezone(UTC).date()


def _week(t: datetime) -> date:
    d = t.astimezone(UTC).date()
    return d - timedelta(days=d.weekday())


def _duration(rec: dict) -> float | None:
    start, end = _ts(rec.get("start_time")), _ts(rec.get("end_time"))
    return None if start is None or end is None else (end - start).total_seconds()


def _voicemail(rec: dict) -> bool:
    return rec.get("in_voicemail") is True or rec.get("disconnection_reason") in (
        "voicemail_reached",
        "machine_detected",
    )


def _connected(rec: dict) -> bool:
    reason = rec.get("disconnection_reason")
    # the simulator's own list of never-connected reasons is the oracle
    return _voicemail(rec) or (reason is not None and reason not in NOT_CONNECTED_REASONS)


def _labels(rec: dict) -> list[Any]:
    return [c.get("classification") for c in rec["classifications"]]


def _rpc(rec: dict) -> bool:
    wrong = any(c in ("wrong_contact", "not_available") for c in _labels(rec))
    return _connected(rec) and not _voicemail(rec) and not wrong


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def expected_sentiment(recs: list[dict]) -> dict[tuple, dict]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for rec in recs:
        groups[(_day(rec), rec.get("direction"))].append(rec)
    out = {}
    for (day, direction), members in groups.items():
        values = list(SENTIMENTS) + [
            s for s in {r.get("sentiment") for r in members} if s not in SENTIMENTS
        ]
        for sentiment in values:
            calls = [r for r in members if r.get("sentiment") == sentiment]
            durations = [d for d in map(_duration, calls) if d is not None]
            vm = sum(map(_voicemail, calls))
            out[(day, direction, sentiment)] = {
                "is_documented_sentiment": sentiment in SENTIMENTS,
                "calls": len(calls),
                "share_of_calls": len(calls) / len(members),
                "voicemail_calls": vm,
                "voicemail_rate": _rate(vm, len(calls)),
                "mean_duration_seconds": statistics.mean(durations) if durations else None,
                "median_duration_seconds": statistics.median(durations) if durations else None,
            }
    return out


def expected_classification(recs: list[dict]) -> dict[tuple, dict]:
    acc: dict[Any, dict] = {
        c: {"n": 0, "calls": set(), "ar": 0, "rr": 0, "conf": [], "t": 0, "to": 0, "tc": 0}
        for c in CLASSIFICATIONS
    }
    for rec in recs:
        for cls in rec["classifications"]:
            a = acc.setdefault(
                cls.get("classification"),
                {"n": 0, "calls": set(), "ar": 0, "rr": 0, "conf": [], "t": 0, "to": 0, "tc": 0},
            )
            a["n"] += 1
            a["calls"].add(rec["id"])
            a["ar"] += cls.get("is_action_required") is True
            a["rr"] += cls.get("is_reply_required") is True
            if cls.get("agent_confidence_score") is not None:
                a["conf"].append(float(cls["agent_confidence_score"]))
            for task in cls.get("tasks") or []:
                done = task.get("status") == "completed" or task.get("action_taken") == "complete"
                a["t"] += 1
                a["tc"] += done
                a["to"] += task.get("status") == "open" and not done
    total = sum(a["n"] for a in acc.values())
    return {
        (c,): {
            "is_documented_classification": c in CLASSIFICATIONS,
            "classifications": a["n"],
            "calls": len(a["calls"]),
            "share_of_calls": _rate(len(a["calls"]), len(recs)),
            "share_of_classifications": _rate(a["n"], total),
            "action_required": a["ar"],
            "action_required_rate": _rate(a["ar"], a["n"]),
            "reply_required": a["rr"],
            "reply_required_rate": _rate(a["rr"], a["n"]),
            "mean_agent_confidence": statistics.mean(a["conf"]) if a["conf"] else None,
            "tasks": a["t"],
            "tasks_open": a["to"],
            "tasks_completed": a["tc"],
        }
        for c, a in acc.items()
    }


def expected_kpis(recs: list[dict]) -> dict[tuple, dict]:
    weeks: dict[date, list[dict]] = defaultdict(list)
    for rec in recs:
        weeks[_week(_call_time(rec))].append(rec)
    out = {}
    for week, calls in weeks.items():
        connected = sum(map(_connected, calls))
        vm = sum(map(_voicemail, calls))
        rpc = [r for r in calls if _rpc(r)]
        ptp = sum("payment_promise" in _labels(r) for r in rpc)
        dispute = sum(
            "complaint" in _labels(r) or any(i.get("in_dispute") is True for i in r["invoices"])
            for r in calls
        )
        latest: dict[str, tuple] = {}
        for rec in calls:
            for idx, inv in enumerate(rec["invoices"]):
                if inv.get("id") is None:
                    continue
                rank = (_call_time(rec), rec["id"], idx)
                if inv["id"] not in latest or rank > latest[inv["id"]][0]:
                    latest[inv["id"]] = (rank, inv)
        amounts: dict[str, list[Decimal]] = defaultdict(list)
        for _, inv in latest.values():
            bucket = amounts[inv.get("currency") or "XXX"]
            if inv.get("amount_due") is not None:
                bucket.append(exact(inv["amount_due"]))
        iso = week.isocalendar()
        out[(week,)] = {
            "iso_week": f"{iso.year}-W{iso.week:02d}",
            "calls": len(calls),
            "connected_calls": connected,
            "calls_unknown_disconnection": sum(
                r.get("disconnection_reason") is None for r in calls
            ),
            "connect_rate": connected / len(calls),
            "voicemail_calls": vm,
            "voicemail_rate": vm / len(calls),
            "right_party_contacts": len(rpc),
            "right_party_contact_rate": len(rpc) / len(calls),
            "promise_to_pay_calls": ptp,
            "promise_to_pay_rate": _rate(ptp, len(rpc)),
            "dispute_complaint_calls": dispute,
            "dispute_complaint_share": dispute / len(calls),
            "invoices_discussed": len(latest),
            "amount_due_by_currency": {
                c: (sum(v, Decimal(0)) if v else None) for c, v in amounts.items()
            },
        }
    return out


EXPECTED = {
    "sentiment_rollup": expected_sentiment,
    "classification_rollup": expected_classification,
    "workflow_kpis": expected_kpis,
}


def same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if actual is None or expected is None:
            return actual is expected
        return math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(expected, dict):
        actual = dict(actual)
        return actual.keys() == expected.keys() and all(
            same(actual[k], expected[k]) for k in expected
        )
    return actual == expected and type(actual) is type(expected)


def keyed(rollup: str, rows: list[dict]) -> dict[tuple, dict]:
    key = PRIMARY_KEYS[rollup]
    out = {}
    for row in rows:
        row = dict(row)
        if isinstance(row.get("amount_due_by_currency"), list):  # a Parquet map read by Arrow
            row["amount_due_by_currency"] = dict(row["amount_due_by_currency"])
        k = tuple(row.pop(c) for c in key)
        assert k not in out, f"duplicate key {k}"
        out[k] = row
    return out


def compare(rollup: str, actual: dict[tuple, dict], expected: dict[tuple, dict]) -> None:
    assert actual.keys() == expected.keys()
    for key, figures in expected.items():
        for column, value in figures.items():
            got = actual[key][column]
            assert same(got, value), f"{rollup} {key} {column}: got {got!r}, expected {value!r}"


# What the tests need of the helpers above
call_time = _call_time
utc_day = _day
week_start = _week
labels = _labels
