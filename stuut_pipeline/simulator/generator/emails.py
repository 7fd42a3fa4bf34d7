"""Emails about an invoice: the organization's reminders and the partner's replies."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .ids import hex_id, rid
from .org import Org
from .values import DAY, iso

if TYPE_CHECKING:
    from .partners import Partner


def email(rng: random.Random, org: Org, p: Partner, number: str, issued: int, e: int) -> dict:
    """Email `e` (0 or 1) about invoice `number`; email 1 may be the partner's reply."""
    contact = p.contacts[0]
    inbound = e == 1 and rng.random() < 0.6
    sender = rng.choice(org.email_senders)
    user = next(u for u in org.users if u["id"] == sender["user_id"])
    sent = issued + (e + 1) * rng.randint(2 * DAY, 12 * DAY)
    email_id = rid(rng, "eml_")
    thread_id = rid(rng, "thr_")
    failed = not inbound and rng.random() < 0.15
    cc = [f"ap@{p.domain}"] if rng.random() < 0.35 else []
    bcc = [f"ar-archive@{org.domain}"] if rng.random() < 0.2 else []
    subject, body = _text(org, p, number, contact, sender, inbound)
    from_email, to = (
        (contact["email"], [sender["email"]]) if inbound else (sender["email"], [contact["email"]])
    )
    status = "failed" if failed else ("received" if inbound else "sent")
    attachments = (
        [] if inbound or rng.random() >= 0.6 else [_attachment(rng, org, number, sent, user)]
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
        "bulk_email_request_id": rid(rng, "bulk_") if not inbound and e == 0 else None,
        "cc": cc,
        "created_at": iso(sent - 60),
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
        "modified_at": iso(sent + 60),
        "parent_email_id": None,
        "participants": sorted({from_email, *to, *cc}),
        "remote_id": f"<{hex_id(rng, 24)}@mail.{org.domain}>",
        "remote_links": [_remote_link(rng, email_id, sender, sent)],
        "reply_to": [sender["reply_to"]],
        "send_separately": False,
        "sent_at": iso(sent),
        "sent_by_id": None if inbound else user["id"],
        "snippet": body[:100],
        "status": status,
        "subject": subject,
        "to": to,
    }


def _text(
    org: Org, p: Partner, number: str, contact: dict, sender: dict, inbound: bool
) -> tuple[str, str]:
    """Subject and body: the partner's reply, or the organization's payment reminder."""
    if inbound:
        subject = f"RE: Invoice {number} – payment reminder"
        body = (
            f"Hello,\n\nthanks for the reminder. Invoice {number} is in our approval "
            f"workflow and will be paid with our next payment run.\n\nKind regards,\n"
            f"{contact['name']}\n{p.name}"
        )
        return subject, body
    subject = f"Invoice {number} from {org.name} – payment reminder"
    body = (
        f"Dear {contact['given_name']},\n\nthis is a friendly reminder that invoice "
        f"{number} is due. You can pay online at https://pay.stuut-assets.com/ or by "
        f"bank transfer; please quote the invoice number as reference.\n\nIf you have "
        f"already paid, please disregard this message.\n\nBest regards,\n{sender['name']}"
        f"\n{org.name} Accounts Receivable"
    )
    return subject, body


def _attachment(rng: random.Random, org: Org, number: str, sent: int, user: dict) -> dict:
    att_id = rid(rng, "att_")
    return {
        "file_type": "document",
        "mime_type": "application/pdf",
        "name": f"{number}.pdf",
        "object": "attachment",
        "organization_id": org.id,
        "id": att_id,
        "content_id": f"<{att_id}@{org.domain}>",
        "created_at": iso(sent),
        "disposition": "attachment",
        "is_verified": True,
        "modified_at": iso(sent),
        "presigned_url": f"https://files.stuut-assets.com/{att_id}?X-Amz-Expires=3600",
        "presigned_url_expires_at": iso(sent + 3600),
        "purpose": "invoice_pdf",
        "remote_id": hex_id(rng, 16),
        "size": rng.randint(40_000, 400_000),
        "src": {"bucket": "stuut-attachments", "key": f"{att_id}.pdf"},
        "user_id": user["id"],
    }


def _remote_link(rng: random.Random, email_id: str, sender: dict, sent: int) -> dict:
    return {
        "email_id": email_id,
        "email_sender_id": sender["id"],
        "object": "email_remote_link",
        "remote_id": hex_id(rng, 16),
        "remote_thread_id": hex_id(rng, 16),
        "created_at": iso(sent),
        "modified_at": iso(sent),
    }
