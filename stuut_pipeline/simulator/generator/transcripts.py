"""Transcripts: Retell-style conversation templates, rendered per call with word timings."""

from __future__ import annotations

import random

# Transcript templates: (role, text) turns with {placeholders}

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


def turns_with_words(turns: list[tuple[str, str]], t0: float) -> list[dict]:
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


def render_transcript(
    rng: random.Random, scenario: str, direction: str, ctx: dict
) -> tuple[list[tuple[str, str]], str]:
    """The call's conversation as (role, content) turns, and its plain-text form.

    `scenario` is "voicemail" or a classification; `ctx` fills the templates' placeholders.
    """
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
    turns = [(role, text.format_map(ctx)) for role, text in raw]
    text = "\n".join(f"{'Agent' if r == 'agent' else 'User'}: {c}" for r, c in turns)
    return turns, text
