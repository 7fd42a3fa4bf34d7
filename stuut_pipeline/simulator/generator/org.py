"""The simulated organization (the Stuut customer): its users, email senders, tags, workflows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .ids import rid
from .reference import (
    AGENT_NAMES,
    EMAIL_PROVIDERS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    ORG_NAMES,
    TAG_DEFS,
    WORKFLOW_NAMES,
    WORKFLOW_TZ,
    TagDef,
)
from .values import DAY, ascii_slug, iso


@dataclass
class Org:
    """The organization and its pools; every call and partner refers to these objects."""

    epoch: int  # the generator's epoch, in seconds
    name: str
    domain: str
    phone: str
    id: str
    agent_name: str
    agent_id: str
    call_agent_ids: list[str]
    users: list[dict] = field(default_factory=list)
    email_senders: list[dict] = field(default_factory=list)
    approvers: list[dict] = field(default_factory=list)
    tags: list[dict] = field(default_factory=list)
    linked_integrations: list[dict] = field(default_factory=list)
    workflows: list[dict] = field(default_factory=list)


def new_org(rng: random.Random, epoch: int) -> Org:
    """The organization's identity and agent; its pools are filled by the caller."""
    name, domain = rng.choice(ORG_NAMES)
    return Org(
        epoch=epoch,
        name=name,
        domain=domain,
        phone="+1512" + "".join(rng.choices("0123456789", k=7)),
        id=rid(rng, "org_"),
        agent_name=rng.choice(AGENT_NAMES),
        agent_id=rid(rng, "agent_", 24),
        call_agent_ids=[rid(rng, "cag_") for _ in range(3)],
    )


def add_users(rng: random.Random, org: Org, n_users: int) -> None:
    """Append `n_users` users, each with its email sender, and pick the approvers."""
    base = org.epoch - 400 * DAY
    for k in range(n_users):
        given = GIVEN_NAMES[(k * 7 + rng.randrange(5)) % len(GIVEN_NAMES)]
        family = rng.choice(FAMILY_NAMES)
        email = f"{ascii_slug(given)}.{ascii_slug(family)}@{org.domain}"
        created = base + rng.randint(0 * DAY, 200 * DAY) + rng.randint(0, DAY)
        sender_id = rid(rng, "esnd_")
        user_id = rid(rng, "usr_")
        name = f"{given} {family}"
        org.email_senders.append(
            _email_sender(rng, org, k, name, email, created, sender_id, user_id)
        )
        org.users.append(
            {
                "email": email,
                "family_name": family,
                "given_name": given,
                "object": "user",
                "organization_id": org.id,
                "id": user_id,
                "created_at": iso(created),
                "dashboard_settings": {
                    "thread_emails_sort_order": "asc" if rng.random() < 0.6 else "desc"
                },
                "default_email_sender_id": sender_id,
                "invited_by_user_id": org.users[0]["id"] if org.users else None,
                "is_access_approved": True,
                "is_org_admin": k < max(2, n_users // 4),
                "modified_at": iso(created + rng.randint(1 * DAY, 120 * DAY)),
                "name": name,
                "onboarding_required": k % 6 == 5,
                "profile_picture": (
                    f"https://cdn.stuut-assets.com/avatars/{user_id}.png" if k % 4 != 3 else None
                ),
                "selected": k == 0,
            }
        )
    org.approvers = [u for u in org.users if u["is_org_admin"]] or org.users[:1]


def _email_sender(
    rng: random.Random,
    org: Org,
    k: int,
    name: str,
    email: str,
    created: int,
    sender_id: str,
    user_id: str,
) -> dict:
    return {
        "email": email,
        "object": "email_sender",
        "reply_to": f"ar@{org.domain}",
        "user_id": user_id,
        "id": sender_id,
        "created_at": iso(created),
        "expired_at": iso(created + 300 * DAY) if k % 5 == 4 else None,
        "is_nylas_connection": k % 3 != 2,
        "is_nylas_grant_expired": k % 5 == 4,
        "is_shared": k == 0,
        "modified_at": iso(created + rng.randint(1 * DAY, 90 * DAY)),
        "name": name,
        "provider": EMAIL_PROVIDERS[k % 3],
        "reply_to_name": f"{org.name} Accounts Receivable",
        "signature_html": (f"<p>{name}<br/>Accounts Receivable · {org.name}<br/>{org.phone}</p>"),
    }


def tag(rng: random.Random, org: Org, definition: TagDef) -> dict:
    """One of the organization's partner tags."""
    created = org.epoch - rng.randint(100 * DAY, 300 * DAY)
    return {
        "name": definition.name,
        "object": "tag",
        "id": rid(rng, "tag_"),
        "color": definition.color,
        "created_at": iso(created),
        "modified_at": iso(created + rng.randint(0 * DAY, 50 * DAY)),
        "rule_condition": (
            {"field": "days_past_due", "op": "gt", "value": 60}
            if definition.name == "Slow payer"
            else {}
        ),
    }


def tags(rng: random.Random, org: Org) -> list[dict]:
    """Every tag of `TAG_DEFS`, in order."""
    return [tag(rng, org, definition) for definition in TAG_DEFS]


def workflow(rng: random.Random, org: Org, k: int) -> dict:
    """Outreach workflow number `k` (names repeat with a ' #n' suffix past `WORKFLOW_NAMES`)."""
    name = WORKFLOW_NAMES[k % len(WORKFLOW_NAMES)]
    if k >= len(WORKFLOW_NAMES):
        name += f" #{k // len(WORKFLOW_NAMES) + 1}"
    created = org.epoch - rng.randint(30 * DAY, 200 * DAY)
    weekend = k % 4 == 3
    start_h = rng.choice((8, 9, 10))
    return {
        "id": rid(rng, "otwfl_", 20),
        "active_days": [1, 2, 3, 4, 5, 6] if weekend else [1, 2, 3, 4, 5],
        "created_at": iso(created),
        "email_sender_id": org.email_senders[k % len(org.email_senders)]["id"],
        "is_active": True,
        "is_call_on_weekend_enabled": weekend,
        "modified_at": iso(created + rng.randint(1 * DAY, 25 * DAY)),
        "name": name,
        "object": "outreach_workflow",
        "outreach_window_end": f"{start_h + 8:02d}:00",
        "outreach_window_start": f"{start_h:02d}:00",
        "pending_run_strategy": "send_all" if k % 2 == 0 else "send_latest",
        "test_email": f"ar-test@{org.domain}",
        "test_phone_number": org.phone,
        "timezone": WORKFLOW_TZ[k % len(WORKFLOW_TZ)],
    }
