"""Deterministic, seeded generator of Stuut call records in the complete `GET /v1/calls` shape.

Every field documented by `docs/stuut-api/list-calls.txt` is present at every nesting level, with
the documented type and realistic values (id prefixes, ISO-8601 UTC timestamps, documented enums,
unicode names, consistent amounts and references). `CallGenerator.call(i)` is a pure function of
`(config, i)`: each call draws from its own `random.Random` seeded from `(seed, i)`.

Speed: heavy sub-objects (partners, users, linked integrations, invoices) are built
once per generator and the SAME dict objects are reused by every call that refers to them. Callers
must treat returned calls as read-only (serialize them, or deep-copy before mutating in place);
`call_json()` returns the compact JSON bytes directly.

Modules: `config` (GeneratorConfig), `vocabulary` (documented values, DRIFT_* markers),
`reference` and `outcomes` (reference data), `ids` and `values` (helpers), `org`,
`integrations`, `partners`, `contacts`, `invoices`, `emails` (the pools), `transcripts`,
`classifications`, `drift` and `calls` (CallGenerator and the assembly of a call).
"""

from __future__ import annotations

from .calls import CallGenerator
from .config import GeneratorConfig
from .vocabulary import (
    CLASSIFICATIONS,
    CONNECTED_REASONS,
    DIRECTIONS,
    DISCONNECTION_REASONS,
    DRIFT_CALL_FIELD,
    DRIFT_CLASSIFICATION,
    DRIFT_CLASSIFICATION_FIELD,
    DRIFT_FIELDS,
    DRIFT_INVOICE_FIELD,
    DRIFT_SENTIMENT,
    ID_PREFIXES,
    NOT_CONNECTED_REASONS,
    SENTIMENTS,
    STRING_AMOUNT_FIELDS,
)

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
