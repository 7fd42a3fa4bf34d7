"""How calls turn out: classification, sentiment and disconnection weights, tasks and texts."""

from __future__ import annotations

from typing import NamedTuple

from .vocabulary import DRIFT_CLASSIFICATION


class TaskType(NamedTuple):
    """The task a classification creates."""

    type: str
    label: str


class ClassText(NamedTuple):
    """The texts of a classification ({placeholders} filled from the call's context)."""

    reason: str
    action: str
    summary: str


CLASSIFICATION_WEIGHTS = (
    ("payment_promise", 22),
    ("invoice_inquiry", 14),
    ("payment_inquiry", 10),
    ("wrong_contact", 8),
    ("not_available", 7),
    ("account_inquiry", 6),
    ("message_forwarding_request", 6),
    ("complaint", 5),
    ("support_request", 4),
    ("contact_inquiry", 4),
    ("other", 4),
    ("refund_request", 3),
    ("cc_inclusion_request", 3),
    ("cancellation_request", 2),
    ("feedback", 2),
)
SENTIMENT_BY_CLASS: dict[str, tuple[tuple[str, float], ...]] = {
    "payment_promise": (("positive", 70), ("neutral", 25), ("negative", 5)),
    "payment_inquiry": (("neutral", 55), ("positive", 30), ("negative", 15)),
    "invoice_inquiry": (("neutral", 60), ("positive", 20), ("negative", 20)),
    "account_inquiry": (("neutral", 65), ("positive", 25), ("negative", 10)),
    "refund_request": (("negative", 45), ("neutral", 45), ("positive", 10)),
    "cancellation_request": (("negative", 60), ("neutral", 35), ("positive", 5)),
    "support_request": (("neutral", 55), ("negative", 30), ("positive", 15)),
    "complaint": (("negative", 80), ("neutral", 18), ("positive", 2)),
    "feedback": (("positive", 55), ("neutral", 30), ("negative", 15)),
    "wrong_contact": (("neutral", 60), ("unknown", 25), ("negative", 15)),
    "message_forwarding_request": (("neutral", 70), ("positive", 25), ("unknown", 5)),
    "cc_inclusion_request": (("neutral", 60), ("positive", 40)),
    "not_available": (("neutral", 60), ("unknown", 40)),
    "contact_inquiry": (("neutral", 70), ("positive", 30)),
    "other": (("neutral", 50), ("unknown", 30), ("positive", 10), ("negative", 10)),
}
OUTBOUND_REASONS = (
    ("user_hangup", 34),
    ("agent_hangup", 30),
    ("voicemail_reached", 12),
    ("dial_no_answer", 7),
    ("call_transfer", 4),
    ("inactivity", 2.5),
    ("dial_busy", 2.5),
    ("max_duration_reached", 1),
    ("dial_failed", 1.5),
    ("invalid_destination", 1),
    ("user_declined", 1.5),
    ("marked_as_spam", 0.5),
    ("registered_call_timeout", 0.5),
    ("error_llm_websocket_open", 0.4),
    ("error_no_audio_received", 0.4),
    ("error_unknown", 0.3),
)
INBOUND_REASONS = (
    ("user_hangup", 50),
    ("agent_hangup", 35),
    ("call_transfer", 8),
    ("inactivity", 4),
    ("max_duration_reached", 1),
    ("error_no_audio_received", 1),
    ("error_unknown", 1),
)
TALKED_REASONS = frozenset(
    ("user_hangup", "agent_hangup", "call_transfer", "inactivity", "max_duration_reached")
)

TASK_TYPES: dict[str, TaskType] = {
    "payment_promise": TaskType("confirm_payment_promise", "Confirm payment promise"),
    "payment_inquiry": TaskType("send_payment_details", "Send payment details"),
    "invoice_inquiry": TaskType("send_invoice_copy", "Send invoice copy"),
    "account_inquiry": TaskType("send_statement", "Send account statement"),
    "refund_request": TaskType("review_refund", "Review refund request"),
    "cancellation_request": TaskType("review_cancellation", "Review cancellation request"),
    "support_request": TaskType("route_to_support", "Route to support"),
    "complaint": TaskType("review_dispute", "Review dispute"),
    "feedback": TaskType("activity_summary_outreach", "Share feedback with account owner"),
    "wrong_contact": TaskType("update_contact", "Update contact details"),
    "message_forwarding_request": TaskType("forward_message", "Forward message"),
    "cc_inclusion_request": TaskType("update_contact", "Add contact to CC list"),
    "not_available": TaskType("schedule_callback", "Schedule callback"),
    "contact_inquiry": TaskType("activity_summary_outreach", "Send contact summary"),
    "other": TaskType("activity_summary_outreach", "Review call summary"),
    DRIFT_CLASSIFICATION: TaskType("legal_review", "Hand over to legal"),
}
CLASS_TEXT: dict[str, ClassText] = {
    "payment_promise": ClassText(
        "{contact} committed to paying {balance} by {promise}.",
        "Log the promise to pay and schedule a reminder for {promise}.",
        "{contact} promised to pay {balance} by {promise}.",
    ),
    "payment_inquiry": ClassText(
        "{contact} asked how to pay and whether ACH or card payments are accepted.",
        "Email the payment portal link and remittance instructions.",
        "{contact} asked for payment options and the portal link.",
    ),
    "invoice_inquiry": ClassText(
        "{contact} could not find invoice {inv} in their AP system and asked for a copy.",
        "Re-send invoice {inv} as PDF to the AP mailbox.",
        "{contact} requested a copy of invoice {inv}.",
    ),
    "account_inquiry": ClassText(
        "{contact} asked for a statement of all open items on the account.",
        "Send an account statement with aging buckets.",
        "{contact} asked for a full account statement.",
    ),
    "refund_request": ClassText(
        "{contact} says a credit note was promised for a duplicate charge and wants a refund.",
        "Check the duplicate charge and issue a credit note if confirmed.",
        "{contact} requested a refund for a duplicate charge.",
    ),
    "cancellation_request": ClassText(
        "{contact} wants to cancel the subscription at the end of the term.",
        "Route to the account manager for a retention conversation.",
        "{contact} asked to cancel the subscription.",
    ),
    "support_request": ClassText(
        "{contact} reported a product issue that blocks approval of the invoice.",
        "Open a support ticket and pause outreach until it is resolved.",
        "{contact} raised a support issue blocking payment.",
    ),
    "complaint": ClassText(
        "{contact} disputes the quantities billed on invoice {inv} and is unhappy with the "
        "number of reminders.",
        "Mark invoice {inv} as disputed and involve the account manager.",
        "{contact} disputed invoice {inv} and complained about the reminders.",
    ),
    "feedback": ClassText(
        "{contact} shared positive feedback about the new self-service portal.",
        "No action needed; share the feedback with the team.",
        "{contact} gave feedback on the payment portal.",
    ),
    "wrong_contact": ClassText(
        "The person reached does not handle payables at {company} and gave no other contact.",
        "Update the contact and find the right AP contact.",
        "The call reached someone at {company} who does not handle invoices.",
    ),
    "message_forwarding_request": ClassText(
        "The person reached offered to forward a message to {contact}.",
        "Send a follow-up email to {contact} with the open items.",
        "A colleague agreed to forward the message to {contact}.",
    ),
    "cc_inclusion_request": ClassText(
        "{contact} asked to copy the AP team mailbox on all future reminders.",
        "Add the AP mailbox to the CC list used for {company} reminders.",
        "{contact} asked to CC the AP mailbox on reminders.",
    ),
    "not_available": ClassText(
        "{contact} was not available; no one could discuss the balance.",
        "Retry the call in two business days.",
        "{contact} was not available.",
    ),
    "contact_inquiry": ClassText(
        "{contact} asked who the account manager at {org} is.",
        "Send the account manager's contact details.",
        "{contact} asked for the account manager's details.",
    ),
    "other": ClassText(
        "The conversation did not fit a predefined category.",
        "Review the transcript manually.",
        "The call covered other topics.",
    ),
    DRIFT_CLASSIFICATION: ClassText(
        "{contact} said their lawyer will handle the dispute on invoice {inv}.",
        "Hand the account over to legal.",
        "{contact} referred the matter to their lawyer.",
    ),
}
UNCERTAINTIES = (
    "The promised date was stated as 'end of next week' and may be ambiguous.",
    "Background noise made part of the amount hard to understand.",
    "The speaker did not confirm their name.",
    "It is unclear whether the dispute covers all line items.",
    "The contact mentioned a different invoice number than the one on file.",
)
LANGUAGES = (("en", 70), ("de", 8), ("es", 7), ("fr", 6), ("nb", 3), ("ja", 3), ("pt", 3))
