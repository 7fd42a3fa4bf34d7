"""Deterministic, seeded generator of Stuut call records in the complete `GET /v1/calls` shape.

Every field documented by `docs/stuut-api/list-calls.txt` is present at every nesting level, with
the documented type and realistic values (id prefixes, ISO-8601 UTC timestamps, documented enums,
unicode names, consistent amounts and references). `CallGenerator.call(i)` is a pure function of
`(config, i)`: each call draws from its own `random.Random` seeded from `(seed, i)`.

Speed: heavy sub-objects (partners, users, linked integrations, invoices) are built
once per generator and the SAME dict objects are reused by every call that refers to them. Callers
must treat returned calls as read-only (serialize them, or deep-copy before mutating in place);
`call_json()` returns the compact JSON bytes directly.
"""

from __future__ import annotations

import hashlib
import random
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from ..stuut_api.enums import CLASSIFICATIONS, DIRECTIONS, SENTIMENTS

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
    "CallGenerator",
    "GeneratorConfig",
]

# --------------------------------------------------------------------------------------------
# Documented values (list-calls.txt query parameters, NOTES.md)
# --------------------------------------------------------------------------------------------

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

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = "0123456789abcdef"
_MASK64 = (1 << 64) - 1
_MIX = 0x9E3779B97F4A7C15  # odd: invertible mod 2**64
_MIX_INV = pow(_MIX, -1, 1 << 64)
_CALL_ID_LEN = 11  # 62**11 > 2**64
_DAY = 86_400


@dataclass(frozen=True)
class GeneratorConfig:
    """Knobs of the generator. Every call is a pure function of this config and its index."""

    seed: int = 0
    n_workflows: int = 3
    no_workflow_share: float = 0.02
    max_classifications: int = 3
    max_tasks: int = 2
    max_invoices: int = 3
    schema_drift_share: float = 0.0  # share of calls with schema drift (DRIFT_* constants)
    string_amount_share: float = 0.0  # share of invoices whose amounts are JSON strings
    epoch: datetime = datetime(2026, 9, 1, tzinfo=UTC)  # fixed, never now()
    n_partners: int = 40
    n_users: int = 12
    span_days: float = 60.0  # calls 0..span_calls-1 are spread over this many days after epoch
    span_calls: int = 3000  # later indices keep going past span_days at the same pace

    def __post_init__(self) -> None:
        for name in ("no_workflow_share", "schema_drift_share", "string_amount_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in ("max_classifications", "max_tasks", "max_invoices"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.n_workflows < 1 or self.n_partners < 1 or self.n_users < 1:
            raise ValueError("n_workflows, n_partners and n_users must be >= 1")
        if self.span_days <= 0 or self.span_calls < 1:
            raise ValueError("span_days must be > 0 and span_calls >= 1")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _iso(sec: float) -> str:
    """Epoch seconds -> '2026-09-14T13:02:11Z'."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sec))


def _date(sec: float) -> str:
    """Epoch seconds -> '2026-09-14'."""
    return time.strftime("%Y-%m-%d", time.gmtime(sec))


def _rid(rng: random.Random, prefix: str, n: int = 16) -> str:
    return prefix + "".join(rng.choices(_ALNUM, k=n))


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_HEX, k=n))


def _u64(*parts: object) -> int:
    """A stable 64-bit hash of `parts` (never the per-process salted `hash()`)."""
    key = ":".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def _unit(*parts: object) -> float:
    """A stable uniform number in [0, 1) from `parts`."""
    return _u64(*parts) / 2.0**64


def _b62(x: int, width: int) -> str:
    out = []
    for _ in range(width):
        x, r = divmod(x, 62)
        out.append(_ALNUM[r])
    return "".join(reversed(out))


_FOLD = str.maketrans(
    {"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "'": ""}
)


def _ascii(text: str) -> str:
    """Fold a unicode name to a lower-case ascii slug usable in emails and domains."""
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD))
    out = "".join(c for c in folded if c.isascii() and (c.isalnum() or c in " -.&"))
    return "-".join(out.lower().replace("&", " ").replace(".", " ").split())


def _money(units: int, decimals: int) -> float | int:
    """Minor units -> JSON number (int for zero-decimal currencies such as JPY)."""
    return units if decimals == 0 else round(units / 100, 2)


def _money_str(units: int, decimals: int) -> str:
    return str(units) if decimals == 0 else f"{units / 100:.2f}"


def _fmt_amount(units: int, currency: str, decimals: int) -> str:
    if decimals == 0:
        return f"{units:,} {currency}"
    return f"{units / 100:,.2f} {currency}"


def _pick(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    """Weighted choice from ((value, weight), ...): one `rng.random()` draw."""
    r = rng.random() * sum(w for _, w in table)
    for value, weight in table:
        r -= weight
        if r < 0:
            return value
    return table[-1][0]


# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

_GIVEN = (
    "Zoë", "Jürgen", "José", "Amélie", "Søren", "Ingrid", "Łukasz", "Chloé", "Mateo", "Priya",
    "Hiroshi", "Yuki", "Olivia", "Liam", "Noah", "Emma", "Björn", "Ana", "François", "Siobhán",
    "Dmitri", "Aisha", "Wei", "Carlos", "Maëlle", "Renée", "Tomás", "Kateřina", "Grace", "Daniel",
    "Sophia", "Marcus", "Fatima", "Lars", "Inès", "Oğuz",
)  # fmt: skip
_FAMILY = (
    "Müller", "Ødegaard", "Núñez", "Dubois", "Kowalski", "Nakamura", "Smith", "Johnson", "García",
    "Schröder", "Lindqvist", "O'Brien", "Rossi", "Fernández", "Novák", "Yamada", "Brown", "Martín",
    "Østergaard", "Weiß", "Chen", "Patel", "Mbeki", "Lefèvre", "Çelik", "Walker", "Nguyen",
    "Kim", "Hernández", "Jørgensen",
)  # fmt: skip

# (country, weight, currency, decimals, phone prefix, phone digits, vat prefix,
#  cities: (city, state, postal pattern, lat, lng, timezone), streets, company names, suffixes)
_REGIONS: tuple[tuple, ...] = (
    (
        "US", 34, "USD", 2, "+1", 10, "US",
        (
            ("Austin", "TX", "787##", 30.27, -97.74, "America/Chicago"),
            ("New York", "NY", "100##", 40.71, -74.01, "America/New_York"),
            ("San Francisco", "CA", "941##", 37.77, -122.42, "America/Los_Angeles"),
            ("Chicago", "IL", "606##", 41.88, -87.63, "America/Chicago"),
            ("Denver", "CO", "802##", 39.74, -104.99, "America/Denver"),
        ),
        ("Main Street", "Congress Avenue", "Market Street", "Oak Lane", "Industrial Parkway"),
        (
            "Acme Industrial Supply", "Blue Ridge Logistics", "Pinecrest Health Partners",
            "Summit Fabrication", "Harborview Foods", "Lone Star Packaging", "Redwood Analytics",
            "Great Lakes Freight", "Cedar & Pine Builders", "Northstar Medical Devices",
        ),
        ("Inc.", "LLC", "Corp."),
    ),
    (
        "DE", 10, "EUR", 2, "+49", 10, "DE",
        (
            ("München", "Bayern", "80###", 48.14, 11.58, "Europe/Berlin"),
            ("Berlin", "Berlin", "10###", 52.52, 13.40, "Europe/Berlin"),
            ("Köln", "Nordrhein-Westfalen", "50###", 50.94, 6.96, "Europe/Berlin"),
        ),
        ("Hauptstraße", "Königstraße", "Schloßallee", "Müllerstraße", "Am Güterbahnhof"),
        (
            "Müller Logistik", "Schröder Maschinenbau", "Weiß & Söhne", "Bäckerei König",
            "Nordlicht Elektrotechnik",
        ),
        ("GmbH", "AG", "KG"),
    ),
    (
        "GB", 8, "GBP", 2, "+44", 10, "GB",
        (
            ("London", "England", "EC#A #BB", 51.51, -0.13, "Europe/London"),
            ("Manchester", "England", "M# #AB", 53.48, -2.24, "Europe/London"),
        ),
        ("Baker Street", "High Street", "King's Road", "Deansgate"),
        ("Walker & Brown", "Thames Valley Components", "Pennine Outdoor Gear"),
        ("Ltd", "plc"),
    ),
    (
        "FR", 7, "EUR", 2, "+33", 9, "FR",
        (
            ("Paris", "Île-de-France", "75###", 48.86, 2.35, "Europe/Paris"),
            ("Lyon", "Auvergne-Rhône-Alpes", "69###", 45.76, 4.84, "Europe/Paris"),
        ),
        ("Rue de Rivoli", "Avenue des Champs-Élysées", "Rue Saint-Honoré", "Quai de Saône"),
        ("Lefèvre Bâtiment", "Boulangeries Dubois", "Société Générale d'Équipement"),
        ("SARL", "SAS"),
    ),
    (
        "ES", 7, "EUR", 2, "+34", 9, "ES",
        (
            ("Madrid", "Comunidad de Madrid", "28###", 40.42, -3.70, "Europe/Madrid"),
            ("A Coruña", "Galicia", "15###", 43.36, -8.41, "Europe/Madrid"),
        ),
        ("Calle Mayor", "Avenida de la Constitución", "Calle de Alcalá", "Rúa Nova"),
        ("Núñez y Asociados", "Construcciones Peña", "Logística Ibérica"),
        ("S.L.", "S.A."),
    ),
    (
        "NO", 5, "NOK", 2, "+47", 8, "NO",
        (
            ("Oslo", "Oslo", "0###", 59.91, 10.75, "Europe/Oslo"),
            ("Tromsø", "Troms", "9###", 69.65, 18.96, "Europe/Oslo"),
        ),
        ("Storgata", "Kirkegata", "Sjøgata", "Strandveien"),
        ("Ødegaard Shipping", "Fjordkraft Næring", "Tromsø Sjømat"),
        ("AS", "ASA"),
    ),
    (
        "JP", 5, "JPY", 0, "+81", 10, "JP",
        (
            ("東京都千代田区", "東京都", "100-####", 35.68, 139.76, "Asia/Tokyo"),
            ("大阪市北区", "大阪府", "530-####", 34.70, 135.50, "Asia/Tokyo"),
        ),
        ("丸の内1-1-1", "梅田2-4-9", "大手町3-2-1"),
        ("株式会社 山田", "株式会社 東和精機", "中村商事株式会社"),
        ("",),
    ),
    (
        "CA", 8, "CAD", 2, "+1", 10, "CA",
        (
            ("Toronto", "ON", "M5V #A#", 43.65, -79.38, "America/Toronto"),
            ("Montréal", "QC", "H2Y #B#", 45.50, -73.57, "America/Toronto"),
        ),
        ("King Street West", "Rue Sainte-Catherine", "Bay Street"),
        ("Maple Leaf Fixtures", "Boréal Distribution", "Laurentian Paper"),
        ("Inc.", "Ltd."),
    ),
    (
        "BR", 5, "BRL", 2, "+55", 11, "BR",
        (("São Paulo", "SP", "01###-###", -23.55, -46.63, "America/Sao_Paulo"),),
        ("Avenida Paulista", "Rua Augusta", "Rua Oscar Freire"),
        ("Comércio São João", "Indústria Açaí Norte"),
        ("Ltda.",),
    ),
    (
        "CH", 5, "CHF", 2, "+41", 9, "CHE",
        (("Zürich", "ZH", "80##", 47.37, 8.54, "Europe/Zurich"),),
        ("Bahnhofstrasse", "Seefeldstrasse", "Limmatquai"),
        ("Zürcher Präzision", "Alpenglühn Uhren"),
        ("AG", "GmbH"),
    ),
)  # fmt: skip
_REGION_TABLE = tuple((r, r[1]) for r in _REGIONS)

_ORG_NAMES = (
    ("Nordwind Components Inc.", "nordwind-components.com"),
    ("Brightline Software Inc.", "brightline.io"),
    ("Halvorsen Marine Supply", "halvorsen-marine.com"),
    ("Verdant Agritech", "verdant-agritech.com"),
)
_AGENT_NAMES = ("Ava", "Leo", "Mia", "Sam")

_WORKFLOW_NAMES = (
    "Overdue invoices – friendly reminder",
    "Pre-due courtesy calls",
    "60+ days past due – escalation",
    "Promise-to-pay follow-up",
    "Disputed invoices review",
    "Enterprise accounts outreach",
    "Día de cobro – clientes España",
    "Zahlungserinnerung DACH",
)
_WORKFLOW_TZ = (
    "America/New_York", "America/Chicago", "Europe/Berlin", "America/Los_Angeles",
    "Europe/London", "Europe/Madrid", "Asia/Tokyo", "America/Toronto",
)  # fmt: skip

_TAG_DEFS = (
    ("Enterprise", "#1E88E5"),
    ("Strategic", "#8E24AA"),
    ("Slow payer", "#F4511E"),
    ("Disputes often", "#E53935"),
    ("Net 60", "#43A047"),
    ("Priority", "#FDD835"),
    ("Öffentlicher Sektor", "#00897B"),
    ("Portal submission", "#6D4C41"),
)
_JOB_TITLES = (
    "Accounts Payable Specialist", "AP Manager", "Controller", "Finance Director", "CFO",
    "Bookkeeper", "Office Manager", "Leiterin Buchhaltung", "Responsable comptable",
    "Jefe de Contabilidad", "経理部長",
)  # fmt: skip
_EXTERNAL_ROLES = (("billing_contact", 6), ("accounts_payable", 4), ("decision_maker", 2))
_INTERNAL_ROLES = (("account_manager", 3), ("collector", 3), ("sales_rep", 1))
_AP_PROVIDERS = ("coupa", "ariba", "tungsten", "taulia", "basware", "jaggaer")
_PRODUCTS = (
    ("Annual platform subscription", "subscription", 1_200_000, 1),
    ("Implementation services", "service", 18_000, 40),
    ("Premium support plan", "subscription", 250_000, 1),
    ("Hydraulic pump HX-200", "product", 84_900, 12),
    ("Steel fasteners M8 (box of 500)", "product", 4_250, 60),
    ("Freight and handling", "service", 35_000, 1),
    ("Consulting hours", "service", 17_500, 24),
    ("Replacement filters – Größe L", "product", 1_990, 200),
    ("Cold-chain storage (pallet-month)", "service", 9_500, 30),
    ("Training workshop (on site)", "service", 320_000, 1),
)
_EMAIL_PROVIDERS = ("google", "microsoft", "smtp")
_EMAIL_COUNTS = ((0, 55), (1, 35), (2, 10))

_CLASSIFICATION_WEIGHTS = (
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
_SENTIMENT_BY_CLASS: dict[str, tuple[tuple[str, float], ...]] = {
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
_OUTBOUND_REASONS = (
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
_INBOUND_REASONS = (
    ("user_hangup", 50),
    ("agent_hangup", 35),
    ("call_transfer", 8),
    ("inactivity", 4),
    ("max_duration_reached", 1),
    ("error_no_audio_received", 1),
    ("error_unknown", 1),
)
_TALKED_REASONS = frozenset(
    ("user_hangup", "agent_hangup", "call_transfer", "inactivity", "max_duration_reached")
)

_TASK_TYPES: dict[str, tuple[str, str]] = {
    "payment_promise": ("confirm_payment_promise", "Confirm payment promise"),
    "payment_inquiry": ("send_payment_details", "Send payment details"),
    "invoice_inquiry": ("send_invoice_copy", "Send invoice copy"),
    "account_inquiry": ("send_statement", "Send account statement"),
    "refund_request": ("review_refund", "Review refund request"),
    "cancellation_request": ("review_cancellation", "Review cancellation request"),
    "support_request": ("route_to_support", "Route to support"),
    "complaint": ("review_dispute", "Review dispute"),
    "feedback": ("activity_summary_outreach", "Share feedback with account owner"),
    "wrong_contact": ("update_contact", "Update contact details"),
    "message_forwarding_request": ("forward_message", "Forward message"),
    "cc_inclusion_request": ("update_contact", "Add contact to CC list"),
    "not_available": ("schedule_callback", "Schedule callback"),
    "contact_inquiry": ("activity_summary_outreach", "Send contact summary"),
    "other": ("activity_summary_outreach", "Review call summary"),
    DRIFT_CLASSIFICATION: ("legal_review", "Hand over to legal"),
}
_CLASS_TEXT: dict[str, tuple[str, str, str]] = {
    # classification: (reason, action recommendation, summary sentence)
    "payment_promise": (
        "{contact} committed to paying {balance} by {promise}.",
        "Log the promise to pay and schedule a reminder for {promise}.",
        "{contact} promised to pay {balance} by {promise}.",
    ),
    "payment_inquiry": (
        "{contact} asked how to pay and whether ACH or card payments are accepted.",
        "Email the payment portal link and remittance instructions.",
        "{contact} asked for payment options and the portal link.",
    ),
    "invoice_inquiry": (
        "{contact} could not find invoice {inv} in their AP system and asked for a copy.",
        "Re-send invoice {inv} as PDF to the AP mailbox.",
        "{contact} requested a copy of invoice {inv}.",
    ),
    "account_inquiry": (
        "{contact} asked for a statement of all open items on the account.",
        "Send an account statement with aging buckets.",
        "{contact} asked for a full account statement.",
    ),
    "refund_request": (
        "{contact} says a credit note was promised for a duplicate charge and wants a refund.",
        "Check the duplicate charge and issue a credit note if confirmed.",
        "{contact} requested a refund for a duplicate charge.",
    ),
    "cancellation_request": (
        "{contact} wants to cancel the subscription at the end of the term.",
        "Route to the account manager for a retention conversation.",
        "{contact} asked to cancel the subscription.",
    ),
    "support_request": (
        "{contact} reported a product issue that blocks approval of the invoice.",
        "Open a support ticket and pause outreach until it is resolved.",
        "{contact} raised a support issue blocking payment.",
    ),
    "complaint": (
        "{contact} disputes the quantities billed on invoice {inv} and is unhappy with the "
        "number of reminders.",
        "Mark invoice {inv} as disputed and involve the account manager.",
        "{contact} disputed invoice {inv} and complained about the reminders.",
    ),
    "feedback": (
        "{contact} shared positive feedback about the new self-service portal.",
        "No action needed; share the feedback with the team.",
        "{contact} gave feedback on the payment portal.",
    ),
    "wrong_contact": (
        "The person reached does not handle payables at {company} and gave no other contact.",
        "Update the contact and find the right AP contact.",
        "The call reached someone at {company} who does not handle invoices.",
    ),
    "message_forwarding_request": (
        "The person reached offered to forward a message to {contact}.",
        "Send a follow-up email to {contact} with the open items.",
        "A colleague agreed to forward the message to {contact}.",
    ),
    "cc_inclusion_request": (
        "{contact} asked to copy the AP team mailbox on all future reminders.",
        "Add the AP mailbox to the CC list used for {company} reminders.",
        "{contact} asked to CC the AP mailbox on reminders.",
    ),
    "not_available": (
        "{contact} was not available; no one could discuss the balance.",
        "Retry the call in two business days.",
        "{contact} was not available.",
    ),
    "contact_inquiry": (
        "{contact} asked who the account manager at {org} is.",
        "Send the account manager's contact details.",
        "{contact} asked for the account manager's details.",
    ),
    "other": (
        "The conversation did not fit a predefined category.",
        "Review the transcript manually.",
        "The call covered other topics.",
    ),
    DRIFT_CLASSIFICATION: (
        "{contact} said their lawyer will handle the dispute on invoice {inv}.",
        "Hand the account over to legal.",
        "{contact} referred the matter to their lawyer.",
    ),
}
_UNCERTAINTIES = (
    "The promised date was stated as 'end of next week' and may be ambiguous.",
    "Background noise made part of the amount hard to understand.",
    "The speaker did not confirm their name.",
    "It is unclear whether the dispute covers all line items.",
    "The contact mentioned a different invoice number than the one on file.",
)
_LANGUAGES = (("en", 70), ("de", 8), ("es", 7), ("fr", 6), ("nb", 3), ("ja", 3), ("pt", 3))

# --------------------------------------------------------------------------------------------
# Transcript templates: (role, text) turns with {placeholders}
# --------------------------------------------------------------------------------------------

_OUT_OPEN = (
    (
        "agent",
        "Hi, this is {agent}, a virtual assistant calling on behalf of the accounts receivable "
        "team at {org}. This call may be recorded. Am I speaking with {contact_full}?",
    ),
    ("user", "Yes, this is {contact}. What is this about?"),
    (
        "agent",
        "Thanks, {contact}. I'm calling about the open balance of {balance} on the {company} "
        "account, including invoice {inv}, which is now past its due date. Do you have a moment "
        "to go over it?",
    ),
)
_IN_OPEN = (
    (
        "agent",
        "Thank you for calling the accounts receivable team at {org}. My name is {agent}, a "
        "virtual assistant. This call may be recorded. How can I help you today?",
    ),
    (
        "user",
        "Hi, this is {contact_full} from {company}. I got an email about invoice {inv} and "
        "wanted to call back about it.",
    ),
    (
        "agent",
        "Thanks for calling back, {contact}. I can see an open balance of {balance} on your "
        "account, including invoice {inv}. What would you like to discuss?",
    ),
)
_BODIES: dict[str, tuple[tuple[str, str], ...]] = {
    "payment_promise": (
        ("user", "Right, we got the reminder. Our payment run is every other Thursday."),
        ("agent", "Understood. Could you tell me when we can expect the payment?"),
        ("user", "I've approved it today, so it should go out with the run on {promise}."),
        ("agent", "Great. Just to confirm: {balance} will be paid by {promise}, correct?"),
        ("user", "Yes, that's right. By bank transfer, as usual."),
        ("agent", "Perfect, I've noted that. You'll receive a confirmation email shortly."),
    ),
    "payment_inquiry": (
        ("user", "Sure. Can we pay by card, or does it have to be a bank transfer?"),
        (
            "agent",
            "You can pay by ACH, wire transfer or card through the payment portal. I can email "
            "you the link right after this call.",
        ),
        ("user", "That would help. Is there a fee for card payments?"),
        ("agent", "Card payments carry a small processing fee; ACH and wire are free."),
        ("user", "OK, then we'll probably use ACH. Please send the link."),
    ),
    "invoice_inquiry": (
        ("user", "Hmm, I don't see invoice {inv} in our system at all. Was it sent to us?"),
        ("agent", "It was emailed to your AP mailbox when it was issued. I can re-send it."),
        ("user", "Please do, and include the purchase order number, otherwise it gets rejected."),
        ("agent", "Of course. I'll send a copy with the PO number referenced today."),
        ("user", "Thanks. Once it's in the system it usually takes about a week to approve."),
    ),
    "account_inquiry": (
        ("user", "Can you tell me everything that is still open on our account?"),
        ("agent", "There are a few open items totalling {balance}. I can send a statement."),
        ("user", "Yes please, with the due dates. Our controller wants to review it."),
        ("agent", "I'll email a full statement with the aging details today."),
    ),
    "refund_request": (
        (
            "user",
            "Actually, we were charged twice last month and we're still waiting for a refund.",
        ),
        ("agent", "I'm sorry about that. Do you have the reference of the duplicate payment?"),
        ("user", "Yes, it's on our remittance advice. We were told a credit note would follow."),
        ("agent", "Thank you. I'll raise a refund request with our billing team right away."),
        ("user", "Please do. We won't pay the new invoice until that's sorted."),
    ),
    "cancellation_request": (
        ("user", "To be honest, we're planning to cancel the subscription at the end of term."),
        ("agent", "I understand. May I ask what's behind the decision?"),
        ("user", "Budget cuts. We'll settle what's open, but we don't want to renew."),
        ("agent", "Thanks for letting us know. I'll pass this on to your account manager."),
    ),
    "support_request": (
        ("user", "We can't approve it yet. The last delivery had a defect and nobody called back."),
        ("agent", "I'm sorry to hear that. Could you describe the issue briefly?"),
        ("user", "Two of the units failed on installation. We opened a ticket two weeks ago."),
        ("agent", "I'll escalate the ticket to support and pause reminders until it's fixed."),
        ("user", "Thank you, that would be appreciated."),
    ),
    "complaint": (
        ("user", "Frankly, this is the third call this week. We dispute that invoice."),
        ("agent", "I apologize for the repeated calls. What part of the invoice is disputed?"),
        ("user", "The quantities are wrong. We ordered forty units, not sixty."),
        ("agent", "Thank you for explaining. I'll mark the invoice as disputed."),
        ("user", "And please stop calling until someone has looked at it properly."),
        ("agent", "Understood. Your account manager will contact you about the correction."),
    ),
    "feedback": (
        ("user", "Sure. By the way, the new payment portal is much easier than the old one."),
        ("agent", "Thank you, that's great to hear. I'll share your feedback with the team."),
        ("user", "We'll pay the open invoice through the portal this week."),
        ("agent", "Wonderful, thank you."),
    ),
    "wrong_contact": (
        ("user", "I think you have the wrong person. I don't handle invoices here."),
        ("agent", "I'm sorry. Do you know who handles accounts payable at {company}?"),
        ("user", "Not really, I work in the warehouse. Try the main office number."),
        ("agent", "Thank you, I'll update our records. Have a good day."),
    ),
    "message_forwarding_request": (
        ("user", "{contact} is out of the office this week. I'm a colleague."),
        ("agent", "Thanks. Could you pass on a message about the open balance?"),
        ("user", "Sure, I'll forward it. Send an email as well so it doesn't get lost."),
        ("agent", "I will. Thank you for your help."),
    ),
    "cc_inclusion_request": (
        ("user", "Please always copy our AP team mailbox on these reminders."),
        ("agent", "Of course. What is the address of the AP mailbox?"),
        ("user", "It's the accounts payable address on file, the one starting with ap."),
        ("agent", "Got it. I'll add it to the CC list for all future emails."),
    ),
    "not_available": (
        ("user", "{contact} isn't available right now. Can you call back another time?"),
        ("agent", "Of course. Is there a better time to reach {contact}?"),
        ("user", "Try Tuesday morning."),
        ("agent", "Thank you, I'll call back then."),
    ),
    "contact_inquiry": (
        ("user", "Before that: who is our account manager at {org} these days?"),
        ("agent", "I can send you the account manager's details by email."),
        ("user", "Please do. We had a few changes on our side as well."),
        ("agent", "Noted. I'll include a form to update your contacts."),
    ),
    "other": (
        ("user", "Actually, I was calling about something else. Do you sell spare parts?"),
        ("agent", "I handle billing questions, but I can have someone from sales contact you."),
        ("user", "Yes, that would be great."),
    ),
}
_EXTRAS = (
    (
        ("agent", "For security, could you confirm the postal code on the account?"),
        ("user", "Sure, it's the one on the billing address, {postal}."),
        ("agent", "Thank you, that matches our records."),
    ),
    (
        ("agent", "Is {email} still the best email address for remittance advice?"),
        ("user", "Yes, that's still correct."),
    ),
    (
        ("agent", "Would you like to receive future invoices through your AP portal as well?"),
        ("user", "Email is fine for now, thanks."),
    ),
    (
        ("user", "Sorry, can you repeat the invoice number?"),
        ("agent", "Of course. It's invoice {inv}, issued on {issued}."),
    ),
)
_CLOSE = (
    (
        "agent",
        "Thank you for your time, {contact}. I'll send a short summary of our conversation by "
        "email. Have a great day!",
    ),
    ("user", "Thanks, you too. Bye."),
)
_VOICEMAIL = (
    (
        "agent",
        "Hi {contact}, this is {agent}, a virtual assistant calling on behalf of the accounts "
        "receivable team at {org}. I'm calling about the open balance of {balance} on the "
        "{company} account, including invoice {inv}. Please call us back at {org_phone} or reply "
        "to our email at your convenience. Thank you and have a great day.",
    ),
)


# a fixed jitter table: word timings need no per-word random draws
_JITTER = tuple(random.Random(20260901).random() for _ in range(1024))


def _turns_with_words(turns: list[tuple[str, str]], t0: float) -> list[dict]:
    """Retell-style transcript turns `{role, content, words: [{word, start, end}]}`."""
    out: list[dict] = []
    t = t0
    j = int(t0 * 1000) & 1023
    for role, content in turns:
        words = []
        for w in content.split():
            d = 0.09 + 0.055 * len(w) + _JITTER[j & 1023] * 0.08
            words.append({"word": w, "start": round(t, 3), "end": round(t + d, 3)})
            t += d + _JITTER[(j + 517) & 1023] * 0.06
            j += 1
        out.append({"role": role, "content": content, "words": words})
        t += 0.4 + _JITTER[(j * 7) & 1023]
    return out


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class _Partner:
    """A pool partner: its two JSON shapes, its contacts and its invoices (all built once)."""

    __slots__ = (
        "obj", "inv_obj", "index", "region", "contacts", "phone", "invoices", "balance",
        "decimals", "currency", "domain", "name", "timezone", "weight", "postal", "email",
        "shipping_id",
    )  # fmt: skip

    def __init__(self) -> None:
        self.invoices: list[dict] = []


class CallGenerator:
    """Deterministic generator of complete `GET /v1/calls` call records.

    Pools (workflows, partners, users, integrations, invoices) are built once from the seed.
    Returned calls share sub-objects with the pools and with each other: never mutate them.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        self.config = config = config or GeneratorConfig()
        self._epoch = int(config.epoch.timestamp())
        self._step = config.span_days * _DAY / config.span_calls
        self._id_key = _u64("call-ids", config.seed)
        rng = random.Random(f"stuut-sim:{config.seed}:pools")
        org_name, domain = rng.choice(_ORG_NAMES)
        self.org_name = org_name
        self.org_domain = domain
        self.org_phone = "+1512" + "".join(rng.choices("0123456789", k=7))
        self.organization_id = _rid(rng, "org_")
        self.agent_name = rng.choice(_AGENT_NAMES)
        self.agent_id = _rid(rng, "agent_", 24)
        self.call_agent_ids = [_rid(rng, "cag_") for _ in range(3)]
        self.users: list[dict] = []
        self.email_senders: list[dict] = []
        self._build_users(rng)
        self.approvers = [u for u in self.users if u["is_org_admin"]] or self.users[:1]
        self.tags = [self._tag(rng, name, color) for name, color in _TAG_DEFS]
        self.linked_integrations = [self._linked_integration(rng, k) for k in range(3)]
        self.workflows: list[dict] = [self._workflow(rng, k) for k in range(config.n_workflows)]
        self._workflow_by_id = {w["id"]: w for w in self.workflows}
        self._workflow_table = tuple(
            (w, 1.0 / (1.0 + 0.6 * k)) for k, w in enumerate(self.workflows)
        )
        self.partners: list[_Partner] = []
        used: set[str] = set()
        for k in range(config.n_partners):
            self.partners.append(self._partner(rng, k, used))
        self._partner_table = tuple((p, p.weight) for p in self.partners)

    # ----------------------------------------------------------------------------- public API

    def workflow_ids(self) -> list[str]:
        """Ids of the generator's outreach workflows (`otwfl_...`), in pool order."""
        return [w["id"] for w in self.workflows]

    def partner_ids(self) -> list[str]:
        """Ids of the pool's partners (`ptn_...`); every call's partner is one of them."""
        return [p.obj["id"] for p in self.partners]

    def invoice_ids(self, partner_id: str | None = None) -> list[str]:
        """Ids of the pool's invoices (`inv_...`), or of one partner's; calls cite only these."""
        return [
            inv["id"]
            for p in self.partners
            if partner_id is None or p.obj["id"] == partner_id
            for inv in p.invoices
        ]

    def call_id(self, index: int) -> str:
        """The id of call `index` (a bijection of the index, see `index_of`)."""
        if not 0 <= index <= _MASK64:
            raise ValueError(f"index out of range: {index}")
        x = ((index ^ self._id_key) * _MIX) & _MASK64
        x ^= x >> 32
        return "call_" + _b62(x, _CALL_ID_LEN)

    def index_of(self, call_id: str) -> int | None:
        """The index of a call id made by this generator, or None."""
        body = call_id[5:] if call_id.startswith("call_") else ""
        if len(body) != _CALL_ID_LEN or any(c not in _ALNUM for c in body):
            return None
        x = 0
        for c in body:
            x = x * 62 + _ALNUM.index(c)
        if x > _MASK64:
            return None
        x ^= x >> 32
        index = ((x * _MIX_INV) & _MASK64) ^ self._id_key
        return index if self.call_id(index) == call_id else None

    def is_drift(self, index: int) -> bool:
        """True when call `index` carries schema drift (per `schema_drift_share`)."""
        share = self.config.schema_drift_share
        return share > 0 and _unit("drift", self.config.seed, index) < share

    def default_created_at(self, index: int) -> datetime:
        """Default creation time of call `index` (before per-call jitter is applied)."""
        return datetime.fromtimestamp(self._epoch + index * self._step, tz=UTC)

    def call_json(self, index: int, **overrides: Any) -> bytes:
        """`call(index, **overrides)` as compact JSON bytes."""
        return orjson.dumps(self.call(index, **overrides))

    def call(
        self,
        index: int,
        *,
        workflow_id: str | None | object = ...,
        created_at: datetime | None = None,
    ) -> dict:
        """The call with this index: a pure function of (config, index) unless overrides given.

        workflow_id: omitted -> chosen by the generator (`no_workflow_share` of calls get none);
        a workflow id forces that workflow; None forces no workflow.
        created_at: None -> spread over `span_days` after the epoch, increasing with the index
        (`span_calls` indices span `span_days`); a datetime (naive = UTC) forces it.
        The returned dict shares sub-objects with other calls: do not mutate it in place.
        """
        cfg = self.config
        rng = random.Random(f"{cfg.seed}:{index}")
        # --- time and workflow (always drawn, so overrides do not shift other values)
        jitter = (rng.random() - 0.5) * min(self._step, 3600.0)
        created = int(self._epoch + index * self._step + jitter)
        if created_at is not None:
            if created_at.tzinfo is None:
                created_at = created_at.replace(tzinfo=UTC)
            created = int(created_at.timestamp())
        no_wf = rng.random() < cfg.no_workflow_share
        workflow = _pick(rng, self._workflow_table)
        if workflow_id is not ...:
            if workflow_id is None:
                workflow = None
            elif workflow_id in self._workflow_by_id:
                workflow = self._workflow_by_id[workflow_id]
            else:
                raise ValueError(f"unknown workflow id: {workflow_id!r}")
        elif no_wf:
            workflow = None

        partner: _Partner = _pick(rng, self._partner_table)
        direction = "inbound" if rng.random() < 0.12 else "outbound"
        reason = _pick(rng, _INBOUND_REASONS if direction == "inbound" else _OUTBOUND_REASONS)
        talked = reason in _TALKED_REASONS
        voicemail = reason == "voicemail_reached"
        contact = partner.contacts[0] if rng.random() < 0.7 else rng.choice(partner.contacts)

        # --- timing
        start = created + rng.randint(1, 9)
        if talked:
            duration = rng.randint(45, 420) if reason != "max_duration_reached" else 600
        elif voicemail:
            duration = rng.randint(22, 48)
        elif reason == "dial_no_answer":
            duration = rng.randint(25, 40)
        else:
            duration = rng.randint(0, 12)
        end = start + duration
        modified = end + rng.randint(4, 900)
        call_id = self.call_id(index)

        # --- invoices of the call
        n_inv = min(
            self._count(rng, cfg.max_invoices, (0.45, 0.42, 0.09, 0.04)), len(partner.invoices)
        )
        invoices = rng.sample(partner.invoices, n_inv) if n_inv else []
        promise_day = _date(created + rng.randint(2 * _DAY, 14 * _DAY))

        # --- classifications
        classes: list[str] = []
        if talked:
            n_cls = self._count(rng, cfg.max_classifications, (0.04, 0.5, 0.3, 0.16))
            if n_cls:
                primary = _pick(rng, _CLASSIFICATION_WEIGHTS)
                if direction == "inbound" and primary in ("wrong_contact", "not_available"):
                    primary = "payment_inquiry"
                classes.append(primary)
                while len(classes) < n_cls:
                    extra = _pick(rng, _CLASSIFICATION_WEIGHTS)
                    if extra not in classes and extra not in ("wrong_contact", "not_available"):
                        classes.append(extra)
                    elif rng.random() < 0.3:
                        break
        elif voicemail and cfg.max_classifications and rng.random() < 0.6:
            classes.append("not_available")
        if talked:
            sentiment = _pick(rng, _SENTIMENT_BY_CLASS[classes[0] if classes else "other"])
        elif voicemail:
            sentiment = "neutral" if rng.random() < 0.5 else "unknown"
        else:
            sentiment = "unknown"

        inv_number = (
            invoices[0]["number"]
            if invoices
            else (partner.invoices[0]["number"] if partner.invoices else "—")
        )
        ctx = {
            "contact": contact["given_name"],
            "contact_full": contact["name"],
            "company": partner.name,
            "org": self.org_name,
            "balance": partner.balance,
            "inv": inv_number,
            "promise": promise_day,
            "issued": (invoices[0] if invoices else partner.invoices[0])["issued_at"][:10],
        }
        approver = rng.choice(self.approvers) if rng.random() < 0.88 else None
        # the first classification is the primary one: confidence is non-increasing
        scores = sorted(
            (rng.randint(80, 99) if k == 0 else rng.randint(45, 85) for k in range(len(classes))),
            reverse=True,
        )
        classifications = [
            self._classification(rng, c, score, call_id, start, end, modified, ctx, approver)
            for c, score in zip(classes, scores, strict=True)
        ]

        # --- transcript
        transcript: Any = None
        transcript_str: str | None = ""
        if talked or voicemail:
            scenario = "voicemail" if voicemail else (classes[0] if classes else "other")
            turns, text = self._transcript(rng, scenario, direction, partner, contact, ctx)
            form = rng.random()
            if form < 0.55:
                transcript = _turns_with_words(turns, round(rng.uniform(0.3, 1.2), 3))
            elif form < 0.9:
                transcript = text
            transcript_str = text
        elif rng.random() < 0.3:
            transcript_str = None

        # --- the record (documented key order)
        if workflow is not None:
            call_reason = f"{workflow['name']}: open balance {partner.balance}"
        elif direction == "inbound":
            call_reason = f"Inbound call about invoice {inv_number}"
        else:
            call_reason = f"Manual outreach: open balance {partner.balance}"
        if direction == "outbound":
            from_number, to_number = self.org_phone, contact["phone"]
        else:
            from_number, to_number = contact["phone"], self.org_phone
        summary_bits = [_CLASS_TEXT[c][2].format_map(ctx) for c in classes] or [
            self._no_label_summary(reason, ctx)
        ]
        retell_id = "".join(rng.choices(_ALNUM, k=32))
        custom = []
        if talked and rng.random() < 0.2:
            custom = rng.sample(
                ["requested_w9", "portal_submission", "po_required", "remittance_sent"],
                rng.randint(1, 2),
            )

        invoice_objs: list[dict] = []
        amount_rng = (
            random.Random(f"{cfg.seed}:{index}:amounts") if cfg.string_amount_share > 0 else None
        )
        for inv in invoices:
            copy = dict(inv)
            copy["calls"] = [call_id]
            if "payment_promise" in classes and copy["amount_due"]:
                copy["promised_to_pay_date"] = promise_day
            if amount_rng is not None and amount_rng.random() < cfg.string_amount_share:
                for f in STRING_AMOUNT_FIELDS:
                    copy[f] = _money_str(
                        round(copy[f] * (100 if partner.decimals else 1)), partner.decimals
                    )
            invoice_objs.append(copy)

        call: dict[str, Any] = {
            "direction": direction,
            "object": "call",
            "to_number": to_number,
            "id": call_id,
            "agent_id": self.agent_id,
            "approver": approver,
            "approver_id": approver["id"] if approver else None,
            "call_agent_id": self.call_agent_ids[index % len(self.call_agent_ids)],
            "call_reason": call_reason,
            "classifications": classifications,
            "created_at": _iso(created),
            "custom_classifications": custom,
            "disconnection_reason": reason,
            "end_time": _iso(end),
            "from_number": from_number,
            "in_voicemail": voicemail,
            "invoices": invoice_objs,
            "is_automated": direction == "outbound" or rng.random() < 0.6,
            "modified_at": _iso(modified),
            "partner": partner.obj,
            "partner_id": partner.obj["id"],
            "recording_url": (
                f"https://recordings.stuut-calls.com/{retell_id}/recording.wav"
                if (talked or voicemail)
                else None
            ),
            "retell_id": retell_id,
            "sentiment": sentiment,
            "start_time": _iso(start),
            "status": "pending_approval" if rng.random() < 0.25 else "completed",
            "summary": " ".join(summary_bits),
            "transcript": transcript,
            "transcript_str": transcript_str,
            "transferred_to": (
                f"{self.org_phone[:-2]}{rng.randint(10, 99)}" if reason == "call_transfer" else None
            ),
            "workflow": workflow,
        }
        if self.is_drift(index):
            self._drift(call, index, partner, ctx, approver, start, end, modified)
        return call

    # ------------------------------------------------------------------------- per-call parts

    @staticmethod
    def _count(rng: random.Random, cap: int, weights: tuple[float, ...]) -> int:
        """0..cap, drawn from `weights` (probabilities of 0, 1, 2, 3...) and clipped to cap."""
        r = rng.random()
        n = len(weights) - 1
        for k, w in enumerate(weights):
            r -= w
            if r < 0:
                n = k
                break
        if cap > len(weights) - 1 and n == len(weights) - 1:
            n += rng.randint(0, cap - n)
        return min(n, cap)

    @staticmethod
    def _no_label_summary(reason: str, ctx: dict) -> str:
        if reason in _TALKED_REASONS:
            return "Spoke with {contact_full} about {balance}; no outcome recorded.".format_map(ctx)
        if reason == "voicemail_reached":
            return (
                "Reached voicemail of {contact_full}; left a message about {balance}.".format_map(
                    ctx
                )
            )
        return f"The call did not connect ({reason.replace('_', ' ')})."

    def _classification(
        self,
        rng: random.Random,
        label: str,
        score: int,
        call_id: str,
        start: int,
        end: int,
        modified: int,
        ctx: dict,
        approver: dict | None,
    ) -> dict:
        cfg = self.config
        created = end + rng.randint(3, 40)
        reason_t, action_t, _ = _CLASS_TEXT.get(label, _CLASS_TEXT["other"])
        n_tasks = self._count(rng, cfg.max_tasks, (0.3, 0.5, 0.2))
        action_required = n_tasks > 0 or label in ("complaint", "refund_request")
        uncertainties = rng.sample(_UNCERTAINTIES, rng.randint(1, 2)) if score < 88 else []
        return {
            "agent_reply_reason": (
                "The contact asked for a written follow-up."
                if action_required
                else "No reply is needed; the call resolved the request."
            ),
            "classification": label,
            "is_action_required": action_required,
            "is_reply_required": action_required and rng.random() < 0.6,
            "object": "call_classification",
            "reason": reason_t.format_map(ctx),
            "action_recommendation": action_t.format_map(ctx),
            "agent_confidence_reason": (
                "The contact stated this explicitly and confirmed it when asked."
                if score >= 88
                else "The contact's statement was indirect; inferred from context."
            ),
            "agent_confidence_score": score,
            "agent_error_code": (
                None if rng.random() < 0.9 else rng.choice(("low_confidence", "partial_audio"))
            ),
            "agent_uncertainties": uncertainties,
            "created_at": _iso(created),
            "language": _pick(rng, _LANGUAGES),
            "modified_at": _iso(max(created, modified)),
            "tasks": [
                self._task(rng, label, call_id, created, ctx, approver) for _ in range(n_tasks)
            ],
        }

    def _task(
        self,
        rng: random.Random,
        label: str,
        call_id: str,
        created: int,
        ctx: dict,
        approver: dict | None,
    ) -> dict:
        task_id = _rid(rng, "task_")
        ttype, tlabel = _TASK_TYPES.get(label, _TASK_TYPES["other"])
        status = _pick(rng, (("open", 55), ("completed", 35), ("closed", 10)))
        assignee = rng.choice(self.users) if rng.random() < 0.8 else None
        modified = created + (
            rng.randint(600, 5 * _DAY) if status != "open" else rng.randint(0, 60)
        )
        event_id = _rid(rng, "evt_")
        email_id = _rid(rng, "eml_")
        n_data = rng.randint(0, 2)
        data = [
            {
                "object": "task_data",
                "source": "email" if rng.random() < 0.6 else "call",
                "task_id": task_id,
                "type": "response" if rng.random() < 0.7 else "note",
                "id": _rid(rng, "tdat_"),
                "created_at": _iso(created + 60 * (j + 1)),
                "data": (
                    {"text": f"{ctx['contact']} replied: thanks, noted.", "email_id": email_id}
                    if rng.random() < 0.7
                    else "Left a note for the account manager."
                ),
                "modified_at": _iso(created + 60 * (j + 1)),
            }
            for j in range(n_data)
        ]
        return {
            "label": tlabel,
            "object": "task",
            "organization_id": self.organization_id,
            "type": ttype,
            "id": task_id,
            "action_taken": {"completed": "complete", "closed": "dismiss"}.get(status),
            "assignee": assignee,
            "assignee_id": assignee["id"] if assignee else None,
            "close_reason": (
                "Handled by the account manager"
                if status == "closed"
                else ("Done" if status == "completed" else None)
            ),
            "completed_action": (
                {"type": "email_sent", "email_id": email_id} if status == "completed" else {}
            ),
            "created_at": _iso(created),
            "data": data,
            "description": f"{tlabel} for {ctx['company']} (invoice {ctx['inv']}).",
            "error_reason": None if rng.random() < 0.92 else "Email sender grant expired",
            "modified_at": _iso(modified),
            "status": status,
            "trigger_event": {
                "name": "call.classified",
                "object": "event",
                "id": event_id,
                "actor_id": self.agent_id,
                "created_at": _iso(created),
                "data": {"classification": label, "call_id": call_id},
                "entity": {"object": "call", "id": call_id},
                "entity_id": call_id,
                "message": f"Call classified as {label}",
                "modified_at": _iso(created),
                "timestamp": _iso(created),
            },
            "trigger_event_id": event_id,
        }

    def _transcript(
        self,
        rng: random.Random,
        scenario: str,
        direction: str,
        partner: _Partner,
        contact: dict,
        ctx: dict,
    ) -> tuple[list[tuple[str, str]], str]:
        """The call's conversation as (role, content) turns, and its plain-text form."""
        if scenario == "voicemail":
            raw = list(_VOICEMAIL)
        else:
            raw = list(_OUT_OPEN if direction == "outbound" else _IN_OPEN)
            if scenario == "wrong_contact" and direction == "outbound":
                raw = raw[:1]
            raw += _BODIES.get(scenario, _BODIES["other"])
            for extra in rng.sample(_EXTRAS, rng.randint(1, 3)):
                raw += extra
            raw += _CLOSE
        tctx = {
            **ctx,
            "agent": self.agent_name,
            "org_phone": self.org_phone,
            "postal": partner.postal,
            "email": contact["email"],
        }
        turns = [(role, text.format_map(tctx)) for role, text in raw]
        text = "\n".join(f"{'Agent' if r == 'agent' else 'User'}: {c}" for r, c in turns)
        return turns, text

    def _drift(
        self,
        call: dict,
        index: int,
        partner: _Partner,
        ctx: dict,
        approver: dict | None,
        start: int,
        end: int,
        modified: int,
    ) -> None:
        """Apply schema drift to a freshly built call (only its own, unshared parts)."""
        rng = random.Random(f"{self.config.seed}:{index}:drift")
        call["sentiment"] = DRIFT_SENTIMENT
        call[DRIFT_CALL_FIELD] = rng.randint(1, 3)
        classifications = call["classifications"]
        if not classifications:
            classifications.append(
                self._classification(
                    rng, DRIFT_CLASSIFICATION, 90, call["id"], start, end, modified, ctx, approver
                )
            )
        target = rng.choice(classifications)
        target["classification"] = DRIFT_CLASSIFICATION
        target[DRIFT_CLASSIFICATION_FIELD] = rng.choice(
            ("attorney_letter", "small_claims", "collections_agency")
        )
        invoices = call["invoices"]
        if not invoices:
            copy = dict(rng.choice(partner.invoices))
            copy["calls"] = [call["id"]]
            invoices.append(copy)
        rng.choice(invoices)[DRIFT_INVOICE_FIELD] = rng.choice(
            ("pre_legal", "agency", "internal_escalation")
        )

    # ------------------------------------------------------------------------ pool builders

    def _build_users(self, rng: random.Random) -> None:
        base = self._epoch - 400 * _DAY
        for k in range(self.config.n_users):
            given = _GIVEN[(k * 7 + rng.randrange(5)) % len(_GIVEN)]
            family = rng.choice(_FAMILY)
            email = f"{_ascii(given)}.{_ascii(family)}@{self.org_domain}"
            created = base + rng.randint(0 * _DAY, 200 * _DAY) + rng.randint(0, _DAY)
            sender_id = _rid(rng, "esnd_")
            user_id = _rid(rng, "usr_")
            self.email_senders.append(
                {
                    "email": email,
                    "object": "email_sender",
                    "reply_to": f"ar@{self.org_domain}",
                    "user_id": user_id,
                    "id": sender_id,
                    "created_at": _iso(created),
                    "expired_at": _iso(created + 300 * _DAY) if k % 5 == 4 else None,
                    "is_nylas_connection": k % 3 != 2,
                    "is_nylas_grant_expired": k % 5 == 4,
                    "is_shared": k == 0,
                    "modified_at": _iso(created + rng.randint(1 * _DAY, 90 * _DAY)),
                    "name": f"{given} {family}",
                    "provider": _EMAIL_PROVIDERS[k % 3],
                    "reply_to_name": f"{self.org_name} Accounts Receivable",
                    "signature_html": (
                        f"<p>{given} {family}<br/>Accounts Receivable · {self.org_name}<br/>"
                        f"{self.org_phone}</p>"
                    ),
                }
            )
            self.users.append(
                {
                    "email": email,
                    "family_name": family,
                    "given_name": given,
                    "object": "user",
                    "organization_id": self.organization_id,
                    "id": user_id,
                    "created_at": _iso(created),
                    "dashboard_settings": {
                        "thread_emails_sort_order": "asc" if rng.random() < 0.6 else "desc"
                    },
                    "default_email_sender_id": sender_id,
                    "invited_by_user_id": self.users[0]["id"] if self.users else None,
                    "is_access_approved": True,
                    "is_org_admin": k < max(2, self.config.n_users // 4),
                    "modified_at": _iso(created + rng.randint(1 * _DAY, 120 * _DAY)),
                    "name": f"{given} {family}",
                    "onboarding_required": k % 6 == 5,
                    "profile_picture": (
                        f"https://cdn.stuut-assets.com/avatars/{user_id}.png"
                        if k % 4 != 3
                        else None
                    ),
                    "selected": k == 0,
                }
            )

    def _tag(self, rng: random.Random, name: str, color: str) -> dict:
        created = self._epoch - rng.randint(100 * _DAY, 300 * _DAY)
        return {
            "name": name,
            "object": "tag",
            "id": _rid(rng, "tag_"),
            "color": color,
            "created_at": _iso(created),
            "modified_at": _iso(created + rng.randint(0 * _DAY, 50 * _DAY)),
            "rule_condition": (
                {"field": "days_past_due", "op": "gt", "value": 60} if name == "Slow payer" else {}
            ),
        }

    def _health(self, rng: random.Random) -> dict:
        status = _pick(rng, (("healthy", 80), ("incomplete", 12), ("error", 8)))
        if status == "error":
            return {
                "status": status,
                "details": {"http_status": 401},
                "message": "Access token expired",
                "reason": "auth_expired",
            }
        return {"status": status, "details": None, "message": None, "reason": None}

    def _linked_integration(self, rng: random.Random, k: int) -> dict:
        name, display, api_base, subdomain, category = (
            ("netsuite", "NetSuite", "https://{sub}.suitetalk.api.netsuite.com", True, "erp"),
            ("quickbooks", "QuickBooks Online", "https://quickbooks.api.intuit.com", False,
             "accounting"),
            ("xero", "Xero", "https://api.xero.com", False, "accounting"),
        )[k]  # fmt: skip
        created = self._epoch - rng.randint(200 * _DAY, 500 * _DAY)
        li_id = _rid(rng, "lint_")
        sub = str(rng.randint(1_000_000, 9_999_999)) if subdomain else None
        models = []
        for model in ("invoice", "customer", "payment")[:1]:
            m_id = _rid(rng, "lmod_")
            sync_id = _rid(rng, "sync_")
            run_id = _rid(rng, "run_")
            last = self._epoch - rng.randint(1, 20) * 3600
            failed = k == 1 or rng.random() < 0.1
            models.append(
                {
                    "integration_schema_id": _rid(rng, "isch_"),
                    "linked_integration_id": li_id,
                    "name": model,
                    "object": "linked_model",
                    "id": m_id,
                    "created_at": _iso(created + 3600),
                    "exclude_rule": {"status": ["voided"]} if model == "invoice" else {},
                    "field_mappings": {"number": "tranId", "due_date": "dueDate"},
                    "health": self._health(rng),
                    "is_read_enabled": True,
                    "is_webhooks_setup": name != "xero",
                    "is_write_enabled": model == "payment",
                    "last_sync": {
                        "linked_model_id": m_id,
                        "object": "sync",
                        "run_id": run_id,
                        "id": sync_id,
                        "created_at": _iso(last),
                        "entity_id": _rid(rng, "ent_"),
                        "is_initial_sync": False,
                        "is_one_off": rng.random() < 0.1,
                        "modified_at": _iso(last + 240),
                        "pagination": {"cursor": _hex(rng, 12), "page_size": 100},
                        "run": {
                            "object": "run",
                            "id": run_id,
                            "completed_at": _iso(last + 230),
                            "created_at": _iso(last),
                            "data": {"model": model},
                            "event_id": _rid(rng, "evt_"),
                            "modified_at": _iso(last + 240),
                            "output": {"records_read": rng.randint(0, 900), "records_written": 0},
                            "remote_id": _hex(rng, 16),
                            "stacktrace": (
                                "Traceback (most recent call last):\n  ...\n"
                                "TimeoutError: upstream timed out"
                                if failed
                                else None
                            ),
                            "started_at": _iso(last + 5),
                            "status": "failed" if failed else "succeeded",
                        },
                        "timerange_end": _iso(last),
                        "timerange_start": _iso(last - 3600),
                    },
                    "last_sync_id": sync_id,
                    "modified_at": _iso(last + 240),
                    "next_sync_at": _iso(last + 3600),
                    "sync_requested": False,
                }
            )
        integration = {
            "display_name": display,
            "name": name,
            "object": "integration",
            "api_base_url": api_base,
            "api_documentation_url": f"https://developer.{name}.com/docs" if k != 2 else None,
            "api_requires_subdomain": subdomain,
            "auth_type": "oauth2" if k else "token",
            "categories": [category, "accounting"] if category == "erp" else [category],
            "color": ("#1B3A5B", "#2CA01C", "#13B5EA")[k],
            "connection_guide_url": f"https://docs.stuut-assets.com/integrations/{name}",
            "connection_instructions": None,
            "connection_steps": [
                {
                    "type": "oauth" if k else "fetch",
                    "title": f"Connect your {display} account",
                    "description": None,
                    "endpoint": None,
                    "fields": None,
                    "post_auth": False,
                }
            ],
            "created_at": _iso(created - 400 * _DAY),
            "description": None,
            "is_enabled": True,
            "logo": f"https://cdn.stuut-assets.com/integrations/{name}.svg",
            "logo_square": None,
            "modified_at": _iso(created - 100 * _DAY),
            "settings": [
                {
                    "key": "sync_interval_minutes",
                    "type": "any",
                    "choices": None,
                    "description": None,
                    "format": "text",
                    "group": None,
                    "guide_url": None,
                    "is_editable": True,
                    "is_required": True,
                    "is_select": False,
                    "label": "Sync interval (minutes)",
                    "post_auth": False,
                    "requires_load": False,
                }
            ],
            "short_description": f"Sync invoices, customers and payments with {display}.",
        }
        return {
            "integration_name": name,
            "is_configured": True,
            "object": "linked_integration",
            "settings": {"sync_interval_minutes": 60, "import_closed_invoices": False},
            "id": li_id,
            "api_subdomain": sub,
            "api_url": api_base.replace("{sub}", sub or ""),
            "connection_info": {"account_id": sub or _hex(rng, 8)},
            "created_at": _iso(created),
            "credentials_expire_at": _iso(self._epoch + rng.randint(30 * _DAY, 300 * _DAY)),
            "health": self._health(rng),
            "identity_info": {"company_name": self.org_name},
            "integration": integration,
            "is_running_setup": False,
            "is_sync_disabled": False,
            "is_webhooks_enabled": name != "xero",
            "models": models,
            "modified_at": _iso(created + rng.randint(1 * _DAY, 100 * _DAY)),
            "name": f"{display} (production)",
            "owner_id": self.users[0]["id"],
            "requires_setup": False,
            "username": f"integrations@{self.org_domain}",
            "webhook_listener_url": f"https://hooks.stuut-assets.com/{li_id}",
            "webhook_setup_error": None if name != "xero" else "Webhooks not supported",
        }

    def _workflow(self, rng: random.Random, k: int) -> dict:
        name = _WORKFLOW_NAMES[k % len(_WORKFLOW_NAMES)]
        if k >= len(_WORKFLOW_NAMES):
            name += f" #{k // len(_WORKFLOW_NAMES) + 1}"
        created = self._epoch - rng.randint(30 * _DAY, 200 * _DAY)
        weekend = k % 4 == 3
        start_h = rng.choice((8, 9, 10))
        return {
            "id": _rid(rng, "otwfl_", 20),
            "active_days": [1, 2, 3, 4, 5, 6] if weekend else [1, 2, 3, 4, 5],
            "created_at": _iso(created),
            "email_sender_id": self.email_senders[k % len(self.email_senders)]["id"],
            "is_active": True,
            "is_call_on_weekend_enabled": weekend,
            "modified_at": _iso(created + rng.randint(1 * _DAY, 25 * _DAY)),
            "name": name,
            "object": "outreach_workflow",
            "outreach_window_end": f"{start_h + 8:02d}:00",
            "outreach_window_start": f"{start_h:02d}:00",
            "pending_run_strategy": "send_all" if k % 2 == 0 else "send_latest",
            "test_email": f"ar-test@{self.org_domain}",
            "test_phone_number": self.org_phone,
            "timezone": _WORKFLOW_TZ[k % len(_WORKFLOW_TZ)],
        }

    @staticmethod
    def _fill(rng: random.Random, pattern: str) -> str:
        return "".join(str(rng.randrange(10)) if c == "#" else c for c in pattern)

    def _phone(self, rng: random.Random, region: tuple) -> str:
        return region[4] + str(rng.randint(2, 9)) + self._fill(rng, "#" * (region[5] - 1))

    def _address(
        self, rng: random.Random, region: tuple, kind: str, name: str, phone: str, with_id: bool
    ) -> dict:
        city, state, postal, lat, lng, _tz = rng.choice(region[7])
        created = self._epoch - rng.randint(100 * _DAY, 700 * _DAY)
        street = rng.choice(region[8])
        line1 = street if region[0] == "JP" else f"{rng.randint(1, 480)} {street}"
        if region[0] in ("DE", "NO", "ES", "FR", "BR", "CH"):
            line1 = f"{street} {rng.randint(1, 120)}"
        addr: dict[str, Any] = {"object": "address"}
        if with_id:
            addr["id"] = _rid(rng, "addr_")
        addr.update(
            {
                "city": city,
                "coordinates": {
                    "lat": round(lat + rng.uniform(-0.05, 0.05), 5),
                    "lng": round(lng + rng.uniform(-0.05, 0.05), 5),
                },
                "country": region[0],
                "created_at": _iso(created),
                "description": "Head office" if kind == "billing" else None,
            }
        )
        if with_id:
            addr["is_primary"] = kind == "billing"
        addr.update(
            {
                "line1": line1,
                "line2": rng.choice((None, None, "Suite 200", "2nd floor", "Gebäude B")),
                "modified_at": _iso(created + rng.randint(0 * _DAY, 60 * _DAY)),
                "name": name,
            }
        )
        if not with_id:
            addr["phone"] = phone
        addr["postal_code"] = self._fill(rng, postal)
        if not with_id:
            addr["remote_id"] = str(rng.randint(10_000, 99_999))
        addr["state"] = state
        addr["type"] = kind
        return addr

    def _contact(
        self, rng: random.Random, region: tuple, partner_id: str, domain: str, k: int
    ) -> dict:
        given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
        created = self._epoch - rng.randint(30 * _DAY, 600 * _DAY)
        phone = self._phone(rng, region)
        address = self._address(rng, region, "billing", f"{given} {family}", phone, False)
        return {
            "email": f"{_ascii(given)}.{_ascii(family)}@{domain}",
            "object": "contact",
            "partner_id": partner_id,
            "id": _rid(rng, "cnt_"),
            "address": address,
            "address_id": rng.randint(10_000, 999_999),
            "addresses": [
                self._address(rng, region, kind, f"{given} {family}", phone, True)
                for kind in ("billing", "office")[: 1 + (rng.random() < 0.15)]
            ],
            "created_at": _iso(created),
            "custom_fields": {"preferred_language": rng.choice(("en", "de", "es", "fr", "ja"))},
            "external_role": _pick(rng, _EXTERNAL_ROLES),
            "family_name": family,
            "given_name": given,
            "internal_role": _pick(rng, _INTERNAL_ROLES),
            "is_email_disabled": rng.random() < 0.05,
            "is_phone_disabled": rng.random() < 0.05,
            "is_primary": k == 0,
            "is_primary_email": k == 0,
            "is_primary_phone": k == 0,
            "job_title": rng.choice(_JOB_TITLES),
            "modified_at": _iso(created + rng.randint(0 * _DAY, 30 * _DAY)),
            "name": f"{given} {family}",
            "phone": phone,
            "remote_created_at": _iso(created - 3600),
            "remote_id": str(rng.randint(1000, 99_999)),
            "remote_metadata": {"source": "crm", "synced": True},
            "remote_modified_at": _iso(created + 3600),
            "status_metadata": {"bounced": False} if rng.random() < 0.5 else None,
        }

    def _partner(self, rng: random.Random, k: int, used: set[str]) -> _Partner:
        region = _pick(rng, _REGION_TABLE)
        home = rng.choice(region[7])
        local = (*region[:7], (home,), *region[8:])  # the partner's own city
        p = _Partner()
        p.index = k
        p.region = region
        p.currency, p.decimals = region[2], region[3]
        is_company = rng.random() < 0.9
        base = rng.choice(region[9])
        suffix = rng.choice(region[10])
        name = f"{base} {suffix}".strip() if is_company else ""
        if not is_company:
            name = f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"
        if name in used:
            name = f"{name} ({home[0]})"
        n = 2
        while name in used:
            name = f"{base} {suffix} {n}".strip()
            n += 1
        used.add(name)
        p.name = name
        slug = _ascii(base if is_company else name) or f"partner{k}"
        tld = {"US": "com", "CA": "ca", "GB": "co.uk", "JP": "co.jp", "BR": "com.br"}.get(
            region[0], region[0].lower()
        )
        p.domain = domain = f"{slug}.{tld}"
        p.timezone = home[5]
        p.weight = 1.0 / (1 + (k % 10)) + 0.15
        partner_id = _rid(rng, "ptn_")
        created = self._epoch - rng.randint(200 * _DAY, 900 * _DAY)
        n_contacts = 1 + (rng.random() < 0.25)
        contacts = [self._contact(rng, local, partner_id, domain, j) for j in range(n_contacts)]
        p.contacts = contacts
        main = contacts[0]
        p.phone = self._phone(rng, region)
        p.email = f"ap@{domain}"
        billing = self._address(rng, local, "billing", name, p.phone, False)
        p.postal = billing["postal_code"]
        shipping = (
            billing
            if rng.random() < 0.6
            else self._address(rng, region, "shipping", name, p.phone, False)
        )
        assignee = rng.choice(self.users)
        linked = self.linked_integrations[{1: 1, 3: 2}.get(k % 5, 0)]
        portals = []
        if rng.random() < 0.3:
            provider = rng.choice(_AP_PROVIDERS)
            pcreated = created + rng.randint(10 * _DAY, 100 * _DAY)
            acct_id = _rid(rng, "apa_")
            portals.append(
                {
                    "object": "ap_portal",
                    "partner_id": partner_id,
                    "id": _rid(rng, "app_"),
                    "account": {
                        "object": "ap_portal_account",
                        "organization_id": self.organization_id,
                        "provider": provider,
                        "id": acct_id,
                        "available_operations": ["submit_invoice", "download_report"],
                        "created_at": _iso(pcreated),
                        "modified_at": _iso(pcreated + _DAY),
                    },
                    "account_id": acct_id,
                    "account_key": f"{provider}-{_hex(rng, 8)}",
                    "created_at": _iso(pcreated),
                    "customer_identifier": f"SUP-{rng.randint(10_000, 99_999)}",
                    "customer_name": name,
                    "invoice_submission_guidelines": (
                        "Submit PDF invoices with the PO number in the header; one invoice per PO."
                    ),
                    "is_enabled": True,
                    "is_invoice_submission_enabled": rng.random() < 0.8,
                    "is_report_download_enabled": rng.random() < 0.5,
                    "modified_at": _iso(pcreated + rng.randint(1 * _DAY, 60 * _DAY)),
                    "name": f"{name} {provider.title()} portal",
                    "provider": provider,
                    "report_email": f"reports+{slug}@{self.org_domain}",
                    "report_frequency": rng.choice(("daily", "weekly", "monthly")),
                }
            )
        tags = []
        for tag in rng.sample(self.tags, rng.randint(0, 2)):
            tags.append(
                {
                    "object": "partner_tag",
                    "partner_id": partner_id,
                    "tag_id": tag["id"],
                    "created_at": tag["created_at"],
                    "is_manual": tag["name"] != "Slow payer",
                    "modified_at": tag["modified_at"],
                    "tag": tag,
                }
            )
        last_outreach = self._epoch - rng.randint(1 * _DAY, 20 * _DAY)
        obj = {
            "id": partner_id,
            "account_number": f"C-{rng.randint(10_000, 99_999)}",
            "ap_portals": portals,
            "assignee": assignee,
            "assignee_id": assignee["id"],
            "billing_address": billing,
            "billing_address_id": rng.randint(10_000, 999_999),
            "contacts": contacts,
            "created_at": _iso(created),
            "currency": p.currency,
            "custom_fields": {"segment": rng.choice(("SMB", "Mid-market", "Enterprise"))},
            "description": f"{'Customer' if is_company else 'Individual customer'} since "
            f"{_date(created)[:4]}; billed in {p.currency}.",
            "email": p.email,
            "family_name": main["family_name"],
            "finix_identity_id": ("ID" + "".join(rng.choices(_ALNUM, k=22)))
            if rng.random() < 0.4
            else None,
            "given_name": main["given_name"],
            "invoice_prefix": (_ascii(base)[:3].upper() or "INV") + "-",
            "is_active": rng.random() < 0.95,
            "is_company": is_company,
            "is_email_disabled": rng.random() < 0.04,
            "is_phone_disabled": rng.random() < 0.04,
            "is_primary_email": True,
            "is_primary_phone": True,
            "last_outreach_at": _iso(last_outreach),
            "last_outreach_channel": rng.choice(("email", "call", "email", "sms")),
            "last_outreach_to": main["email"],
            "last_synced_at": _iso(self._epoch - rng.randint(1, 48) * 3600),
            "legal_name": name if is_company else main["name"],
            "linked_integration": linked,
            "modified_at": _iso(created + rng.randint(30 * _DAY, 200 * _DAY)),
            "name": name,
            "object": "partner",
            "on_behalf_of": self.org_name if rng.random() < 0.2 else None,
            "on_behalf_of_phone": self.org_phone if rng.random() < 0.2 else None,
            "organization_id": self.organization_id,
            "parent_id": (self.partners[0].obj["id"] if self.partners and k % 13 == 12 else None),
            "phone": p.phone,
            "remote_created_at": _iso(created - _DAY),
            "remote_id": str(rng.randint(100, 99_999)),
            "remote_metadata": {"terms": rng.choice(("Net 30", "Net 45", "Net 60"))},
            "remote_modified_at": _iso(created + rng.randint(1 * _DAY, 100 * _DAY)),
            "remote_parent_id": None,
            "remote_payment_portal_url": f"https://pay.stuut-assets.com/{partner_id}",
            "shipping_address": shipping,
            "status_metadata": {"credit_hold": rng.random() < 0.1},
            "sync_status": _pick(rng, (("synced", 80), ("partial", 15), ("failed", 5))),
            "tags": tags,
            "tax_number": f"{region[6]}{rng.randint(100_000_000, 999_999_999)}",
            "timezone": p.timezone,
        }
        if obj["parent_id"]:
            obj["remote_parent_id"] = self.partners[0].obj["remote_id"]
        p.obj = obj
        p.shipping_id = obj["billing_address_id"] + (0 if shipping is billing else 1)
        # invoice.partner documents two more fields than call.partner (see list-calls.txt)
        items = list(obj.items())
        at = [key for key, _ in items].index("is_company")
        items.insert(at, ("is_call_outreach_manually_paused", rng.random() < 0.05))
        at = [key for key, _ in items].index("is_email_disabled") + 1
        items.insert(at, ("is_email_outreach_manually_paused", rng.random() < 0.05))
        p.inv_obj = dict(items)
        n_inv = rng.randint(2, 7)
        balance = 0
        for j in range(n_inv):
            inv = self._invoice(rng, p, j, linked)
            p.invoices.append(inv)
            balance += inv["_due_units"]
            del inv["_due_units"]
        p.balance = _fmt_amount(balance, p.currency, p.decimals)
        return p

    def _invoice(self, rng: random.Random, p: _Partner, j: int, linked: dict) -> dict:
        dec = p.decimals  # amounts are kept in minor units (JPY: whole yen)
        issued = self._epoch - rng.randint(3 * _DAY, 150 * _DAY) + rng.randint(0, _DAY)
        terms = rng.choice((15, 30, 30, 45, 60))
        due = issued + terms * _DAY
        inv_id = _rid(rng, "inv_")
        number = f"{p.obj['invoice_prefix']}{rng.randint(10_000, 99_999)}"
        currency = p.currency
        # line items
        lines = []
        subtotal = disc_total = tax_total = 0
        tax_rate = {"US": 0.0825, "CA": 0.13, "JP": 0.10, "BR": 0.0, "CH": 0.081}.get(
            p.region[0], 0.2
        )
        for n in range(1 + rng.randrange(3)):
            pname, ptype, unit, qmax = rng.choice(_PRODUCTS)
            qty = rng.randint(1, qmax)
            gross = unit * qty
            disc = round(gross * rng.choice((0, 0, 0, 0.05, 0.1)))
            tax = round((gross - disc) * tax_rate)
            subtotal += gross
            disc_total += disc
            tax_total += tax
            start = issued - 30 * _DAY
            lines.append(
                {
                    "invoice_id": inv_id,
                    "object": "line_item",
                    "remote_id": str(rng.randint(100_000, 999_999)),
                    "created_at": _iso(issued),
                    "currency": currency,
                    "custom_fields": {"gl_account": str(rng.choice((4000, 4010, 4100)))},
                    "description": f"{pname} – {_date(start)} to {_date(issued)}",
                    "line_number": n + 1,
                    "modified_at": _iso(issued + 60),
                    "name": pname,
                    "period_end_date": _iso(issued),
                    "period_start_date": _iso(start),
                    "product_type": ptype,
                    "quantity": qty,
                    "remote_created_at": _iso(issued - 60),
                    "remote_metadata": {"item_id": str(rng.randint(100, 999))},
                    "remote_modified_at": _iso(issued),
                    "total_amount": _money(gross - disc + tax, dec),
                    "total_discount": _money(disc, dec),
                    "total_tax": _money(tax, dec),
                    "unit_amount": _money(unit, dec),
                }
            )
        total = subtotal - disc_total + tax_total
        state = _pick(rng, (("open", 58), ("partial", 30), ("paid", 12)))
        if state == "open":
            paid_units = 0
        elif state == "paid":
            paid_units = total
        else:
            paid_units = round(total * rng.uniform(0.2, 0.8))
        due_units = total - paid_units
        overdue = due < self._epoch
        status = (
            "paid"
            if due_units == 0
            else ("partially_paid" if paid_units else ("overdue" if overdue else "open"))
        )
        # payments (sum == amount_paid)
        payments = []
        if paid_units:
            parts = [paid_units] if rng.random() < 0.7 or paid_units < 2 else None
            if parts is None:
                first = paid_units // 2
                parts = [first, paid_units - first]
            for part in parts:
                payments.append(self._payment(rng, p, inv_id, part, issued))
        paid_at = _iso(issued + rng.randint(5 * _DAY, 40 * _DAY)) if status == "paid" else None
        assignee = p.obj["assignee"] if rng.random() < 0.8 else rng.choice(self.users)
        emails = [self._email(rng, p, number, issued, e) for e in range(_pick(rng, _EMAIL_COUNTS))]
        if len(emails) == 2:  # a reply or a follow-up in the same thread
            emails[1]["thread_id"] = emails[0]["thread_id"]
            emails[1]["parent_email_id"] = emails[0]["id"]
        inv = {
            "amount_due": _money(due_units, dec),
            "currency": currency,
            "object": "invoice",
            "remote_id": str(rng.randint(100_000, 999_999)),
            "total_amount": _money(total, dec),
            "id": inv_id,
            "amount_paid": _money(paid_units, dec),
            "assignee": assignee,
            "billing_address": p.obj["billing_address"],
            "billing_address_id": p.obj["billing_address_id"],
            "billing_email": p.email,
            "calls": [],
            "created_at": _iso(issued),
            "custom_fields": {"region": p.region[0], "sales_rep": assignee["name"]},
            "due_date": _iso(due),
            "emails": emails,
            "in_dispute": rng.random() < 0.08,
            "is_issued_email_sent": True,
            "issued_at": _iso(issued),
            "last_outreach_at": _iso(min(self._epoch, due + rng.randint(1 * _DAY, 20 * _DAY))),
            "last_outreach_channel": rng.choice(("email", "call")),
            "last_outreach_to": p.contacts[0]["email"],
            "last_synced_at": _iso(self._epoch - rng.randint(1, 30) * 3600),
            "line_items": lines,
            "linked_integration": linked,
            "marked_uncollectible_at": (
                _iso(due + 90 * _DAY) if rng.random() < 0.1 and status != "paid" else None
            ),
            "memo": rng.choice(
                (
                    "Thank you for your business.",
                    "Please reference the invoice number with your payment.",
                    "Vielen Dank für Ihren Auftrag.",
                    None,
                )
            ),
            "modified_at": _iso(self._epoch - rng.randint(1, 72) * 3600),
            "number": number,
            "order_number": f"SO-{rng.randint(1000, 9999)}",
            "paid_at": paid_at,
            "partner": p.inv_obj,
            "partner_id": p.obj["id"],
            "payments": payments,
            "pdf": {"url": f"https://files.stuut-assets.com/invoices/{inv_id}.pdf", "pages": 1},
            "pdf_id": _rid(rng, "file_"),
            "period_end_date": _iso(issued),
            "period_start_date": _iso(issued - 30 * _DAY),
            "private_note": "Customer asked for paper copy." if rng.random() < 0.15 else None,
            "promised_to_pay_date": (
                _date(self._epoch + rng.randint(1 * _DAY, 10 * _DAY))
                if rng.random() < 0.15 and due_units
                else None
            ),
            "purchase_order_number": f"PO-{rng.randint(100_000, 999_999)}"
            if rng.random() < 0.7
            else None,
            "remote_created_at": _iso(issued - 120),
            "remote_invoice_pdf": f"https://erp.example-remote.com/inv/{inv_id}.pdf",
            "remote_metadata": {"terms": f"Net {terms}"},
            "remote_modified_at": _iso(self._epoch - rng.randint(1, 30) * 3600),
            "remote_partner_id": p.obj["remote_id"],
            "remote_payment_portal_url": f"https://pay.stuut-assets.com/i/{inv_id}",
            "remote_payment_status": {
                "paid": "paid",
                "partially_paid": "partially_paid",
            }.get(status, rng.choice(("unpaid", "processing"))),
            "remote_status": "Paid In Full" if status == "paid" else "Open",
            "requires_line_item_sync": rng.random() < 0.05,
            "shipping_address": p.obj["shipping_address"],
            "shipping_address_id": p.shipping_id,
            "status": status,
            "subtotal": _money(subtotal, dec),
            "sync_status": _pick(rng, (("synced", 85), ("partial", 12), ("failed", 3))),
            "total_discount": _money(disc_total, dec),
            "total_tax": _money(tax_total, dec),
            "type": "receivable" if rng.random() < 0.97 else "payable",
            "voided_at": None,
            "_due_units": due_units,
        }
        if rng.random() < 0.08 and status != "paid":
            inv["voided_at"] = _iso(issued + 3 * _DAY)
            inv["status"] = "voided"
            inv["remote_status"] = "Voided"
        return inv

    def _payment(
        self, rng: random.Random, p: _Partner, inv_id: str, units: int, issued: int
    ) -> dict:
        dec = p.decimals
        when = issued + rng.randint(3 * _DAY, 40 * _DAY)
        pay_id = _rid(rng, "pay_")
        approver = rng.choice(self.approvers)
        score = rng.randint(70, 99)
        method = rng.choice(("ach", "ach", "wire", "card", "check"))
        status = _pick(rng, (("succeeded", 70), ("pending_match", 20), ("matched", 10)))
        return {
            "amount": _money(units, dec),
            "invoice_id": inv_id,
            "object": "invoice_payment",
            "payment_id": pay_id,
            "strategy": "automatic" if score >= 85 else "manual",
            "id": _rid(rng, "ipay_"),
            "agent_confidence_reason": "Remittance advice references the invoice number.",
            "agent_confidence_score": score,
            "agent_error_code": None if score >= 75 else "amount_mismatch",
            "agent_uncertainties": [] if score >= 85 else ["Remittance lists two invoices."],
            "approved": status != "pending_match",
            "approved_at": _iso(when + 3600) if status != "pending_match" else None,
            "approver_id": approver["id"],
            "created_at": _iso(when),
            "modified_at": _iso(when + 7200),
            "payment": {
                "id": pay_id,
                "agent_confidence_reason": "Bank transaction matched by amount and reference.",
                "agent_confidence_score": score,
                "agent_error_code": None if score >= 75 else "amount_mismatch",
                "agent_uncertainties": [] if score >= 85 else ["Remittance lists two invoices."],
                "amount": _money(units, dec),
                "amount_refunded": 0,
                "bank_transaction_id": _rid(rng, "btx_"),
                "billing_email": p.email,
                "created_at": _iso(when),
                "currency": p.currency,
                "currency_rate": 1,
                "custom_fields": {"batch": str(rng.randint(100, 999))},
                "description": f"Payment from {p.name}",
                "expected_at": _iso(when - _DAY),
                "finix_transfer_id": ("TR" + "".join(rng.choices(_ALNUM, k=22)))
                if method == "card"
                else None,
                "initiated_at": _iso(when - 2 * _DAY),
                "last_exported_at": _iso(when + _DAY),
                "last_synced_at": _iso(when + _DAY),
                "linked_integration_id": p.obj["linked_integration"]["id"],
                "modified_at": _iso(when + 7200),
                "object": "payment",
                "partner_id": p.obj["id"],
                "payment_method": method,
                "receipt_url": f"https://pay.stuut-assets.com/r/{pay_id}",
                "reference_number": f"REF{rng.randint(1_000_000, 9_999_999)}",
                "remittance_id": _rid(rng, "rmt_") if rng.random() < 0.5 else None,
                "remote_created_at": _iso(when),
                "remote_id": str(rng.randint(100_000, 999_999)),
                "remote_metadata": {"deposit_account": "Operating"},
                "remote_modified_at": _iso(when + 3600),
                "statement_descriptor": f"{_ascii(p.name)[:18].upper()} PAYMENT",
                "status": status,
                "stripe_session_id": None if method != "card" else f"cs_live_{_hex(rng, 24)}",
                "sync_status": "synced",
                "timestamp": _iso(when),
                "transaction_match_approved_at": (
                    _iso(when + 3600) if status != "pending_match" else None
                ),
                "transaction_match_approver_id": (
                    approver["id"] if status != "pending_match" else None
                ),
            },
            "remote_id": str(rng.randint(100_000, 999_999)),
        }

    def _email(self, rng: random.Random, p: _Partner, number: str, issued: int, e: int) -> dict:
        contact = p.contacts[0]
        inbound = e == 1 and rng.random() < 0.6
        sender = rng.choice(self.email_senders)
        user = next(u for u in self.users if u["id"] == sender["user_id"])
        sent = issued + (e + 1) * rng.randint(2 * _DAY, 12 * _DAY)
        email_id = _rid(rng, "eml_")
        thread_id = _rid(rng, "thr_")
        failed = not inbound and rng.random() < 0.15
        cc = [f"ap@{p.domain}"] if rng.random() < 0.35 else []
        bcc = [f"ar-archive@{self.org_domain}"] if rng.random() < 0.2 else []
        if inbound:
            subject = f"RE: Invoice {number} – payment reminder"
            body = (
                f"Hello,\n\nthanks for the reminder. Invoice {number} is in our approval "
                f"workflow and will be paid with our next payment run.\n\nKind regards,\n"
                f"{contact['name']}\n{p.name}"
            )
            from_email, to = contact["email"], [sender["email"]]
        else:
            subject = f"Invoice {number} from {self.org_name} – payment reminder"
            body = (
                f"Dear {contact['given_name']},\n\nthis is a friendly reminder that invoice "
                f"{number} is due. You can pay online at https://pay.stuut-assets.com/ or by "
                f"bank transfer; please quote the invoice number as reference.\n\nIf you have "
                f"already paid, please disregard this message.\n\nBest regards,\n{sender['name']}"
                f"\n{self.org_name} Accounts Receivable"
            )
            from_email, to = sender["email"], [contact["email"]]
        status = "failed" if failed else ("received" if inbound else "sent")
        attachments = []
        if not inbound and rng.random() < 0.6:
            att_id = _rid(rng, "att_")
            attachments.append(
                {
                    "file_type": "document",
                    "mime_type": "application/pdf",
                    "name": f"{number}.pdf",
                    "object": "attachment",
                    "organization_id": self.organization_id,
                    "id": att_id,
                    "content_id": f"<{att_id}@{self.org_domain}>",
                    "created_at": _iso(sent),
                    "disposition": "attachment",
                    "is_verified": True,
                    "modified_at": _iso(sent),
                    "presigned_url": f"https://files.stuut-assets.com/{att_id}?X-Amz-Expires=3600",
                    "presigned_url_expires_at": _iso(sent + 3600),
                    "purpose": "invoice_pdf",
                    "remote_id": _hex(rng, 16),
                    "size": rng.randint(40_000, 400_000),
                    "src": {"bucket": "stuut-attachments", "key": f"{att_id}.pdf"},
                    "user_id": user["id"],
                }
            )
        return {
            "object": "email",
            "thread_id": thread_id,
            "id": email_id,
            "attachments": attachments,
            "author": None if inbound else user,
            "author_id": None if inbound else user["id"],
            "bcc": bcc,
            "body": body,
            "bounced_addresses": [contact["email"]] if failed else [],
            "bulk_email_request_id": _rid(rng, "bulk_") if not inbound and e == 0 else None,
            "cc": cc,
            "created_at": _iso(sent - 60),
            "custom_headers": {"X-Stuut-Campaign": "reminder"} if not inbound else None,
            "direction": "inbound" if inbound else "outbound",
            "email_reason": "reply" if inbound else "invoice_reminder",
            "email_sender": sender,
            "email_sender_id": sender["id"],
            "error_message": "550 5.1.1 Recipient address rejected" if failed else None,
            "from_email": from_email,
            "generated_body": None if inbound else body,
            "is_automated": not inbound,
            "is_generated": not inbound,
            "is_originated_in_stuut": not inbound,
            "is_unread": inbound and rng.random() < 0.5,
            "modified_at": _iso(sent + 60),
            "parent_email_id": None,
            "participants": sorted({from_email, *to, *cc}),
            "remote_id": f"<{_hex(rng, 24)}@mail.{self.org_domain}>",
            "remote_links": [
                {
                    "email_id": email_id,
                    "email_sender_id": sender["id"],
                    "object": "email_remote_link",
                    "remote_id": _hex(rng, 16),
                    "remote_thread_id": _hex(rng, 16),
                    "created_at": _iso(sent),
                    "modified_at": _iso(sent),
                }
            ],
            "reply_to": [sender["reply_to"]],
            "send_separately": False,
            "sent_at": _iso(sent),
            "sent_by_id": None if inbound else user["id"],
            "snippet": body[:100],
            "status": status,
            "subject": subject,
            "to": to,
        }
