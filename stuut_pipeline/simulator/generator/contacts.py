"""Partner contacts, their phone numbers and postal addresses."""

from __future__ import annotations

import random
from typing import Any

from .ids import rid
from .org import Org
from .reference import EXTERNAL_ROLES, FAMILY_NAMES, GIVEN_NAMES, INTERNAL_ROLES, JOB_TITLES, Region
from .values import DAY, ascii_slug, fill, iso, pick

_NUMBER_FIRST = ("DE", "NO", "ES", "FR", "BR", "CH")  # "Hauptstraße 12", not "12 Hauptstraße"


def phone(rng: random.Random, region: Region) -> str:
    """A phone number in the region's format."""
    return region.phone_prefix + str(rng.randint(2, 9)) + fill(rng, "#" * (region.phone_digits - 1))


def address(
    rng: random.Random,
    org: Org,
    region: Region,
    kind: str,
    name: str,
    phone_number: str,
    with_id: bool,
) -> dict:
    """A postal address of `kind` in one of the region's cities.

    `with_id`: the shape of `contact.addresses[]` (id, is_primary); else that of a partner's or a
    contact's main address (phone, remote_id).
    """
    city, state, postal, lat, lng, _tz = rng.choice(region.cities)
    created = org.epoch - rng.randint(100 * DAY, 700 * DAY)
    street = rng.choice(region.streets)
    line1 = street if region.country == "JP" else f"{rng.randint(1, 480)} {street}"
    if region.country in _NUMBER_FIRST:
        line1 = f"{street} {rng.randint(1, 120)}"
    addr: dict[str, Any] = {"object": "address"}
    if with_id:
        addr["id"] = rid(rng, "addr_")
    addr.update(
        {
            "city": city,
            "coordinates": {
                "lat": round(lat + rng.uniform(-0.05, 0.05), 5),
                "lng": round(lng + rng.uniform(-0.05, 0.05), 5),
            },
            "country": region.country,
            "created_at": iso(created),
            "description": "Head office" if kind == "billing" else None,
        }
    )
    if with_id:
        addr["is_primary"] = kind == "billing"
    addr.update(
        {
            "line1": line1,
            "line2": rng.choice((None, None, "Suite 200", "2nd floor", "Gebäude B")),
            "modified_at": iso(created + rng.randint(0 * DAY, 60 * DAY)),
            "name": name,
        }
    )
    if not with_id:
        addr["phone"] = phone_number
    addr["postal_code"] = fill(rng, postal)
    if not with_id:
        addr["remote_id"] = str(rng.randint(10_000, 99_999))
    addr["state"] = state
    addr["type"] = kind
    return addr


def contact(
    rng: random.Random, org: Org, region: Region, partner_id: str, domain: str, k: int
) -> dict:
    """Contact `k` of a partner (contact 0 is the primary one)."""
    given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
    name = f"{given} {family}"
    created = org.epoch - rng.randint(30 * DAY, 600 * DAY)
    number = phone(rng, region)
    main_address = address(rng, org, region, "billing", name, number, False)
    return {
        "email": f"{ascii_slug(given)}.{ascii_slug(family)}@{domain}",
        "object": "contact",
        "partner_id": partner_id,
        "id": rid(rng, "cnt_"),
        "address": main_address,
        "address_id": rng.randint(10_000, 999_999),
        "addresses": [
            address(rng, org, region, kind, name, number, True)
            for kind in ("billing", "office")[: 1 + (rng.random() < 0.15)]
        ],
        "created_at": iso(created),
        "custom_fields": {"preferred_language": rng.choice(("en", "de", "es", "fr", "ja"))},
        "external_role": pick(rng, EXTERNAL_ROLES),
        "family_name": family,
        "given_name": given,
        "internal_role": pick(rng, INTERNAL_ROLES),
        "is_email_disabled": rng.random() < 0.05,
        "is_phone_disabled": rng.random() < 0.05,
        "is_primary": k == 0,
        "is_primary_email": k == 0,
        "is_primary_phone": k == 0,
        "job_title": rng.choice(JOB_TITLES),
        "modified_at": iso(created + rng.randint(0 * DAY, 30 * DAY)),
        "name": name,
        "phone": number,
        "remote_created_at": iso(created - 3600),
        "remote_id": str(rng.randint(1000, 99_999)),
        "remote_metadata": {"source": "crm", "synced": True},
        "remote_modified_at": iso(created + 3600),
        "status_metadata": {"bounced": False} if rng.random() < 0.5 else None,
    }
