"""The one declaration of the flattened call tables: columns, types, keys, sources, enums.

Writing (`flatten`), decoding (`decode` builds its msgspec structs from the column sources),
checking (`validate`) and documentation (`contract_markdown`) all read this module.

A column's `source` is its path in a call record as the API sends it, from the call's root:
`direction`, `approver.email`, `classifications[].tasks[].assignee.email`; `[]` steps into a list.
Kinds:
- `value`: a scalar (or list of scalars) cast to the column's Arrow type;
- `json`: the JSON text of the value as received (JSON `null` becomes a null cell);
- `text`: a value the API types as unknown: the string itself when it is a string, else JSON text;
- `derived`: computed by the flattener (keys, indexes, counts, durations, `extra_fields`).

Objects whose keys the decoder checks (so that an unknown key is reported as drift) are the call
itself, each table's row object (classification, task, invoice), and the objects whose JSON column
declares `object_keys` (approver, workflow, partner). Every key of those objects must be the source
of a column, or be listed in `object_keys` of the object's JSON column: nothing is dropped.
Parquet files carry no `workflow_id` column: it comes from the Hive directory `workflow_id=<id>/`.
"""

from __future__ import annotations

import pyarrow as pa

from stuut_pipeline.layout import PARTITION_COLUMN
from stuut_pipeline.model.columns import (
    BOOL,
    DATE,
    FLOAT64,
    INT32,
    INT64,
    INT64_LIST,
    MONEY,
    STRING,
    STRING_LIST,
    TIMESTAMP,
    Column,
    TableContract,
)
from stuut_pipeline.model.markdown import table_markdown
from stuut_pipeline.stuut_api.enums import CLASSIFICATIONS, DIRECTIONS, SENTIMENTS

#: Column of every child table that references `calls.call_id`.
PARENT_KEY = "call_id"

# Enums shown on the reference page only through their example value, without the list of options
# (invoice and partner `sync_status`, `last_outreach_channel`, invoice `type`,
# `remote_payment_status`, workflow `pending_run_strategy`): typed as open strings, so that values
# no one has documented are kept and never reported as errors. See NOTES.md for the closed ones.


def _v(
    name: str,
    type_: pa.DataType,
    source: str,
    description: str,
    *,
    allowed: tuple[str, ...] | None = None,
    nullable: bool = True,
) -> Column:
    return Column(name, type_, description, source, "value", nullable, allowed)


def _json(name: str, source: str, description: str, keys: tuple[str, ...] | None = None) -> Column:
    return Column(name, STRING, description, source, "json", True, None, keys)


def _text(name: str, source: str, description: str) -> Column:
    return Column(name, STRING, description, source, "text")


def _derived(name: str, type_: pa.DataType, description: str, *, nullable: bool = True) -> Column:
    return Column(name, type_, description, None, "derived", nullable)


def _extra_fields(row: str) -> Column:
    return _derived(
        "extra_fields",
        STRING,
        f"JSON object of what no typed column of this {row} holds: keys the contract does not "
        "know (schema drift) and values whose type did not fit their column, by path relative "
        "to the row's object, with their JSON as received. Null when there is none.",
    )


_PARENT = _derived(PARENT_KEY, STRING, "Id of the call (`calls.call_id`).", nullable=False)

USER_KEYS = (
    "email",
    "family_name",
    "given_name",
    "object",
    "organization_id",
    "id",
    "created_at",
    "dashboard_settings",
    "default_email_sender_id",
    "invited_by_user_id",
    "is_access_approved",
    "is_org_admin",
    "modified_at",
    "name",
    "onboarding_required",
    "profile_picture",
    "selected",
)
WORKFLOW_KEYS = (
    "id",
    "active_days",
    "created_at",
    "email_sender_id",
    "is_active",
    "is_call_on_weekend_enabled",
    "modified_at",
    "name",
    "object",
    "outreach_window_end",
    "outreach_window_start",
    "pending_run_strategy",
    "test_email",
    "test_phone_number",
    "timezone",
)
# The page documents the call's partner with the keys below, and the invoice's partner (the same
# Partner object) with two more: `is_call_outreach_manually_paused`, `is_email_outreach_...`.
PARTNER_KEYS = (
    "id",
    "account_number",
    "ap_portals",
    "assignee",
    "assignee_id",
    "billing_address",
    "billing_address_id",
    "contacts",
    "created_at",
    "currency",
    "custom_fields",
    "description",
    "email",
    "family_name",
    "finix_identity_id",
    "given_name",
    "invoice_prefix",
    "is_active",
    "is_call_outreach_manually_paused",
    "is_company",
    "is_email_disabled",
    "is_email_outreach_manually_paused",
    "is_phone_disabled",
    "is_primary_email",
    "is_primary_phone",
    "last_outreach_at",
    "last_outreach_channel",
    "last_outreach_to",
    "last_synced_at",
    "legal_name",
    "linked_integration",
    "modified_at",
    "name",
    "object",
    "on_behalf_of",
    "on_behalf_of_phone",
    "organization_id",
    "parent_id",
    "phone",
    "remote_created_at",
    "remote_id",
    "remote_metadata",
    "remote_modified_at",
    "remote_parent_id",
    "remote_payment_portal_url",
    "shipping_address",
    "status_metadata",
    "sync_status",
    "tags",
    "tax_number",
    "timezone",
)

CALLS = TableContract(
    name="calls",
    description=(
        "One row per call of `GET /v1/calls`: its scalar fields, the approver, outreach workflow "
        "and partner flattened to prefixed columns, counts of its children, and the deep or "
        "unknown-typed values as JSON text. The workflow id is the Hive partition "
        "`workflow_id=<id>/`, not a column."
    ),
    row_source="",
    primary_key=("call_id",),
    columns=(
        _v("call_id", STRING, "id", "Call id.", nullable=False),
        _v("object", STRING, "object", "Object type name sent by the API."),
        _v("direction", STRING, "direction", "Call direction.", allowed=DIRECTIONS),
        _v("status", STRING, "status", "Call status (open string; `pending_approval` is shown)."),
        _v("sentiment", STRING, "sentiment", "Sentiment of the call.", allowed=SENTIMENTS),
        _v("created_at", TIMESTAMP, "created_at", "When the call record was created (UTC)."),
        _v("modified_at", TIMESTAMP, "modified_at", "When the call record last changed (UTC)."),
        _v("start_time", TIMESTAMP, "start_time", "Call start (UTC)."),
        _v("end_time", TIMESTAMP, "end_time", "Call end (UTC)."),
        _derived(
            "duration_seconds",
            FLOAT64,
            "end_time - start_time in seconds (null if either is null).",
        ),
        _v("from_number", STRING, "from_number", "Calling number."),
        _v("to_number", STRING, "to_number", "Called number."),
        _v("agent_id", STRING, "agent_id", "Id of the AI agent."),
        _v("call_agent_id", STRING, "call_agent_id", "Id of the call agent."),
        _v("retell_id", STRING, "retell_id", "Id of the call on the Retell platform."),
        _v("approver_id", STRING, "approver_id", "Id of the user who approves the call."),
        _v("partner_id", STRING, "partner_id", "Id of the partner (customer) called."),
        _v("call_reason", STRING, "call_reason", "Why the call was made."),
        _v("summary", STRING, "summary", "Summary of the call."),
        _v(
            "disconnection_reason",
            STRING,
            "disconnection_reason",
            "How the call ended (open string, Retell reasons: user_hangup, voicemail_reached, "
            "dial_no_answer, ...).",
        ),
        _v("in_voicemail", BOOL, "in_voicemail", "The call reached voicemail."),
        _v("is_automated", BOOL, "is_automated", "The call was placed by automation."),
        _v("transferred_to", STRING, "transferred_to", "Number the call was transferred to."),
        _v("transcript_str", STRING, "transcript_str", "Plain-text transcript."),
        _v(
            "custom_classifications",
            STRING_LIST,
            "custom_classifications",
            "Custom classification labels of the call.",
        ),
        _derived(
            "classification_count",
            INT32,
            "Number of classifications (rows in call_classifications).",
            nullable=False,
        ),
        _derived(
            "task_count",
            INT32,
            "Number of tasks over all classifications (rows in call_tasks).",
            nullable=False,
        ),
        _derived(
            "invoice_count", INT32, "Number of invoices (rows in call_invoices).", nullable=False
        ),
        _v("approver_email", STRING, "approver.email", "Approver's email."),
        _v("approver_name", STRING, "approver.name", "Approver's display name."),
        _v("approver_given_name", STRING, "approver.given_name", "Approver's given name."),
        _v("approver_family_name", STRING, "approver.family_name", "Approver's family name."),
        _v("workflow_name", STRING, "workflow.name", "Outreach workflow name."),
        _v("workflow_is_active", BOOL, "workflow.is_active", "The workflow is active."),
        _v("workflow_timezone", STRING, "workflow.timezone", "Workflow timezone (IANA name)."),
        _v(
            "workflow_active_days",
            INT64_LIST,
            "workflow.active_days",
            "Days of the week the workflow runs on.",
        ),
        _v(
            "workflow_is_call_on_weekend_enabled",
            BOOL,
            "workflow.is_call_on_weekend_enabled",
            "The workflow may call on weekends.",
        ),
        _v(
            "workflow_outreach_window_start",
            STRING,
            "workflow.outreach_window_start",
            "Start of the daily outreach window (local time of the workflow).",
        ),
        _v(
            "workflow_outreach_window_end",
            STRING,
            "workflow.outreach_window_end",
            "End of the daily outreach window (local time of the workflow).",
        ),
        _v(
            "workflow_pending_run_strategy",
            STRING,
            "workflow.pending_run_strategy",
            "Pending run strategy (enum whose options the page does not list; e.g. send_all).",
        ),
        _v("workflow_created_at", TIMESTAMP, "workflow.created_at", "Workflow creation (UTC)."),
        _v("workflow_modified_at", TIMESTAMP, "workflow.modified_at", "Workflow last change."),
        _v("partner_name", STRING, "partner.name", "Partner name."),
        _v("partner_legal_name", STRING, "partner.legal_name", "Partner legal name."),
        _v("partner_account_number", STRING, "partner.account_number", "Partner account number."),
        _v("partner_currency", STRING, "partner.currency", "Partner currency (ISO 4217 code)."),
        _v("partner_timezone", STRING, "partner.timezone", "Partner timezone (IANA name)."),
        _v("partner_email", STRING, "partner.email", "Partner email."),
        _v("partner_phone", STRING, "partner.phone", "Partner phone."),
        _v("partner_is_active", BOOL, "partner.is_active", "The partner is active."),
        _v("partner_is_company", BOOL, "partner.is_company", "The partner is a company."),
        _v("partner_parent_id", STRING, "partner.parent_id", "Parent partner id."),
        _v("partner_assignee_id", STRING, "partner.assignee_id", "Id of the partner's assignee."),
        _v("partner_remote_id", STRING, "partner.remote_id", "Partner id in the linked system."),
        _v(
            "partner_last_outreach_at",
            TIMESTAMP,
            "partner.last_outreach_at",
            "Last outreach to the partner (UTC).",
        ),
        _v(
            "partner_last_outreach_channel",
            STRING,
            "partner.last_outreach_channel",
            "Channel of the last outreach (enum whose options the page does not list; e.g. email).",
        ),
        _v(
            "partner_sync_status",
            STRING,
            "partner.sync_status",
            "Sync status with the linked system (enum whose options the page does not list; "
            "e.g. partial).",
        ),
        _v(
            "partner_is_email_disabled",
            BOOL,
            "partner.is_email_disabled",
            "Email outreach to the partner is disabled.",
        ),
        _v(
            "partner_is_phone_disabled",
            BOOL,
            "partner.is_phone_disabled",
            "Phone outreach to the partner is disabled.",
        ),
        _text(
            "recording_url",
            "recording_url",
            "Recording URL (typed unknown by the API: the string when a string, else JSON text).",
        ),
        _json(
            "transcript_json",
            "transcript",
            "Transcript as JSON text (typed unknown: a string, a list of turns "
            "{role, content, words}, or null).",
        ),
        _json("approver_json", "approver", "The whole approver (User) object.", USER_KEYS),
        _json(
            "workflow_json",
            "workflow",
            "The whole outreach workflow object (its `id` is the partition key).",
            WORKFLOW_KEYS,
        ),
        _json(
            "partner_json",
            "partner",
            "The whole partner object (contacts, addresses, AP portals, tags, linked integration).",
            PARTNER_KEYS,
        ),
        _extra_fields("call (with its approver, workflow and partner)"),
    ),
)

_C = "classifications[]."

CALL_CLASSIFICATIONS = TableContract(
    name="call_classifications",
    description=(
        "One row per classification of a call (`call.classifications[]`), with the agent's "
        "confidence; its tasks are in call_tasks."
    ),
    row_source="classifications[]",
    primary_key=("call_id", "classification_index"),
    parent_key=PARENT_KEY,
    columns=(
        _PARENT,
        _derived(
            "classification_index",
            INT32,
            "Position of the classification in the call's list (0-based).",
            nullable=False,
        ),
        _v(
            "classification",
            STRING,
            _C + "classification",
            "What the call was about.",
            allowed=CLASSIFICATIONS,
        ),
        _v(
            "is_action_required",
            BOOL,
            _C + "is_action_required",
            "A follow-up action is required.",
        ),
        _v("is_reply_required", BOOL, _C + "is_reply_required", "A reply is required."),
        _v(
            "agent_confidence_score",
            FLOAT64,
            _C + "agent_confidence_score",
            "Agent's confidence in the classification.",
        ),
        _v(
            "agent_confidence_reason",
            STRING,
            _C + "agent_confidence_reason",
            "Why the agent has that confidence.",
        ),
        _v(
            "agent_uncertainties",
            STRING_LIST,
            _C + "agent_uncertainties",
            "What the agent was unsure about.",
        ),
        _v("agent_error_code", STRING, _C + "agent_error_code", "Agent error code, if any."),
        _v(
            "agent_reply_reason",
            STRING,
            _C + "agent_reply_reason",
            "Why the agent replies (or not).",
        ),
        _v("reason", STRING, _C + "reason", "Reason for the classification."),
        _v(
            "action_recommendation",
            STRING,
            _C + "action_recommendation",
            "Recommended next action.",
        ),
        _v("language", STRING, _C + "language", "Language of the call."),
        _v("object", STRING, _C + "object", "Object type name sent by the API."),
        _v("created_at", TIMESTAMP, _C + "created_at", "Creation time (UTC)."),
        _v("modified_at", TIMESTAMP, _C + "modified_at", "Last change (UTC)."),
        _derived(
            "task_count",
            INT32,
            "Number of tasks of this classification.",
            nullable=False,
        ),
        _extra_fields("classification"),
    ),
)

_T = "classifications[].tasks[]."

CALL_TASKS = TableContract(
    name="call_tasks",
    description="One row per follow-up task (`call.classifications[].tasks[]`).",
    row_source="classifications[].tasks[]",
    primary_key=("task_id",),
    parent_key=PARENT_KEY,
    columns=(
        _v("task_id", STRING, _T + "id", "Task id (primary key)."),
        _PARENT,
        _derived(
            "classification_index",
            INT32,
            "Position of the task's classification in the call (0-based).",
            nullable=False,
        ),
        _derived(
            "task_index",
            INT32,
            "Position of the task in its classification (0-based).",
            nullable=False,
        ),
        _v("type", STRING, _T + "type", "Task type (open string, e.g. activity_summary_outreach)."),
        _v("status", STRING, _T + "status", "Task status (open string, e.g. open)."),
        _v(
            "action_taken",
            STRING,
            _T + "action_taken",
            "Action taken (open string, e.g. complete).",
        ),
        _v("label", STRING, _T + "label", "Task label."),
        _v("description", STRING, _T + "description", "Task description."),
        _v("close_reason", STRING, _T + "close_reason", "Why the task was closed."),
        _v("error_reason", STRING, _T + "error_reason", "Error, if the task failed."),
        _v("assignee_id", STRING, _T + "assignee_id", "Id of the assigned user."),
        _v("assignee_email", STRING, _T + "assignee.email", "Email of the assigned user."),
        _v("trigger_event_id", STRING, _T + "trigger_event_id", "Id of the triggering event."),
        _v(
            "trigger_event_name",
            STRING,
            _T + "trigger_event.name",
            "Name of the triggering event.",
        ),
        _v("organization_id", STRING, _T + "organization_id", "Organization id."),
        _v("object", STRING, _T + "object", "Object type name sent by the API."),
        _v("created_at", TIMESTAMP, _T + "created_at", "Creation time (UTC)."),
        _v("modified_at", TIMESTAMP, _T + "modified_at", "Last change (UTC)."),
        _json("assignee_json", _T + "assignee", "The assigned user (User object)."),
        _json("completed_action_json", _T + "completed_action", "The completed action object."),
        _json("data_json", _T + "data", "The task's data entries (list of objects)."),
        _json("trigger_event_json", _T + "trigger_event", "The triggering event object."),
        _extra_fields("task"),
    ),
)

_I = "invoices[]."
_AMOUNT = (
    'an exact decimal whether the API sends a number or a string ("1234.50"), in the invoice '
    "currency; a value that does not fit the type exactly is null and kept in `extra_fields`."
)

CALL_INVOICES = TableContract(
    name="call_invoices",
    description=(
        "One row per invoice attached to a call (`call.invoices[]`). An invoice attached to "
        "several calls has a row for each. Amounts are exact decimals whatever their JSON type."
    ),
    row_source="invoices[]",
    primary_key=("call_id", "invoice_index"),
    parent_key=PARENT_KEY,
    columns=(
        _PARENT,
        _derived(
            "invoice_index",
            INT32,
            "Position of the invoice in the call's list (0-based).",
            nullable=False,
        ),
        _v("invoice_id", STRING, _I + "id", "Invoice id (inv_...)."),
        _v("number", STRING, _I + "number", "Invoice number."),
        _v(
            "type",
            STRING,
            _I + "type",
            "Invoice type (enum whose options the page does not list; e.g. payable).",
        ),
        _text(
            "status",
            _I + "status",
            "Invoice status (typed unknown by the API: the string when a string, else JSON text).",
        ),
        _v("currency", STRING, _I + "currency", "Currency (ISO 4217 code; open string)."),
        _v("amount_due", MONEY, _I + "amount_due", "Amount due; " + _AMOUNT),
        _v("total_amount", MONEY, _I + "total_amount", "Total amount; " + _AMOUNT),
        _v("amount_paid", MONEY, _I + "amount_paid", "Amount paid; " + _AMOUNT),
        _v("subtotal", MONEY, _I + "subtotal", "Subtotal; " + _AMOUNT),
        _v("total_tax", MONEY, _I + "total_tax", "Total tax; " + _AMOUNT),
        _v("total_discount", MONEY, _I + "total_discount", "Total discount; " + _AMOUNT),
        _v("issued_at", TIMESTAMP, _I + "issued_at", "Issue time (UTC)."),
        _v("due_date", TIMESTAMP, _I + "due_date", "Due date-time (UTC)."),
        _v(
            "promised_to_pay_date",
            DATE,
            _I + "promised_to_pay_date",
            "Date the customer promised to pay.",
        ),
        _v("paid_at", TIMESTAMP, _I + "paid_at", "Payment time (UTC)."),
        _v("voided_at", TIMESTAMP, _I + "voided_at", "Void time (UTC)."),
        _v(
            "marked_uncollectible_at",
            TIMESTAMP,
            _I + "marked_uncollectible_at",
            "When the invoice was marked uncollectible (UTC).",
        ),
        _v("period_start_date", TIMESTAMP, _I + "period_start_date", "Billing period start."),
        _v("period_end_date", TIMESTAMP, _I + "period_end_date", "Billing period end."),
        _v("in_dispute", BOOL, _I + "in_dispute", "The invoice is disputed."),
        _v(
            "is_issued_email_sent",
            BOOL,
            _I + "is_issued_email_sent",
            "The issue email was sent.",
        ),
        _v(
            "requires_line_item_sync",
            BOOL,
            _I + "requires_line_item_sync",
            "Line items need a sync.",
        ),
        _v("last_outreach_at", TIMESTAMP, _I + "last_outreach_at", "Last outreach (UTC)."),
        _v(
            "last_outreach_channel",
            STRING,
            _I + "last_outreach_channel",
            "Channel of the last outreach (enum whose options the page does not list; e.g. email).",
        ),
        _v("last_outreach_to", STRING, _I + "last_outreach_to", "Recipient of the last outreach."),
        _v("last_synced_at", TIMESTAMP, _I + "last_synced_at", "Last sync (UTC)."),
        _v(
            "sync_status",
            STRING,
            _I + "sync_status",
            "Sync status (enum whose options the page does not list; e.g. partial).",
        ),
        _v(
            "remote_payment_status",
            STRING,
            _I + "remote_payment_status",
            "Payment status in the linked system (enum whose options the page does not list; "
            "e.g. processing).",
        ),
        _v("remote_status", STRING, _I + "remote_status", "Status in the linked system."),
        _v("remote_id", STRING, _I + "remote_id", "Id in the linked system."),
        _v(
            "remote_partner_id",
            STRING,
            _I + "remote_partner_id",
            "Partner id in the linked system.",
        ),
        _v(
            "remote_invoice_pdf",
            STRING,
            _I + "remote_invoice_pdf",
            "PDF location in the linked system.",
        ),
        _v(
            "remote_payment_portal_url",
            STRING,
            _I + "remote_payment_portal_url",
            "Payment portal URL.",
        ),
        _v("remote_created_at", TIMESTAMP, _I + "remote_created_at", "Creation in linked system."),
        _v(
            "remote_modified_at",
            TIMESTAMP,
            _I + "remote_modified_at",
            "Last change in the linked system (UTC).",
        ),
        _v("partner_id", STRING, _I + "partner_id", "Id of the invoice's partner."),
        _v("billing_email", STRING, _I + "billing_email", "Billing email."),
        _v("billing_address_id", INT64, _I + "billing_address_id", "Billing address id."),
        _v("shipping_address_id", INT64, _I + "shipping_address_id", "Shipping address id."),
        _v("pdf_id", STRING, _I + "pdf_id", "Id of the invoice PDF."),
        _v("memo", STRING, _I + "memo", "Memo."),
        _v("private_note", STRING, _I + "private_note", "Private note."),
        _v("order_number", STRING, _I + "order_number", "Order number."),
        _v(
            "purchase_order_number",
            STRING,
            _I + "purchase_order_number",
            "Purchase order number.",
        ),
        _v("object", STRING, _I + "object", "Object type name sent by the API."),
        _v("created_at", TIMESTAMP, _I + "created_at", "Creation time (UTC)."),
        _v("modified_at", TIMESTAMP, _I + "modified_at", "Last change (UTC)."),
        _json("assignee_json", _I + "assignee", "The assigned user (User object)."),
        _json("billing_address_json", _I + "billing_address", "Billing address object."),
        _json("shipping_address_json", _I + "shipping_address", "Shipping address object."),
        _json("emails_json", _I + "emails", "Emails about the invoice (list)."),
        _json("line_items_json", _I + "line_items", "Line items (list)."),
        _json("linked_integration_json", _I + "linked_integration", "Linked integration object."),
        _json("partner_json", _I + "partner", "The invoice's partner object."),
        _json("payments_json", _I + "payments", "Payments applied (list)."),
        _json("custom_fields_json", _I + "custom_fields", "Custom fields (typed unknown)."),
        _json("remote_metadata_json", _I + "remote_metadata", "Remote metadata (typed unknown)."),
        _json("pdf_json", _I + "pdf", "PDF object (typed unknown)."),
        _json("calls_json", _I + "calls", "Calls of the invoice (array, as sent)."),
        _extra_fields("invoice"),
    ),
)

#: The output tables, parents first.
TABLES: dict[str, TableContract] = {
    t.name: t for t in (CALLS, CALL_CLASSIFICATIONS, CALL_TASKS, CALL_INVOICES)
}


def join_path(parent: str, key: str) -> str:
    """`parent` + `key` in source-path notation (`""` is the call's root)."""
    return f"{parent}.{key}" if parent else key


def relative_path(path: str, ancestor: str) -> str | None:
    """`path` relative to `ancestor` (`None` unless `path` lies strictly below `ancestor`)."""
    if not ancestor:
        return path or None
    return path[len(ancestor) + 1 :] if path.startswith(ancestor + ".") else None


def owning_table(path: str) -> TableContract:
    """The table whose row object holds `path`: the one with the deepest `row_source` above it."""
    best = CALLS
    for table in TABLES.values():
        rs = table.row_source
        if (path == rs or relative_path(path, rs) is not None) and len(rs) > len(best.row_source):
            best = table
    return best


def checked_objects() -> dict[str, tuple[str, ...]]:
    """Path of every object whose keys the decoder checks -> its documented keys.

    The call (`""`), each table's row object, and every object whose JSON column declares
    `object_keys`. Keys come from the column sources below the object, plus `object_keys`.
    """
    paths = [""] + [t.row_source for t in TABLES.values() if t.row_source]
    paths += [c.source for t in TABLES.values() for c in t.columns if c.object_keys and c.source]
    keys: dict[str, dict[str, None]] = {p: {} for p in paths}
    for table in TABLES.values():
        for col in table.columns:
            if col.object_keys and col.source:
                keys[col.source].update(dict.fromkeys(col.object_keys))
            if col.source is None:
                continue
            for p in paths:
                rel = relative_path(col.source, p)
                if rel is not None:
                    keys[p][rel.split(".")[0].removesuffix("[]")] = None
    return {p: tuple(k) for p, k in keys.items()}


def _check_contract() -> None:
    """Fail at import on an inconsistent contract (a developer error, not a data error)."""
    objects = checked_objects()
    for table in TABLES.values():
        names = table.column_names
        if len(set(names)) != len(names):
            raise AssertionError(f"{table.name}: duplicate column names")
        if table.row_source is None:
            raise AssertionError(f"{table.name}: a flattened table declares its row_source")
        if PARTITION_COLUMN in names:
            raise AssertionError(f"{table.name}: `{PARTITION_COLUMN}` is the partition key")
        missing = set(table.primary_key) - set(names)
        if missing or (table.parent_key and table.parent_key not in names):
            raise AssertionError(f"{table.name}: key columns missing: {missing}")
        for col in table.columns:
            if (col.source is None) != (col.kind == "derived"):
                raise AssertionError(f"{table.name}.{col.name}: only derived columns lack a source")
            if col.kind in ("json", "text") and col.type != STRING:
                raise AssertionError(f"{table.name}.{col.name}: JSON/text columns are strings")
            if col.source is not None and owning_table(col.source) is not table:
                raise AssertionError(f"{table.name}.{col.name}: source outside the table's rows")
    for path, keys in objects.items():
        if path.endswith("[]") or not path:
            continue
        declared = next(
            c.object_keys for t in TABLES.values() for c in t.columns if c.source == path
        )
        extra = set(keys) - set(declared or ())
        if extra:
            raise AssertionError(f"{path}: columns read undocumented keys {sorted(extra)}")


_check_contract()


def contract_markdown(tables: dict[str, TableContract] | None = None) -> str:
    """Markdown documentation of all tables (for docs and Dagster asset descriptions)."""
    tables = TABLES if tables is None else tables
    return "\n".join(table_markdown(t) for t in tables.values())
