"""The organization's linked ERP / accounting integrations, with their synced models."""

from __future__ import annotations

import random

from .ids import hex_id, rid
from .org import Org
from .reference import INTEGRATIONS, IntegrationDef
from .values import DAY, iso, pick


def linked_integrations(rng: random.Random, org: Org) -> list[dict]:
    """One linked integration per entry of `INTEGRATIONS`, in order."""
    return [linked_integration(rng, org, k) for k in range(len(INTEGRATIONS))]


def linked_integration(rng: random.Random, org: Org, k: int) -> dict:
    """Linked integration `k` (NetSuite, QuickBooks, Xero)."""
    d = INTEGRATIONS[k]
    created = org.epoch - rng.randint(200 * DAY, 500 * DAY)
    li_id = rid(rng, "lint_")
    sub = str(rng.randint(1_000_000, 9_999_999)) if d.requires_subdomain else None
    models = [_linked_model(rng, org, d, k, li_id, created, "invoice")]
    return {
        "integration_name": d.name,
        "is_configured": True,
        "object": "linked_integration",
        "settings": {"sync_interval_minutes": 60, "import_closed_invoices": False},
        "id": li_id,
        "api_subdomain": sub,
        "api_url": d.api_base_url.replace("{sub}", sub or ""),
        "connection_info": {"account_id": sub or hex_id(rng, 8)},
        "created_at": iso(created),
        "credentials_expire_at": iso(org.epoch + rng.randint(30 * DAY, 300 * DAY)),
        "health": _health(rng),
        "identity_info": {"company_name": org.name},
        "integration": _integration(d, k, created),
        "is_running_setup": False,
        "is_sync_disabled": False,
        "is_webhooks_enabled": d.name != "xero",
        "models": models,
        "modified_at": iso(created + rng.randint(1 * DAY, 100 * DAY)),
        "name": f"{d.display_name} (production)",
        "owner_id": org.users[0]["id"],
        "requires_setup": False,
        "username": f"integrations@{org.domain}",
        "webhook_listener_url": f"https://hooks.stuut-assets.com/{li_id}",
        "webhook_setup_error": None if d.name != "xero" else "Webhooks not supported",
    }


def _health(rng: random.Random) -> dict:
    status = pick(rng, (("healthy", 80), ("incomplete", 12), ("error", 8)))
    if status == "error":
        return {
            "status": status,
            "details": {"http_status": 401},
            "message": "Access token expired",
            "reason": "auth_expired",
        }
    return {"status": status, "details": None, "message": None, "reason": None}


def _linked_model(
    rng: random.Random, org: Org, d: IntegrationDef, k: int, li_id: str, created: int, model: str
) -> dict:
    m_id = rid(rng, "lmod_")
    sync_id = rid(rng, "sync_")
    run_id = rid(rng, "run_")
    last = org.epoch - rng.randint(1, 20) * 3600
    failed = k == 1 or rng.random() < 0.1
    return {
        "integration_schema_id": rid(rng, "isch_"),
        "linked_integration_id": li_id,
        "name": model,
        "object": "linked_model",
        "id": m_id,
        "created_at": iso(created + 3600),
        "exclude_rule": {"status": ["voided"]} if model == "invoice" else {},
        "field_mappings": {"number": "tranId", "due_date": "dueDate"},
        "health": _health(rng),
        "is_read_enabled": True,
        "is_webhooks_setup": d.name != "xero",
        "is_write_enabled": model == "payment",
        "last_sync": _last_sync(rng, m_id, sync_id, run_id, last, model, failed),
        "last_sync_id": sync_id,
        "modified_at": iso(last + 240),
        "next_sync_at": iso(last + 3600),
        "sync_requested": False,
    }


def _last_sync(
    rng: random.Random, m_id: str, sync_id: str, run_id: str, last: int, model: str, failed: bool
) -> dict:
    return {
        "linked_model_id": m_id,
        "object": "sync",
        "run_id": run_id,
        "id": sync_id,
        "created_at": iso(last),
        "entity_id": rid(rng, "ent_"),
        "is_initial_sync": False,
        "is_one_off": rng.random() < 0.1,
        "modified_at": iso(last + 240),
        "pagination": {"cursor": hex_id(rng, 12), "page_size": 100},
        "run": {
            "object": "run",
            "id": run_id,
            "completed_at": iso(last + 230),
            "created_at": iso(last),
            "data": {"model": model},
            "event_id": rid(rng, "evt_"),
            "modified_at": iso(last + 240),
            "output": {"records_read": rng.randint(0, 900), "records_written": 0},
            "remote_id": hex_id(rng, 16),
            "stacktrace": (
                "Traceback (most recent call last):\n  ...\nTimeoutError: upstream timed out"
                if failed
                else None
            ),
            "started_at": iso(last + 5),
            "status": "failed" if failed else "succeeded",
        },
        "timerange_end": iso(last),
        "timerange_start": iso(last - 3600),
    }


def _integration(d: IntegrationDef, k: int, created: int) -> dict:
    """The integration's catalogue entry (no random draws)."""
    return {
        "display_name": d.display_name,
        "name": d.name,
        "object": "integration",
        "api_base_url": d.api_base_url,
        "api_documentation_url": f"https://developer.{d.name}.com/docs" if k != 2 else None,
        "api_requires_subdomain": d.requires_subdomain,
        "auth_type": "oauth2" if k else "token",
        "categories": [d.category, "accounting"] if d.category == "erp" else [d.category],
        "color": d.color,
        "connection_guide_url": f"https://docs.stuut-assets.com/integrations/{d.name}",
        "connection_instructions": None,
        "connection_steps": [
            {
                "type": "oauth" if k else "fetch",
                "title": f"Connect your {d.display_name} account",
                "description": None,
                "endpoint": None,
                "fields": None,
                "post_auth": False,
            }
        ],
        "created_at": iso(created - 400 * DAY),
        "description": None,
        "is_enabled": True,
        "logo": f"https://cdn.stuut-assets.com/integrations/{d.name}.svg",
        "logo_square": None,
        "modified_at": iso(created - 100 * DAY),
        "settings": [dict(_SYNC_INTERVAL_SETTING)],
        "short_description": f"Sync invoices, customers and payments with {d.display_name}.",
    }


_SYNC_INTERVAL_SETTING = {
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
