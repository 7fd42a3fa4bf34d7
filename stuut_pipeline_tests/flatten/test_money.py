"""Money is exact: amounts are decimals whose sums equal an independent `Decimal` computation over
the raw JSON (parsed by the standard library, not our decoder); misfits are drift, never rounded."""

from __future__ import annotations

import copy
import json
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stuut_pipeline.flatten.checks import NO_DRIFT, table_outcomes
from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.flatten.flatten import flatten_raw
from stuut_pipeline.flatten.parquet_io import PartitionWriter
from stuut_pipeline.flatten.validate import validate_partition
from stuut_pipeline.simulator.generator import STRING_AMOUNT_FIELDS
from stuut_pipeline.simulator.generator.values import money, money_str
from stuut_pipeline.simulator.store import CallFilter

from .. import factories

MONEY = ("amount_due", "total_amount", "amount_paid", "subtotal", "total_tax", "total_discount")
PLACEHOLDER = "__amount__"


def exact(value: object) -> Decimal | None:
    """An amount parsed by `json.loads(parse_float=Decimal)`: Decimal, int or numeric string."""
    return None if value is None else Decimal(value)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def served() -> dict[str, list[bytes]]:
    """The JSON bodies the simulator serves, per workflow (a third of invoices as strings)."""
    sim = factories.simulator(calls=360, workflows=3, seed=23, string_amount_share=0.35)
    return {
        wf: [c.body for c in sim.store.select(CallFilter(workflow=wf))]
        for wf in sim.store.workflow_ids()
    }


def test_money_columns_are_one_decimal_type() -> None:
    schema = TABLES["call_invoices"].arrow_schema()
    assert {schema.field(name).type for name in MONEY} == {pa.decimal128(24, 6)}
    assert set(STRING_AMOUNT_FIELDS) == set(MONEY)


def test_sums_per_workflow_and_currency_equal_the_raw_json(
    served: dict[str, list[bytes]], tmp_path: Path
) -> None:
    expected: dict[tuple, list[Decimal | None]] = defaultdict(lambda: [None] * len(MONEY))
    strings = numbers = 0
    for wf, bodies in served.items():
        for body in bodies:
            for inv in json.loads(body, parse_float=Decimal)["invoices"] or []:
                sums = expected[(wf, inv.get("currency"))]
                for k, name in enumerate(MONEY):
                    value = exact(inv.get(name))
                    if value is not None:
                        sums[k] = value if sums[k] is None else sums[k] + value
                strings += isinstance(inv["amount_due"], str)
                numbers += not isinstance(inv["amount_due"], str)
        batch = flatten_raw(bodies)
        assert not batch.drift.invalid_values
        out = tmp_path / f"workflow_id={wf}" / "part-0.parquet"
        out.parent.mkdir(parents=True)
        pq.write_table(batch["call_invoices"], out)
    assert strings > 20 and numbers > 20
    sums = ", ".join(f"sum({name})" for name in MONEY)
    rows = (
        duckdb.connect()
        .sql(
            f"SELECT workflow_id, currency, {sums} "
            f"FROM read_parquet('{tmp_path}/*/*.parquet', hive_partitioning = true) "
            "GROUP BY ALL"
        )
        .fetchall()
    )
    got = {(wf, currency): list(figures) for wf, currency, *figures in rows}
    assert got == dict(expected)
    assert all(isinstance(v, Decimal) for figures in got.values() for v in figures if v)


def _invoice_call() -> dict:
    gen = factories.generator(seed=4, max_invoices=3)
    return copy.deepcopy(next(c for c in (gen.call(i) for i in range(100)) if c["invoices"]))


def test_four_decimal_amounts_as_numbers_and_strings_are_exact() -> None:
    rng = random.Random(7)
    call = _invoice_call()
    calls = []
    for i in range(60):
        c = copy.deepcopy(call)
        c["id"] = f"call_{i}"
        for inv in c["invoices"]:
            for name in MONEY:
                units = rng.randint(-(10**12), 10**12)
                inv[name] = money_str(units, 4) if rng.random() < 0.5 else money(units, 4)
        calls.append(c)
    raws = [orjson.dumps(c) for c in calls]
    table = flatten_raw(raws)["call_invoices"]
    records = [json.loads(raw, parse_float=Decimal) for raw in raws]
    for name in MONEY:
        want = [exact(inv[name]) for r in records for inv in r["invoices"]]
        assert table.column(name).to_pylist() == want, name
        assert pa.compute.sum(table.column(name)).as_py() == sum(want, Decimal(0))


def _with_amounts(raw_amounts: list[str]) -> bytes:
    """One call whose invoices' `amount_due` are the given JSON texts, as written."""
    call = _invoice_call()
    template = call["invoices"][0]
    call["invoices"] = [dict(template, id=f"inv_{i}") for i in range(len(raw_amounts))]
    for inv in call["invoices"]:
        inv["amount_due"] = PLACEHOLDER
    body = orjson.dumps(call)
    for text in raw_amounts:
        body = body.replace(f'"{PLACEHOLDER}"'.encode(), text.encode(), 1)
    return body


FITS = {
    "1234.5678": Decimal("1234.5678"),
    '"1234.5678"': Decimal("1234.5678"),
    '"1.50000000"': Decimal("1.5"),  # exact: trailing zeros only
    "-0.000001": Decimal("-0.000001"),
    '"999999999999999999.999999"': Decimal("999999999999999999.999999"),
    "1e17": Decimal("1E17"),
    "0": Decimal(0),
    "null": None,
}
MISFITS = [
    "1.1234567",  # too many decimals
    '"0.0000001"',
    "1e18",  # too large
    '"-1000000000000000000"',
    "1e400",
    '"NaN"',
    '"Infinity"',
    '"abc"',
    '"12,50"',
    '"1_000"',
    '" 12.5"',
    '""',
    "true",
    '{"value": 1}',
    "[1]",
]


def test_amounts_that_fit_are_exact_and_no_drift() -> None:
    batch = flatten_raw([_with_amounts(list(FITS))])
    assert batch["call_invoices"].column("amount_due").to_pylist() == list(FITS.values())
    assert batch.drift.is_empty
    assert batch["call_invoices"].column("extra_fields").null_count == len(FITS)


@pytest.mark.parametrize("text", MISFITS)
def test_a_misfit_becomes_null_and_is_kept_as_received(text: str) -> None:
    batch = flatten_raw([_with_amounts(["12.5", text])])
    invoices = batch["call_invoices"].to_pydict()
    assert invoices["amount_due"] == [Decimal("12.5"), None]
    assert invoices["extra_fields"][0] is None
    assert invoices["extra_fields"][1] == '{"amount_due":' + text + "}"  # the bytes as sent
    assert batch.drift.invalid_values == {"invoices[].amount_due": 1}


def test_misfits_fail_no_drift_and_nothing_else(tmp_path: Path) -> None:
    batch = flatten_raw([_with_amounts(MISFITS)])
    writer = PartitionWriter(tmp_path, "otwfl_money")
    writer.write(batch)
    report = validate_partition(tmp_path, writer.seal())
    assert report.passed, [c.message for c in report.blocking_failures]
    outcomes = {o.spec: o for o in table_outcomes(TABLES["call_invoices"], report)}
    assert not outcomes[NO_DRIFT].passed
    assert outcomes[NO_DRIFT].metadata["extra_fields/rows_with_extra_fields"] == len(MISFITS)
    assert batch.drift.invalid_values == {"invoices[].amount_due": len(MISFITS)}
