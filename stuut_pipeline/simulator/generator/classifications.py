"""A call's classifications and the tasks they create."""

from __future__ import annotations

import random

from .ids import rid
from .org import Org
from .outcomes import CLASS_TEXT, LANGUAGES, TASK_TYPES, UNCERTAINTIES
from .values import DAY, count, iso, pick


def classification(
    rng: random.Random,
    org: Org,
    max_tasks: int,
    label: str,
    score: int,
    call_id: str,
    end: int,
    modified: int,
    ctx: dict,
    approver: dict | None,
) -> dict:
    """A `call_classification` of `label` with confidence `score` and 0..max_tasks tasks."""
    created = end + rng.randint(3, 40)
    text = CLASS_TEXT.get(label, CLASS_TEXT["other"])
    n_tasks = count(rng, max_tasks, (0.3, 0.5, 0.2))
    action_required = n_tasks > 0 or label in ("complaint", "refund_request")
    uncertainties = rng.sample(UNCERTAINTIES, rng.randint(1, 2)) if score < 88 else []
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
        "reason": text.reason.format_map(ctx),
        "action_recommendation": text.action.format_map(ctx),
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
        "created_at": iso(created),
        "language": pick(rng, LANGUAGES),
        "modified_at": iso(max(created, modified)),
        "tasks": [task(rng, org, label, call_id, created, ctx) for _ in range(n_tasks)],
    }


def task(rng: random.Random, org: Org, label: str, call_id: str, created: int, ctx: dict) -> dict:
    """A task created by a classification of `label`, with its trigger event and data."""
    task_id = rid(rng, "task_")
    kind = TASK_TYPES.get(label, TASK_TYPES["other"])
    status = pick(rng, (("open", 55), ("completed", 35), ("closed", 10)))
    assignee = rng.choice(org.users) if rng.random() < 0.8 else None
    modified = created + (rng.randint(600, 5 * DAY) if status != "open" else rng.randint(0, 60))
    event_id = rid(rng, "evt_")
    email_id = rid(rng, "eml_")
    data = [
        _task_data(rng, task_id, email_id, created + 60 * (j + 1), ctx)
        for j in range(rng.randint(0, 2))
    ]
    return {
        "label": kind.label,
        "object": "task",
        "organization_id": org.id,
        "type": kind.type,
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
        "created_at": iso(created),
        "data": data,
        "description": f"{kind.label} for {ctx['company']} (invoice {ctx['inv']}).",
        "error_reason": None if rng.random() < 0.92 else "Email sender grant expired",
        "modified_at": iso(modified),
        "status": status,
        "trigger_event": _trigger_event(org, event_id, label, call_id, created),
        "trigger_event_id": event_id,
    }


def _task_data(rng: random.Random, task_id: str, email_id: str, at: int, ctx: dict) -> dict:
    return {
        "object": "task_data",
        "source": "email" if rng.random() < 0.6 else "call",
        "task_id": task_id,
        "type": "response" if rng.random() < 0.7 else "note",
        "id": rid(rng, "tdat_"),
        "created_at": iso(at),
        "data": (
            {"text": f"{ctx['contact']} replied: thanks, noted.", "email_id": email_id}
            if rng.random() < 0.7
            else "Left a note for the account manager."
        ),
        "modified_at": iso(at),
    }


def _trigger_event(org: Org, event_id: str, label: str, call_id: str, created: int) -> dict:
    return {
        "name": "call.classified",
        "object": "event",
        "id": event_id,
        "actor_id": org.agent_id,
        "created_at": iso(created),
        "data": {"classification": label, "call_id": call_id},
        "entity": {"object": "call", "id": call_id},
        "entity_id": call_id,
        "message": f"Call classified as {label}",
        "modified_at": iso(created),
        "timestamp": iso(created),
    }
