"""Pool partners: identity, contacts, AP portals, tags, their two JSON shapes and invoices."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

from .contacts import address, contact, phone
from .ids import ALNUM, hex_id, rid
from .invoices import invoice
from .org import Org
from .reference import AP_PROVIDERS, FAMILY_NAMES, GIVEN_NAMES, REGION_TABLE, City, Region
from .values import DAY, ascii_slug, date, fmt_amount, iso, pick

_TLD = {"US": "com", "CA": "ca", "GB": "co.uk", "JP": "co.jp", "BR": "com.br"}


class Partner:
    """A pool partner: its two JSON shapes, its contacts and its invoices (all built once)."""

    __slots__ = (
        "obj", "inv_obj", "index", "region", "contacts", "phone", "invoices", "balance",
        "decimals", "currency", "domain", "name", "timezone", "weight", "postal", "email",
        "shipping_id",
    )  # fmt: skip

    def __init__(self) -> None:
        self.invoices: list[dict] = []


class _Identity(NamedTuple):
    home: City
    is_company: bool
    base: str  # the company name without its legal suffix
    slug: str


@dataclass
class _Parts:
    """What `partner()` draws before it assembles the partner object."""

    identity: _Identity
    partner_id: str
    created: int
    billing: dict
    shipping: dict
    assignee: dict
    linked: dict
    portals: list[dict]
    tags: list[dict]
    last_outreach: int


def partner(rng: random.Random, org: Org, k: int, used: set[str], pool: list[Partner]) -> Partner:
    """Partner `k`, with a name not in `used` (added to it); `pool` holds partners 0..k-1."""
    p = Partner()
    ident = _identity(rng, p, k, used)
    local = p.region._replace(cities=(ident.home,))  # the partner's own city
    partner_id = rid(rng, "ptn_")
    created = org.epoch - rng.randint(200 * DAY, 900 * DAY)
    n_contacts = 1 + (rng.random() < 0.25)
    p.contacts = [contact(rng, org, local, partner_id, p.domain, j) for j in range(n_contacts)]
    p.phone = phone(rng, p.region)
    p.email = f"ap@{p.domain}"
    billing = address(rng, org, local, "billing", p.name, p.phone, False)
    p.postal = billing["postal_code"]
    shipping = (
        billing
        if rng.random() < 0.6
        else address(rng, org, p.region, "shipping", p.name, p.phone, False)
    )
    assignee = rng.choice(org.users)
    linked = org.linked_integrations[{1: 1, 3: 2}.get(k % 5, 0)]
    portals = _ap_portals(rng, org, p.name, partner_id, created, ident.slug)
    tags = _partner_tags(rng, org, partner_id)
    last_outreach = org.epoch - rng.randint(1 * DAY, 20 * DAY)
    parts = _Parts(
        identity=ident,
        partner_id=partner_id,
        created=created,
        billing=billing,
        shipping=shipping,
        assignee=assignee,
        linked=linked,
        portals=portals,
        tags=tags,
        last_outreach=last_outreach,
    )
    obj = {**_head(rng, org, p, parts), **_tail(rng, org, p, parts, pool)}
    if obj["parent_id"]:
        obj["remote_parent_id"] = pool[0].obj["remote_id"]
    p.obj = obj
    p.shipping_id = obj["billing_address_id"] + (0 if shipping is billing else 1)
    p.inv_obj = _invoice_shape(rng, obj)
    balance = 0
    for j in range(rng.randint(2, 7)):
        inv = invoice(rng, org, p, j, linked)
        p.invoices.append(inv)
        balance += inv.pop("_due_units")
    p.balance = fmt_amount(balance, p.currency, p.decimals)
    return p


def _identity(rng: random.Random, p: Partner, k: int, used: set[str]) -> _Identity:
    """Region, home city, a unique name and the domain; sets them (and the weight) on `p`."""
    region: Region = pick(rng, REGION_TABLE)
    home = rng.choice(region.cities)
    p.index = k
    p.region = region
    p.currency, p.decimals = region.currency, region.decimals
    is_company = rng.random() < 0.9
    base = rng.choice(region.companies)
    suffix = rng.choice(region.suffixes)
    name = f"{base} {suffix}".strip() if is_company else ""
    if not is_company:
        name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
    if name in used:
        name = f"{name} ({home.name})"
    n = 2
    while name in used:
        name = f"{base} {suffix} {n}".strip()
        n += 1
    used.add(name)
    p.name = name
    slug = ascii_slug(base if is_company else name) or f"partner{k}"
    p.domain = f"{slug}.{_TLD.get(region.country, region.country.lower())}"
    p.timezone = home.timezone
    p.weight = 1.0 / (1 + (k % 10)) + 0.15
    return _Identity(home, is_company, base, slug)


def _ap_portals(
    rng: random.Random, org: Org, name: str, partner_id: str, created: int, slug: str
) -> list[dict]:
    """No portal, or (30 %) one AP portal the partner wants invoices submitted to."""
    if rng.random() >= 0.3:
        return []
    provider = rng.choice(AP_PROVIDERS)
    pcreated = created + rng.randint(10 * DAY, 100 * DAY)
    acct_id = rid(rng, "apa_")
    portal = {
        "object": "ap_portal",
        "partner_id": partner_id,
        "id": rid(rng, "app_"),
        "account": {
            "object": "ap_portal_account",
            "organization_id": org.id,
            "provider": provider,
            "id": acct_id,
            "available_operations": ["submit_invoice", "download_report"],
            "created_at": iso(pcreated),
            "modified_at": iso(pcreated + DAY),
        },
        "account_id": acct_id,
        "account_key": f"{provider}-{hex_id(rng, 8)}",
        "created_at": iso(pcreated),
        "customer_identifier": f"SUP-{rng.randint(10_000, 99_999)}",
        "customer_name": name,
        "invoice_submission_guidelines": (
            "Submit PDF invoices with the PO number in the header; one invoice per PO."
        ),
        "is_enabled": True,
        "is_invoice_submission_enabled": rng.random() < 0.8,
        "is_report_download_enabled": rng.random() < 0.5,
        "modified_at": iso(pcreated + rng.randint(1 * DAY, 60 * DAY)),
        "name": f"{name} {provider.title()} portal",
        "provider": provider,
        "report_email": f"reports+{slug}@{org.domain}",
        "report_frequency": rng.choice(("daily", "weekly", "monthly")),
    }
    return [portal]


def _partner_tags(rng: random.Random, org: Org, partner_id: str) -> list[dict]:
    return [
        {
            "object": "partner_tag",
            "partner_id": partner_id,
            "tag_id": tag["id"],
            "created_at": tag["created_at"],
            "is_manual": tag["name"] != "Slow payer",
            "modified_at": tag["modified_at"],
            "tag": tag,
        }
        for tag in rng.sample(org.tags, rng.randint(0, 2))
    ]


def _head(rng: random.Random, org: Org, p: Partner, parts: _Parts) -> dict:
    """`call.partner` from `id` to `last_synced_at`, in documented key order."""
    main = p.contacts[0]
    is_company = parts.identity.is_company
    return {
        "id": parts.partner_id,
        "account_number": f"C-{rng.randint(10_000, 99_999)}",
        "ap_portals": parts.portals,
        "assignee": parts.assignee,
        "assignee_id": parts.assignee["id"],
        "billing_address": parts.billing,
        "billing_address_id": rng.randint(10_000, 999_999),
        "contacts": p.contacts,
        "created_at": iso(parts.created),
        "currency": p.currency,
        "custom_fields": {"segment": rng.choice(("SMB", "Mid-market", "Enterprise"))},
        "description": f"{'Customer' if is_company else 'Individual customer'} since "
        f"{date(parts.created)[:4]}; billed in {p.currency}.",
        "email": p.email,
        "family_name": main["family_name"],
        "finix_identity_id": ("ID" + "".join(rng.choices(ALNUM, k=22)))
        if rng.random() < 0.4
        else None,
        "given_name": main["given_name"],
        "invoice_prefix": (ascii_slug(parts.identity.base)[:3].upper() or "INV") + "-",
        "is_active": rng.random() < 0.95,
        "is_company": is_company,
        "is_email_disabled": rng.random() < 0.04,
        "is_phone_disabled": rng.random() < 0.04,
        "is_primary_email": True,
        "is_primary_phone": True,
        "last_outreach_at": iso(parts.last_outreach),
        "last_outreach_channel": rng.choice(("email", "call", "email", "sms")),
        "last_outreach_to": main["email"],
        "last_synced_at": iso(org.epoch - rng.randint(1, 48) * 3600),
    }


def _tail(rng: random.Random, org: Org, p: Partner, parts: _Parts, pool: list[Partner]) -> dict:
    """`call.partner` from `legal_name` to `timezone`, in documented key order."""
    created = parts.created
    return {
        "legal_name": p.name if parts.identity.is_company else p.contacts[0]["name"],
        "linked_integration": parts.linked,
        "modified_at": iso(created + rng.randint(30 * DAY, 200 * DAY)),
        "name": p.name,
        "object": "partner",
        "on_behalf_of": org.name if rng.random() < 0.2 else None,
        "on_behalf_of_phone": org.phone if rng.random() < 0.2 else None,
        "organization_id": org.id,
        "parent_id": (pool[0].obj["id"] if pool and p.index % 13 == 12 else None),
        "phone": p.phone,
        "remote_created_at": iso(created - DAY),
        "remote_id": str(rng.randint(100, 99_999)),
        "remote_metadata": {"terms": rng.choice(("Net 30", "Net 45", "Net 60"))},
        "remote_modified_at": iso(created + rng.randint(1 * DAY, 100 * DAY)),
        "remote_parent_id": None,
        "remote_payment_portal_url": f"https://pay.stuut-assets.com/{parts.partner_id}",
        "shipping_address": parts.shipping,
        "status_metadata": {"credit_hold": rng.random() < 0.1},
        "sync_status": pick(rng, (("synced", 80), ("partial", 15), ("failed", 5))),
        "tags": parts.tags,
        "tax_number": f"{p.region.vat_prefix}{rng.randint(100_000_000, 999_999_999)}",
        "timezone": p.timezone,
    }


def _invoice_shape(rng: random.Random, obj: dict) -> dict:
    """`invoice.partner`: `call.partner` plus the two fields only it documents (list-calls.txt)."""
    items = list(obj.items())
    at = [key for key, _ in items].index("is_company")
    items.insert(at, ("is_call_outreach_manually_paused", rng.random() < 0.05))
    at = [key for key, _ in items].index("is_email_disabled") + 1
    items.insert(at, ("is_email_outreach_manually_paused", rng.random() < 0.05))
    return dict(items)
