"""docs/data-dictionary.md: what the generator makes now, with every column of every contract."""

from __future__ import annotations

from pathlib import Path

from stuut_pipeline.flatten.contract import TABLES
from stuut_pipeline.model import DATA_DICTIONARY_PATH
from stuut_pipeline.model.dictionary import example_cell, join_keys
from stuut_pipeline.warehouse.contract import ROLLUPS
from stuut_pipeline.warehouse.dictionary import data_dictionary

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_checked_in_file_is_what_the_generator_makes() -> None:
    checked_in = (REPO_ROOT / DATA_DICTIONARY_PATH).read_text(encoding="utf-8")
    assert checked_in == data_dictionary(), (
        "docs/data-dictionary.md is stale: run `make docs` (stuut-pipeline docs data-dictionary)"
    )


def test_every_column_is_documented_with_its_types() -> None:
    text = (REPO_ROOT / DATA_DICTIONARY_PATH).read_text(encoding="utf-8")
    assert "stuut-pipeline docs data-dictionary" in text.splitlines()[2]
    for contract in [*TABLES.values(), *(r.contract for r in ROLLUPS.values())]:
        section = text.split(f"### `{contract.name}`\n", 1)[1].split("\n### ", 1)[0]
        for name in contract.column_names:
            assert f"\n| `{name}` | " in section, (contract.name, name)
    assert "| `amount_due` | `decimal128(24, 6)` | `DECIMAL(24,6)` | yes |" in text
    assert "`MAP(VARCHAR, DECIMAL(38,6))`" in text


def test_join_keys_follow_the_primary_keys() -> None:
    assert set(join_keys(list(TABLES.values()))) == {
        ("call_classifications", "calls", ("call_id",)),
        ("call_tasks", "calls", ("call_id",)),
        ("call_tasks", "call_classifications", ("call_id", "classification_index")),
        ("call_invoices", "calls", ("call_id",)),
    }


def test_example_cells_are_short_and_escaped() -> None:
    assert example_cell(None) == "–"
    assert example_cell("a|b") == "`a\\|b`"
    assert len(example_cell("x" * 500)) <= 62
