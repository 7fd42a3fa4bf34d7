"""Workflow discovery: there is no list-workflows endpoint, so read `workflow.id` off the calls."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import msgspec

from .client import StuutClient
from .query import CallsQuery
from .surrogates import masked_same_length

WORKFLOW_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def is_valid_workflow_id(value: object) -> bool:
    """True for ids safe as partition keys and path parts: letters, digits, `_`, `-`, 1..128."""
    return isinstance(value, str) and bool(WORKFLOW_ID_PATTERN.fullmatch(value))


class _WorkflowRef(msgspec.Struct):
    id: object = None
    name: object = None


class CallWorkflow(msgspec.Struct):
    """A call decoded down to its workflow (nothing else is read: a record with no usable `id`
    or with odd other fields still tells its workflow)."""

    workflow: _WorkflowRef | None = None


_decoder = msgspec.json.Decoder(CallWorkflow)


def _workflow_of(raw: msgspec.Raw) -> CallWorkflow | None:
    """The record's workflow part, or None when the record is not a JSON object with a readable
    `workflow` (a lone surrogate escape is read as U+FFFD, as the client does)."""
    try:
        return _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    masked, spans = masked_same_length(bytes(raw))
    if not spans:
        return None
    try:
        return _decoder.decode(masked)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


@dataclass
class WorkflowScan:
    """What a bounded scan of the calls found."""

    workflows: dict[str, str | None] = field(default_factory=dict)
    invalid_ids: dict[str, int] = field(default_factory=dict)
    calls_scanned: int = 0
    calls_without_workflow: int = 0
    #: Records whose `workflow` could not be read (not a JSON object, or `workflow` malformed).
    calls_unreadable: int = 0
    pages_scanned: int = 0
    total_records: int = 0
    next_page: int | None = None


def scan_workflows(
    client: StuutClient, *, start_page: int = 0, max_pages: int | None = None, limit: int = 200
) -> WorkflowScan:
    """Scan pages from `start_page` (at most `max_pages`), collecting workflow ids and names.

    `next_page` of the result is where a later scan should resume (None at the end of the list).
    Ids that are not valid partition keys are counted in `invalid_ids`, never returned as workflows.
    """
    query = CallsQuery(limit=limit)
    scan = WorkflowScan()
    page: int | None = start_page
    while page is not None and (max_pages is None or scan.pages_scanned < max_pages):
        total, records, next_page = client.get_page(query, page)
        scan.pages_scanned += 1
        scan.total_records = total
        for raw in records:
            scan.calls_scanned += 1
            call = _workflow_of(raw)
            if call is None:
                scan.calls_unreadable += 1
                continue
            wf = call.workflow
            if wf is None or wf.id is None:
                scan.calls_without_workflow += 1
            elif is_valid_workflow_id(wf.id):
                name = wf.name if isinstance(wf.name, str) else None
                scan.workflows.setdefault(wf.id, name)  # type: ignore[arg-type]
            else:
                key = repr(wf.id)[:80]
                scan.invalid_ids[key] = scan.invalid_ids.get(key, 0) + 1
        page = next_page if records else None
    scan.next_page = page
    return scan
