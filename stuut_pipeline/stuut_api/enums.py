"""Documented enum values of the `GET /v1/calls` endpoint (list-calls.txt, NOTES.md)."""

SENTIMENTS: tuple[str, ...] = ("positive", "negative", "neutral", "unknown")
DIRECTIONS: tuple[str, ...] = ("inbound", "outbound")
CLASSIFICATIONS: tuple[str, ...] = (
    "payment_inquiry",
    "payment_promise",
    "account_inquiry",
    "invoice_inquiry",
    "refund_request",
    "cancellation_request",
    "support_request",
    "complaint",
    "feedback",
    "wrong_contact",
    "message_forwarding_request",
    "cc_inclusion_request",
    "not_available",
    "contact_inquiry",
    "other",
)
MIN_LIMIT = 1
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
