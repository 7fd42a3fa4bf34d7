"""The one declaration of the rollup tables: columns, types, keys and the definition of each KPI.

Every rollup is declared once, as a `TableContract` of the shared model. The contract's columns
are exactly the columns of the exported Parquet mart (`marts/<rollup>/workflow_id=<id>/`), which
carry no `workflow_id` column: the Hive directory holds it. In DuckDB the rollup table is the same
columns with `workflow_id` first (`Rollup.db_columns`). Creating the DuckDB tables, checking the
tables and the mart files, and the Dagster column metadata all read this module.

Each KPI is computed once, in SQL (`sql/call_facts.sql` defines the per-call flags, the rollup
files count and divide them); the column description is its one-line definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from stuut_pipeline.layout import PARTITION_COLUMN
from stuut_pipeline.model import Column, TableContract, duckdb_type
from stuut_pipeline.model.columns import BOOL, DATE, FLOAT64, INT64, MONEY_SUM, STRING

#: Currency -> exact sum of amounts (DuckDB's `sum` of the tables' MONEY columns).
AMOUNT_MAP = pa.map_(STRING, MONEY_SUM)

#: The DuckDB-only first column of every rollup table (the Hive directory in the marts).
WORKFLOW_ID_COLUMN = Column(
    PARTITION_COLUMN,
    STRING,
    "Outreach workflow id (a DuckDB column; in the Parquet marts the Hive directory "
    "`workflow_id=<id>/`).",
    nullable=False,
)


def _col(name: str, type_: pa.DataType, description: str, *, nullable: bool = True) -> Column:
    return Column(name, type_, description, nullable=nullable)


def _count(name: str, description: str) -> Column:
    return _col(name, INT64, description, nullable=False)


_VOICEMAIL = (
    "voicemail = `in_voicemail` is true, or `disconnection_reason` is `voicemail_reached` or "
    "`machine_detected`"
)

SENTIMENT_ROLLUP = TableContract(
    name="sentiment_rollup",
    description=(
        "Calls per workflow, UTC day and direction, by sentiment. Every documented sentiment has "
        "a row in each (day, direction) with calls (zero-filled); an undocumented value (schema "
        "drift) or a missing one keeps its own row, never dropped."
    ),
    primary_key=("day", "direction", "sentiment"),
    columns=(
        _col(
            "day",
            DATE,
            "UTC day of the call: `start_time`, else `created_at` (null if both are null).",
        ),
        _col("direction", STRING, "Call direction as sent (inbound, outbound; null if missing)."),
        _col("sentiment", STRING, "Sentiment as sent (null if missing)."),
        _col(
            "is_documented_sentiment",
            BOOL,
            "The sentiment is one of the four documented values.",
            nullable=False,
        ),
        _count("calls", "Calls of this workflow, day and direction with this sentiment."),
        _col(
            "share_of_calls",
            FLOAT64,
            "calls / all calls of the same workflow, day and direction (sums to 1 per group).",
        ),
        _count("voicemail_calls", f"Calls that reached voicemail ({_VOICEMAIL})."),
        _col(
            "voicemail_rate",
            FLOAT64,
            "voicemail_calls / calls (null when calls = 0).",
        ),
        _col(
            "mean_duration_seconds",
            FLOAT64,
            "Mean of `duration_seconds` (end_time - start_time) over calls that have one.",
        ),
        _col(
            "median_duration_seconds",
            FLOAT64,
            "Median (interpolated) of `duration_seconds` over calls that have one.",
        ),
    ),
)

CLASSIFICATION_ROLLUP = TableContract(
    name="classification_rollup",
    description=(
        "Classifications per workflow and classification value: how often, on how many calls, "
        "how many need action or a reply, the agent's confidence, and their follow-up tasks. "
        "Every documented classification has a row (zero-filled); an undocumented or missing "
        "value keeps its own row."
    ),
    primary_key=("classification",),
    columns=(
        _col("classification", STRING, "Classification value as sent (null if missing)."),
        _col(
            "is_documented_classification",
            BOOL,
            "The value is one of the fifteen documented classifications.",
            nullable=False,
        ),
        _count("classifications", "Rows of call_classifications with this value."),
        _count("calls", "Distinct calls carrying this classification."),
        _col(
            "share_of_calls",
            FLOAT64,
            "calls / all calls of the workflow (a call may carry several classifications, so "
            "these do not sum to 1; null when the workflow has no calls).",
        ),
        _col(
            "share_of_classifications",
            FLOAT64,
            "classifications / all classifications of the workflow (sums to 1; null when none).",
        ),
        _count("action_required", "Classifications with `is_action_required` true."),
        _col(
            "action_required_rate",
            FLOAT64,
            "action_required / classifications (a null flag counts as not required).",
        ),
        _count("reply_required", "Classifications with `is_reply_required` true."),
        _col(
            "reply_required_rate",
            FLOAT64,
            "reply_required / classifications (a null flag counts as not required).",
        ),
        _col(
            "mean_agent_confidence",
            FLOAT64,
            "Mean `agent_confidence_score` over classifications that have one.",
        ),
        _count("tasks", "Follow-up tasks (call_tasks rows) of these classifications."),
        _count(
            "tasks_open",
            "Tasks with status `open` and no `action_taken` = `complete`.",
        ),
        _count(
            "tasks_completed",
            "Tasks with status `completed` or `action_taken` = `complete`.",
        ),
    ),
)

_CONNECTED = (
    "connected = in voicemail, or a known `disconnection_reason` other than the never-connected "
    "ones (dial_*, invalid_destination, user_declined, marked_as_spam, registered_call_timeout, "
    "error_*, ...); a null reason counts as not connected"
)
_RPC = (
    "right-party contact = connected, not in voicemail, and no `wrong_contact` or "
    "`not_available` classification"
)

WORKFLOW_KPIS = TableContract(
    name="workflow_kpis",
    description=(
        "Accounts-receivable KPIs per workflow and ISO week (Monday, UTC, from the call's "
        "`start_time`, else `created_at`). Counts and the rates built from them; each KPI is "
        "defined once in SQL (call_facts view) and in its column description."
    ),
    primary_key=("week_start",),
    columns=(
        _col("week_start", DATE, "Monday (UTC) of the ISO week of the calls."),
        _col("iso_week", STRING, "ISO week label, e.g. 2026-W37."),
        _count("calls", "Calls of the workflow that week."),
        _count("connected_calls", f"Calls that connected ({_CONNECTED})."),
        _count(
            "calls_unknown_disconnection",
            "Calls with a null `disconnection_reason` (counted as not connected unless voicemail).",
        ),
        _col("connect_rate", FLOAT64, "connected_calls / calls."),
        _count("voicemail_calls", f"Calls that reached voicemail ({_VOICEMAIL})."),
        _col("voicemail_rate", FLOAT64, "voicemail_calls / calls."),
        _count("right_party_contacts", f"Right-party contacts ({_RPC})."),
        _col("right_party_contact_rate", FLOAT64, "right_party_contacts / calls."),
        _count(
            "promise_to_pay_calls",
            "Right-party contacts with a `payment_promise` classification.",
        ),
        _col(
            "promise_to_pay_rate",
            FLOAT64,
            "promise_to_pay_calls / right_party_contacts (null when there is no right-party "
            "contact).",
        ),
        _count(
            "dispute_complaint_calls",
            "Calls with a `complaint` classification or an invoice with `in_dispute` true.",
        ),
        _col("dispute_complaint_share", FLOAT64, "dispute_complaint_calls / calls."),
        _count(
            "invoices_discussed",
            "Distinct invoice ids attached to the week's calls (invoices without an id are left "
            "out).",
        ),
        _col(
            "amount_due_by_currency",
            AMOUNT_MAP,
            "Currency (ISO 4217; XXX when missing) -> sum of `amount_due` over the distinct "
            "invoices discussed that week, each once, as of its latest call in the week. Amounts "
            "in different currencies are never added together.",
            nullable=False,
        ),
    ),
)


@dataclass(frozen=True)
class Rollup:
    """One rollup: its contract (the mart file's columns) and the SQL file that builds it."""

    contract: TableContract
    #: File in `sql/` with the SELECT that builds one workflow's rows (parameter `$workflow_id`).
    sql_file: str

    @property
    def name(self) -> str:
        """Table name in DuckDB, mart directory name and Dagster asset name."""
        return self.contract.name

    @property
    def db_columns(self) -> tuple[Column, ...]:
        """Columns of the DuckDB table: `workflow_id`, then the contract's columns."""
        return (WORKFLOW_ID_COLUMN, *self.contract.columns)

    @property
    def db_primary_key(self) -> tuple[str, ...]:
        """Key of a row in DuckDB (null-safe: key columns may be null)."""
        return (PARTITION_COLUMN, *self.contract.primary_key)

    def export_schema(self) -> pa.Schema:
        """The exact column names and types of the mart Parquet files (no `workflow_id`)."""
        return self.contract.arrow_schema()


SENTIMENT = Rollup(SENTIMENT_ROLLUP, "sentiment_rollup.sql")
CLASSIFICATION = Rollup(CLASSIFICATION_ROLLUP, "classification_rollup.sql")
KPIS = Rollup(WORKFLOW_KPIS, "workflow_kpis.sql")

#: Every rollup, by name.
ROLLUPS: dict[str, Rollup] = {r.name: r for r in (SENTIMENT, CLASSIFICATION, KPIS)}


def get_rollup(rollup: str | Rollup) -> Rollup:
    """The rollup called `rollup` (or `rollup` itself); KeyError naming the known ones."""
    if isinstance(rollup, Rollup):
        return rollup
    try:
        return ROLLUPS[rollup]
    except KeyError:
        raise KeyError(f"unknown rollup {rollup!r}; known: {', '.join(ROLLUPS)}") from None


def _check_rollups() -> None:
    """Fail at import on an inconsistent declaration (a developer error)."""
    for rollup in ROLLUPS.values():
        names = rollup.contract.column_names
        if len(set(names)) != len(names):
            raise AssertionError(f"{rollup.name}: duplicate column names")
        if PARTITION_COLUMN in names:
            raise AssertionError(f"{rollup.name}: `{PARTITION_COLUMN}` is the Hive directory")
        if set(rollup.contract.primary_key) - set(names):
            raise AssertionError(f"{rollup.name}: primary key columns missing")
        for column in rollup.db_columns:
            duckdb_type(column.type)


_check_rollups()
