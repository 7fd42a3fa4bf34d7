"""Schema drift (fault injection): values and fields the contract does not document."""

from __future__ import annotations

import random

from .classifications import classification
from .org import Org
from .partners import Partner
from .vocabulary import (
    DRIFT_CALL_FIELD,
    DRIFT_CLASSIFICATION,
    DRIFT_CLASSIFICATION_FIELD,
    DRIFT_INVOICE_FIELD,
    DRIFT_SENTIMENT,
)


def apply_drift(
    call: dict,
    rng: random.Random,
    org: Org,
    max_tasks: int,
    partner: Partner,
    ctx: dict,
    approver: dict | None,
    end: int,
    modified: int,
) -> None:
    """Apply schema drift to a freshly built call (only its own, unshared parts).

    Sets the drift sentiment and call field, relabels one classification (adding one if there
    is none) and marks one invoice (adding a copy of a partner invoice if there is none).
    """
    call["sentiment"] = DRIFT_SENTIMENT
    call[DRIFT_CALL_FIELD] = rng.randint(1, 3)
    classifications = call["classifications"]
    if not classifications:
        classifications.append(
            classification(
                rng,
                org,
                max_tasks,
                DRIFT_CLASSIFICATION,
                90,
                call["id"],
                end,
                modified,
                ctx,
                approver,
            )
        )
    target = rng.choice(classifications)
    target["classification"] = DRIFT_CLASSIFICATION
    target[DRIFT_CLASSIFICATION_FIELD] = rng.choice(
        ("attorney_letter", "small_claims", "collections_agency")
    )
    invoices = call["invoices"]
    if not invoices:
        copy = dict(rng.choice(partner.invoices))
        copy["calls"] = [call["id"]]
        invoices.append(copy)
    rng.choice(invoices)[DRIFT_INVOICE_FIELD] = rng.choice(
        ("pre_legal", "agency", "internal_escalation")
    )
