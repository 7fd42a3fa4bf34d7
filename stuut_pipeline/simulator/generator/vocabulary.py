"""The documented vocabulary of generated calls: reasons, id prefixes, and schema-drift markers."""

from __future__ import annotations

from ...stuut_api.enums import CLASSIFICATIONS, DIRECTIONS, SENTIMENTS

__all__ = [
    "CLASSIFICATIONS",
    "CONNECTED_REASONS",
    "DIRECTIONS",
    "DISCONNECTION_REASONS",
    "DRIFT_CALL_FIELD",
    "DRIFT_CLASSIFICATION",
    "DRIFT_CLASSIFICATION_FIELD",
    "DRIFT_FIELDS",
    "DRIFT_INVOICE_FIELD",
    "DRIFT_SENTIMENT",
    "ID_PREFIXES",
    "NOT_CONNECTED_REASONS",
    "SENTIMENTS",
    "STRING_AMOUNT_FIELDS",
]

# Documented values (list-calls.txt query parameters, NOTES.md)

#: Retell reasons of calls where someone (or a voicemail box) picked up.
CONNECTED_REASONS: tuple[str, ...] = (
    "user_hangup",
    "agent_hangup",
    "call_transfer",
    "voicemail_reached",
    "inactivity",
    "max_duration_reached",
)
#: Retell reasons of calls that never connected, and errors.
NOT_CONNECTED_REASONS: tuple[str, ...] = (
    "dial_no_answer",
    "dial_busy",
    "dial_failed",
    "invalid_destination",
    "user_declined",
    "marked_as_spam",
    "registered_call_timeout",
    "error_llm_websocket_open",
    "error_no_audio_received",
    "error_unknown",
)
DISCONNECTION_REASONS: tuple[str, ...] = CONNECTED_REASONS + NOT_CONNECTED_REASONS

#: Id prefix of each object kind the generator emits (`ptn_`, `inv_`, `otwfl_` are Stuut's own).
ID_PREFIXES: dict[str, str] = {
    "call": "call_",
    "workflow": "otwfl_",
    "partner": "ptn_",
    "invoice": "inv_",
    "classification": "cls_",
    "task": "task_",
    "task_data": "tdat_",
    "event": "evt_",
    "user": "usr_",
    "organization": "org_",
    "email_sender": "esnd_",
    "email": "eml_",
    "attachment": "att_",
    "thread": "thr_",
    "line_item": "li_",
    "invoice_payment": "ipay_",
    "payment": "pay_",
    "contact": "cnt_",
    "address": "addr_",
    "ap_portal": "app_",
    "ap_portal_account": "apa_",
    "tag": "tag_",
    "linked_integration": "lint_",
    "linked_model": "lmod_",
    "sync": "sync_",
    "run": "run_",
    "call_agent": "cag_",
    "agent": "agent_",
}

# Schema drift (fault injection): values and fields NOT in the contract.
DRIFT_SENTIMENT = "mixed"
DRIFT_CLASSIFICATION = "legal_escalation"
DRIFT_CALL_FIELD = "escalation_level"
DRIFT_CLASSIFICATION_FIELD = "sub_label"
DRIFT_INVOICE_FIELD = "collection_stage"
DRIFT_FIELDS: dict[str, str] = {
    "call": DRIFT_CALL_FIELD,
    "classification": DRIFT_CLASSIFICATION_FIELD,
    "invoice": DRIFT_INVOICE_FIELD,
}
#: Invoice fields sent as JSON strings ("1234.50") in invoices picked by `string_amount_share`.
STRING_AMOUNT_FIELDS: tuple[str, ...] = (
    "amount_due",
    "amount_paid",
    "total_amount",
    "subtotal",
    "total_tax",
    "total_discount",
)
