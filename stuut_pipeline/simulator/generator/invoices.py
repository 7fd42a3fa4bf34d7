"""A partner's invoices: line items, settlement state, payments, and the emails sent about them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .emails import email
from .ids import ALNUM, hex_id, rid
from .org import Org
from .reference import EMAIL_COUNTS, PRODUCTS
from .values import DAY, ascii_slug, date, iso, money, pick

if TYPE_CHECKING:
    from .partners import Partner

_TAX_RATES = {"US": 0.0825, "CA": 0.13, "JP": 0.10, "BR": 0.0, "CH": 0.081}  # else 0.2


@dataclass
class _Draft:
    """An invoice's drawn values, before its record is assembled (amounts in minor units)."""

    issued: int
    terms: int
    due: int
    inv_id: str
    number: str
    lines: list[dict]
    subtotal: int
    disc_total: int
    tax_total: int
    total: int
    paid_units: int
    due_units: int
    status: str
    payments: list[dict]
    paid_at: str | None
    assignee: dict
    emails: list[dict]


def invoice(rng: random.Random, org: Org, p: Partner, j: int, linked: dict) -> dict:
    """Invoice `j` of partner `p`; carries `_due_units` (its amount due) for the caller to pop."""
    issued = org.epoch - rng.randint(3 * DAY, 150 * DAY) + rng.randint(0, DAY)
    terms = rng.choice((15, 30, 30, 45, 60))
    due = issued + terms * DAY
    inv_id = rid(rng, "inv_")
    number = f"{p.obj['invoice_prefix']}{rng.randint(10_000, 99_999)}"
    lines, subtotal, disc_total, tax_total = _line_items(rng, p, inv_id, issued)
    total = subtotal - disc_total + tax_total
    state = pick(rng, (("open", 58), ("partial", 30), ("paid", 12)))
    if state == "open":
        paid_units = 0
    elif state == "paid":
        paid_units = total
    else:
        paid_units = round(total * rng.uniform(0.2, 0.8))
    due_units = total - paid_units
    overdue = due < org.epoch
    status = (
        "paid"
        if due_units == 0
        else ("partially_paid" if paid_units else ("overdue" if overdue else "open"))
    )
    payments = _payments(rng, org, p, inv_id, paid_units, issued)
    paid_at = iso(issued + rng.randint(5 * DAY, 40 * DAY)) if status == "paid" else None
    assignee = p.obj["assignee"] if rng.random() < 0.8 else rng.choice(org.users)
    emails = [email(rng, org, p, number, issued, e) for e in range(pick(rng, EMAIL_COUNTS))]
    if len(emails) == 2:  # a reply or a follow-up in the same thread
        emails[1]["thread_id"] = emails[0]["thread_id"]
        emails[1]["parent_email_id"] = emails[0]["id"]
    d = _Draft(
        issued=issued,
        terms=terms,
        due=due,
        inv_id=inv_id,
        number=number,
        lines=lines,
        subtotal=subtotal,
        disc_total=disc_total,
        tax_total=tax_total,
        total=total,
        paid_units=paid_units,
        due_units=due_units,
        status=status,
        payments=payments,
        paid_at=paid_at,
        assignee=assignee,
        emails=emails,
    )
    inv = {**_head(rng, org, p, d, linked), **_tail(rng, org, p, d)}
    if rng.random() < 0.08 and status != "paid":
        inv["voided_at"] = iso(issued + 3 * DAY)
        inv["status"] = "voided"
        inv["remote_status"] = "Voided"
    return inv


def _line_items(
    rng: random.Random, p: Partner, inv_id: str, issued: int
) -> tuple[list[dict], int, int, int]:
    """1..3 line items, and their subtotal, discount and tax totals (minor units)."""
    dec = p.decimals  # amounts are kept in minor units (JPY: whole yen)
    lines = []
    subtotal = disc_total = tax_total = 0
    tax_rate = _TAX_RATES.get(p.region.country, 0.2)
    for n in range(1 + rng.randrange(3)):
        product = rng.choice(PRODUCTS)
        unit = product.unit_amount
        qty = rng.randint(1, product.max_quantity)
        gross = unit * qty
        disc = round(gross * rng.choice((0, 0, 0, 0.05, 0.1)))
        tax = round((gross - disc) * tax_rate)
        subtotal += gross
        disc_total += disc
        tax_total += tax
        start = issued - 30 * DAY
        lines.append(
            {
                "invoice_id": inv_id,
                "object": "line_item",
                "remote_id": str(rng.randint(100_000, 999_999)),
                "created_at": iso(issued),
                "currency": p.currency,
                "custom_fields": {"gl_account": str(rng.choice((4000, 4010, 4100)))},
                "description": f"{product.name} – {date(start)} to {date(issued)}",
                "line_number": n + 1,
                "modified_at": iso(issued + 60),
                "name": product.name,
                "period_end_date": iso(issued),
                "period_start_date": iso(start),
                "product_type": product.type,
                "quantity": qty,
                "remote_created_at": iso(issued - 60),
                "remote_metadata": {"item_id": str(rng.randint(100, 999))},
                "remote_modified_at": iso(issued),
                "total_amount": money(gross - disc + tax, dec),
                "total_discount": money(disc, dec),
                "total_tax": money(tax, dec),
                "unit_amount": money(unit, dec),
            }
        )
    return lines, subtotal, disc_total, tax_total


def _head(rng: random.Random, org: Org, p: Partner, d: _Draft, linked: dict) -> dict:
    """The invoice record from `amount_due` to `memo`, in documented key order."""
    dec = p.decimals
    return {
        "amount_due": money(d.due_units, dec),
        "currency": p.currency,
        "object": "invoice",
        "remote_id": str(rng.randint(100_000, 999_999)),
        "total_amount": money(d.total, dec),
        "id": d.inv_id,
        "amount_paid": money(d.paid_units, dec),
        "assignee": d.assignee,
        "billing_address": p.obj["billing_address"],
        "billing_address_id": p.obj["billing_address_id"],
        "billing_email": p.email,
        "calls": [],
        "created_at": iso(d.issued),
        "custom_fields": {"region": p.region.country, "sales_rep": d.assignee["name"]},
        "due_date": iso(d.due),
        "emails": d.emails,
        "in_dispute": rng.random() < 0.08,
        "is_issued_email_sent": True,
        "issued_at": iso(d.issued),
        "last_outreach_at": iso(min(org.epoch, d.due + rng.randint(1 * DAY, 20 * DAY))),
        "last_outreach_channel": rng.choice(("email", "call")),
        "last_outreach_to": p.contacts[0]["email"],
        "last_synced_at": iso(org.epoch - rng.randint(1, 30) * 3600),
        "line_items": d.lines,
        "linked_integration": linked,
        "marked_uncollectible_at": (
            iso(d.due + 90 * DAY) if rng.random() < 0.1 and d.status != "paid" else None
        ),
        "memo": rng.choice(
            (
                "Thank you for your business.",
                "Please reference the invoice number with your payment.",
                "Vielen Dank für Ihren Auftrag.",
                None,
            )
        ),
    }


def _tail(rng: random.Random, org: Org, p: Partner, d: _Draft) -> dict:
    """The invoice record from `modified_at` to `voided_at` (and `_due_units`)."""
    dec, inv_id, status = p.decimals, d.inv_id, d.status
    return {
        "modified_at": iso(org.epoch - rng.randint(1, 72) * 3600),
        "number": d.number,
        "order_number": f"SO-{rng.randint(1000, 9999)}",
        "paid_at": d.paid_at,
        "partner": p.inv_obj,
        "partner_id": p.obj["id"],
        "payments": d.payments,
        "pdf": {"url": f"https://files.stuut-assets.com/invoices/{inv_id}.pdf", "pages": 1},
        "pdf_id": rid(rng, "file_"),
        "period_end_date": iso(d.issued),
        "period_start_date": iso(d.issued - 30 * DAY),
        "private_note": "Customer asked for paper copy." if rng.random() < 0.15 else None,
        "promised_to_pay_date": (
            date(org.epoch + rng.randint(1 * DAY, 10 * DAY))
            if rng.random() < 0.15 and d.due_units
            else None
        ),
        "purchase_order_number": f"PO-{rng.randint(100_000, 999_999)}"
        if rng.random() < 0.7
        else None,
        "remote_created_at": iso(d.issued - 120),
        "remote_invoice_pdf": f"https://erp.example-remote.com/inv/{inv_id}.pdf",
        "remote_metadata": {"terms": f"Net {d.terms}"},
        "remote_modified_at": iso(org.epoch - rng.randint(1, 30) * 3600),
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
        "subtotal": money(d.subtotal, dec),
        "sync_status": pick(rng, (("synced", 85), ("partial", 12), ("failed", 3))),
        "total_discount": money(d.disc_total, dec),
        "total_tax": money(d.tax_total, dec),
        "type": "receivable" if rng.random() < 0.97 else "payable",
        "voided_at": None,
        "_due_units": d.due_units,
    }


def _payments(
    rng: random.Random, org: Org, p: Partner, inv_id: str, paid_units: int, issued: int
) -> list[dict]:
    """The invoice's payments: one, or two halves; their amounts sum to `paid_units`."""
    if not paid_units:
        return []
    parts = [paid_units] if rng.random() < 0.7 or paid_units < 2 else None
    if parts is None:
        first = paid_units // 2
        parts = [first, paid_units - first]
    return [_invoice_payment(rng, org, p, inv_id, part, issued) for part in parts]


def _invoice_payment(
    rng: random.Random, org: Org, p: Partner, inv_id: str, units: int, issued: int
) -> dict:
    when = issued + rng.randint(3 * DAY, 40 * DAY)
    pay_id = rid(rng, "pay_")
    approver = rng.choice(org.approvers)
    score = rng.randint(70, 99)
    method = rng.choice(("ach", "ach", "wire", "card", "check"))
    status = pick(rng, (("succeeded", 70), ("pending_match", 20), ("matched", 10)))
    matched = status != "pending_match"
    return {
        "amount": money(units, p.decimals),
        "invoice_id": inv_id,
        "object": "invoice_payment",
        "payment_id": pay_id,
        "strategy": "automatic" if score >= 85 else "manual",
        "id": rid(rng, "ipay_"),
        "agent_confidence_reason": "Remittance advice references the invoice number.",
        "agent_confidence_score": score,
        "agent_error_code": None if score >= 75 else "amount_mismatch",
        "agent_uncertainties": [] if score >= 85 else ["Remittance lists two invoices."],
        "approved": matched,
        "approved_at": iso(when + 3600) if matched else None,
        "approver_id": approver["id"],
        "created_at": iso(when),
        "modified_at": iso(when + 7200),
        "payment": _payment(rng, p, pay_id, units, when, score, method, status, approver),
        "remote_id": str(rng.randint(100_000, 999_999)),
    }


def _payment(
    rng: random.Random,
    p: Partner,
    pay_id: str,
    units: int,
    when: int,
    score: int,
    method: str,
    status: str,
    approver: dict,
) -> dict:
    matched = status != "pending_match"
    return {
        "id": pay_id,
        "agent_confidence_reason": "Bank transaction matched by amount and reference.",
        "agent_confidence_score": score,
        "agent_error_code": None if score >= 75 else "amount_mismatch",
        "agent_uncertainties": [] if score >= 85 else ["Remittance lists two invoices."],
        "amount": money(units, p.decimals),
        "amount_refunded": 0,
        "bank_transaction_id": rid(rng, "btx_"),
        "billing_email": p.email,
        "created_at": iso(when),
        "currency": p.currency,
        "currency_rate": 1,
        "custom_fields": {"batch": str(rng.randint(100, 999))},
        "description": f"Payment from {p.name}",
        "expected_at": iso(when - DAY),
        "finix_transfer_id": ("TR" + "".join(rng.choices(ALNUM, k=22)))
        if method == "card"
        else None,
        "initiated_at": iso(when - 2 * DAY),
        "last_exported_at": iso(when + DAY),
        "last_synced_at": iso(when + DAY),
        "linked_integration_id": p.obj["linked_integration"]["id"],
        "modified_at": iso(when + 7200),
        "object": "payment",
        "partner_id": p.obj["id"],
        "payment_method": method,
        "receipt_url": f"https://pay.stuut-assets.com/r/{pay_id}",
        "reference_number": f"REF{rng.randint(1_000_000, 9_999_999)}",
        "remittance_id": rid(rng, "rmt_") if rng.random() < 0.5 else None,
        "remote_created_at": iso(when),
        "remote_id": str(rng.randint(100_000, 999_999)),
        "remote_metadata": {"deposit_account": "Operating"},
        "remote_modified_at": iso(when + 3600),
        "statement_descriptor": f"{ascii_slug(p.name)[:18].upper()} PAYMENT",
        "status": status,
        "stripe_session_id": None if method != "card" else f"cs_live_{hex_id(rng, 24)}",
        "sync_status": "synced",
        "timestamp": iso(when),
        "transaction_match_approved_at": iso(when + 3600) if matched else None,
        "transaction_match_approver_id": approver["id"] if matched else None,
    }
