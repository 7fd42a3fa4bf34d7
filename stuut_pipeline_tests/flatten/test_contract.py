"""The table contract against the API reference page (docs/stuut-api/list-calls.txt)."""

from __future__ import annotations

import ast
import json
from typing import Any

import pyarrow as pa
import pytest

from stuut_pipeline.flatten.contract import (
    TABLES,
    checked_objects,
    contract_markdown,
)
from stuut_pipeline.layout import PARTITION_COLUMN

from ..api_page import PAGE, query_parameter_options
from ..api_page import REPO_ROOT as REPO
from .expected_sources import SOURCES


def page_example_call() -> dict[str, Any]:
    """The call record of the page's JSON example (the contract of every field)."""
    text = PAGE.read_text()
    body, _ = json.JSONDecoder().raw_decode(text[text.index('{\n  "data"') :])
    return body["data"][0]


def leaf_paths(value: Any, path: str = "") -> set[str]:
    """Every leaf path of a JSON value, `[]` stepping into lists (empty containers are leaves)."""
    if isinstance(value, dict) and value:
        out: set[str] = set()
        for key, sub in value.items():
            out |= leaf_paths(sub, f"{path}.{key}" if path else key)
        return out
    if isinstance(value, list) and value:
        out = set()
        for item in value:
            out |= leaf_paths(item, f"{path}[]")
        return out
    return {path}


def covering_columns(path: str) -> list[str]:
    """Columns holding the value at `path`: its own column, or a JSON column of an ancestor."""
    found = []
    for table in TABLES.values():
        for col in table.columns:
            src = SOURCES[table.name][col.name]
            if src is None:
                continue
            own = col.kind == "value" and path in (src, src + "[]")
            inside = col.kind in ("json", "text") and (
                path == src or path.startswith(src + ".") or path.startswith(src + "[]")
            )
            if own or inside:
                found.append(f"{table.name}.{col.name}")
    return found


def test_every_documented_field_lands_in_a_column() -> None:
    paths = leaf_paths(page_example_call())
    assert len(paths) > 900  # the page documents ~1,000 leaves per call
    lost = sorted(p for p in paths if not covering_columns(p))
    assert lost == []


def test_every_column_source_is_documented() -> None:
    call = page_example_call()
    partner_extra = set(call["invoices"][0]["partner"]) - set(call["partner"])
    paths = leaf_paths(call)
    prefixes = {p.split(".")[0] for p in paths} | {
        ".".join(p.split(".")[: i + 1]) for p in paths for i in range(p.count(".") + 1)
    }
    for table, sources in SOURCES.items():
        for name, source in sources.items():
            if source is None:
                continue
            documented = source in prefixes or source + "[]" in prefixes
            if not documented:  # a Partner field the page documents only on invoices
                assert source.startswith("partner."), (table, name, source)
                assert source.split(".")[1] in partner_extra, (table, name, source)


def test_every_column_reads_its_documented_source() -> None:
    for name, table in TABLES.items():
        assert [c.name for c in table.columns] == list(SOURCES[name]), name
        assert {c.name: c.source for c in table.columns} == SOURCES[name], name


def test_row_sources_are_the_pages_lists() -> None:
    call = page_example_call()
    assert isinstance(call["classifications"], list) and call["classifications"]
    assert isinstance(call["classifications"][0]["tasks"], list)
    assert isinstance(call["invoices"], list) and call["invoices"]
    assert {n: t.row_source for n, t in TABLES.items()} == {
        "calls": "",
        "call_classifications": "classifications[]",
        "call_tasks": "classifications[].tasks[]",
        "call_invoices": "invoices[]",
    }


def _object_at(call: dict, path: str) -> dict:
    value: Any = call
    for step in path.split("."):
        value = value[step.removesuffix("[]")]
        if step.endswith("[]"):
            value = value[0]
    return value


def test_checked_objects_declare_exactly_the_documented_keys() -> None:
    call = page_example_call()
    objects = checked_objects()
    assert set(objects) == {
        "",
        "approver",
        "workflow",
        "partner",
        "classifications[]",
        "classifications[].tasks[]",
        "invoices[]",
    }
    for path, keys in objects.items():
        documented = set(call) if not path else set(_object_at(call, path))
        if path == "partner":  # the Partner object as the page documents it on invoices
            documented |= set(call["invoices"][0]["partner"])
        assert set(keys) == documented, path


def test_no_table_has_the_partition_key_as_a_column() -> None:
    for table in TABLES.values():
        assert PARTITION_COLUMN not in table.arrow_schema().names
        assert not any(c.source == "workflow.id" for c in table.columns)
        assert "workflow.id" not in SOURCES[table.name].values()


def test_tables_keys_and_order() -> None:
    assert list(TABLES) == ["calls", "call_classifications", "call_tasks", "call_invoices"]
    assert TABLES["calls"].primary_key == ("call_id",)
    assert TABLES["call_classifications"].primary_key == ("call_id", "classification_index")
    assert TABLES["call_tasks"].primary_key == ("task_id",)
    assert TABLES["call_invoices"].primary_key == ("call_id", "invoice_index")
    assert TABLES["calls"].parent_key is None
    for name in ("call_classifications", "call_tasks", "call_invoices"):
        assert TABLES[name].parent_key == "call_id"
        assert not TABLES[name].arrow_schema().field("call_id").nullable


def test_arrow_schema_types_nullability_and_descriptions() -> None:
    calls = TABLES["calls"].arrow_schema()
    invoices = TABLES["call_invoices"].arrow_schema()
    assert not calls.field("call_id").nullable
    for name in ("created_at", "modified_at", "start_time", "end_time"):
        assert calls.field(name).type == pa.timestamp("us", tz="UTC")
    assert calls.field("duration_seconds").type == pa.float64()
    assert calls.field("custom_classifications").type == pa.list_(pa.string())
    for name in ("classification_count", "invoice_count", "task_count"):
        assert calls.field(name).type == pa.int32()
    assert invoices.field("promised_to_pay_date").type == pa.date32()
    money = ("amount_due", "total_amount", "amount_paid", "subtotal", "total_tax", "total_discount")
    for name in money:
        assert invoices.field(name).type == pa.decimal128(24, 6)
    for table in TABLES.values():
        schema = table.arrow_schema()
        assert schema.names == table.column_names
        assert list(table.column_descriptions()) == table.column_names
        for f in schema:
            assert f.metadata[b"description"].decode() == table.column(f.name).description
        assert "extra_fields" in schema.names


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("calls", ("transcript_json", "approver_json", "workflow_json", "partner_json")),
        (
            "call_tasks",
            ("assignee_json", "completed_action_json", "data_json", "trigger_event_json"),
        ),
        (
            "call_invoices",
            (
                "assignee_json",
                "billing_address_json",
                "shipping_address_json",
                "emails_json",
                "line_items_json",
                "linked_integration_json",
                "partner_json",
                "payments_json",
                "custom_fields_json",
                "remote_metadata_json",
                "pdf_json",
                "calls_json",
            ),
        ),
    ],
)
def test_deep_objects_are_json_text_columns(table: str, columns: tuple[str, ...]) -> None:
    for name in columns:
        col = TABLES[table].column(name)
        assert col.kind == "json" and col.type == pa.string()


@pytest.mark.parametrize(
    ("table", "column", "parameter"),
    [
        ("calls", "sentiment", "sentiment"),
        ("calls", "direction", "direction"),
        ("call_classifications", "classification", "classification"),
    ],
)
def test_documented_enums(table: str, column: str, parameter: str) -> None:
    """Each enum column allows exactly the options the reference page lists, in its order."""
    documented = query_parameter_options(parameter)
    assert TABLES[table].column(column).allowed == documented


def test_the_reference_page_lists_these_options() -> None:
    """The page, as parsed, says what a reader of it sees (so the parser cannot read nothing)."""
    assert query_parameter_options("sentiment") == ("positive", "negative", "neutral", "unknown")
    assert query_parameter_options("direction") == ("inbound", "outbound")
    classifications = query_parameter_options("classification")
    assert len(classifications) == 15
    assert classifications[0] == "payment_inquiry" and classifications[-1] == "other"
    assert {"payment_promise", "complaint", "wrong_contact", "not_available"} <= set(
        classifications
    )


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("calls", "status"),
        ("calls", "disconnection_reason"),
        ("call_tasks", "type"),
        ("call_tasks", "status"),
        ("call_tasks", "action_taken"),
        ("call_invoices", "currency"),
        ("call_invoices", "type"),
        ("call_invoices", "sync_status"),
    ],
)
def test_open_strings(table: str, column: str) -> None:
    assert TABLES[table].column(column).allowed is None


def test_markdown_lists_every_column() -> None:
    text = contract_markdown()
    for table in TABLES.values():
        assert f"### `{table.name}`" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text
    assert "`payment_promise`" in text


def test_flatten_package_does_not_import_dagster() -> None:
    package = REPO / "stuut_pipeline" / "flatten"
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "dagster" for n in names), path.name
