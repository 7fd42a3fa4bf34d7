"""The simulator's calls: generated once, kept as rendered JSON, filtered and paged like the API."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from .generator import CallGenerator
from .hostile import hostile_body, hostile_kind


@dataclass(frozen=True)
class StoredCall:
    """One call: the fields the filters need, and its JSON as served."""

    id: str
    created_at: str
    workflow_id: str | None
    partner_id: str | None
    invoice_ids: frozenset[str]
    sentiment: str | None
    direction: str | None
    classifications: frozenset[str]
    body: bytes
    hostile: str | None = None  # the kind of hostile JSON served (`hostile.KINDS`), if any

    @classmethod
    def from_call(cls, call: dict, hostile: str | None = None) -> StoredCall:
        """Index a generated call and render its JSON once (made `hostile`, when given)."""
        workflow = call.get("workflow") or {}
        return cls(
            id=call["id"],
            created_at=call["created_at"],
            workflow_id=workflow.get("id"),
            partner_id=call.get("partner_id"),
            invoice_ids=frozenset(i["id"] for i in call.get("invoices") or ()),
            sentiment=call.get("sentiment"),
            direction=call.get("direction"),
            classifications=frozenset(
                c.get("classification") for c in call.get("classifications") or ()
            ),
            body=orjson.dumps(call) if hostile is None else hostile_body(call, hostile),
            hostile=hostile,
        )


@dataclass(frozen=True)
class CallFilter:
    """The API's filters, as the server parsed them."""

    classification: frozenset[str] = frozenset()
    direction: str | None = None
    invoice: str | None = None
    partner: str | None = None
    sentiment: frozenset[str] = frozenset()
    workflow: str | None = None

    def matches(self, call: StoredCall) -> bool:
        """True when the call passes every filter set."""
        return (
            (not self.classification or bool(self.classification & call.classifications))
            and (self.direction is None or call.direction == self.direction)
            and (self.invoice is None or self.invoice in call.invoice_ids)
            and (self.partner is None or call.partner_id == self.partner)
            and (not self.sentiment or call.sentiment in self.sentiment)
        )


class CallStore:
    """All calls of the simulated account, newest first; thread-safe.

    About `hostile_fraction` of the calls present at start are served as hostile JSON (which ones
    and how: `hostile.hostile_kind`, by seed and index); calls inserted later never are.
    """

    def __init__(
        self, generator: CallGenerator, n_calls: int, *, hostile_fraction: float = 0.0
    ) -> None:
        self.generator = generator
        self._lock = threading.Lock()
        self._next_index = n_calls
        seed = generator.config.seed
        calls = [
            StoredCall.from_call(generator.call(i), hostile_kind(seed, i, hostile_fraction))
            for i in range(n_calls)
        ]
        calls.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        self._all: list[StoredCall] = calls
        self._by_workflow: dict[str | None, list[StoredCall]] = {}
        for call in calls:
            self._by_workflow.setdefault(call.workflow_id, []).append(call)
        self._version = 0
        self._cache: dict[CallFilter, tuple[int, list[StoredCall]]] = {}

    def select(self, flt: CallFilter) -> list[StoredCall]:
        """The calls matching `flt`, newest first (a snapshot)."""
        with self._lock:
            hit = self._cache.get(flt)
            if hit and hit[0] == self._version:
                return hit[1]
            base = self._by_workflow.get(flt.workflow, []) if flt.workflow else self._all
            if flt == CallFilter(workflow=flt.workflow):
                selected = list(base)
            else:
                selected = [c for c in base if flt.matches(c)]
            self._cache[flt] = (self._version, selected)
            return selected

    def insert_new(self, workflow_id: str | None) -> StoredCall:
        """Add a call newer than every other one (it lands on page 0 and shifts the rest)."""
        with self._lock:
            index = self._next_index
            self._next_index += 1
            newest = datetime.fromisoformat(self._all[0].created_at) if self._all else None
            created = (newest + timedelta(minutes=1)) if newest else None
            call = StoredCall.from_call(
                self.generator.call(index, workflow_id=workflow_id, created_at=created)
            )
            self._all.insert(0, call)
            self._by_workflow.setdefault(call.workflow_id, []).insert(0, call)
            self._version += 1
            return call

    def __len__(self) -> int:
        return len(self._all)

    def ids(self, workflow: str | None = None) -> set[str]:
        """Ids of every call, or of one workflow's calls."""
        with self._lock:
            calls = self._by_workflow.get(workflow, []) if workflow else self._all
            return {c.id for c in calls}

    def records(self, workflow: str | None = None) -> list[dict]:
        """Every call (or one workflow's) decoded from the JSON served, newest first.

        Hostile bodies are read by Python's json (it takes lone surrogates; of duplicate keys the
        last wins)."""
        with self._lock:
            calls = list(self._by_workflow.get(workflow, []) if workflow else self._all)
        return [orjson.loads(c.body) if c.hostile is None else json.loads(c.body) for c in calls]

    def workflow_ids(self) -> list[str]:
        """Workflow ids that have at least one call."""
        with self._lock:
            return sorted(k for k in self._by_workflow if k is not None)
