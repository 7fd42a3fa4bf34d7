"""`CallGenerator`: builds the pools once, then assembles call `i` from its own seeded RNG.

`call()` draws from one `random.Random` per call in a fixed order; each step below consumes its
draws in that order, so the steps must run (and draw) exactly as `call()` sequences them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from .classifications import classification
from .config import GeneratorConfig
from .drift import apply_drift
from .ids import ALNUM, decode_call_id, encode_call_id, u64, unit
from .integrations import linked_integrations
from .org import Org, add_users, new_org, tags, workflow
from .outcomes import (
    CLASS_TEXT,
    CLASSIFICATION_WEIGHTS,
    INBOUND_REASONS,
    OUTBOUND_REASONS,
    SENTIMENT_BY_CLASS,
    TALKED_REASONS,
)
from .partners import Partner, partner
from .transcripts import render_transcript, turns_with_words
from .values import DAY, count, date, iso, money_str, pick
from .vocabulary import STRING_AMOUNT_FIELDS

_NO_EXTRA_LABEL = ("wrong_contact", "not_available")  # only ever a call's primary label


@dataclass
class _Outline:
    """Who, when and how: the first draws of a call."""

    index: int
    call_id: str
    workflow: dict | None
    partner: Partner
    direction: str
    reason: str
    talked: bool
    voicemail: bool
    contact: dict
    created: int
    start: int
    end: int
    modified: int


@dataclass
class _Content:
    """What was said and decided: the later draws of a call."""

    invoices: list[dict]
    promise_day: str
    classes: list[str]
    sentiment: str
    ctx: dict
    approver: dict | None
    classifications: list[dict]
    transcript: Any
    transcript_str: str | None


class CallGenerator:
    """Deterministic generator of complete `GET /v1/calls` call records.

    Pools (workflows, partners, users, integrations, invoices) are built once from the seed.
    Returned calls share sub-objects with the pools and with each other: never mutate them.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        self.config = config = config or GeneratorConfig()
        self._epoch = int(config.epoch.timestamp())
        self._step = config.span_days * DAY / config.span_calls
        self._id_key = u64("call-ids", config.seed)
        rng = random.Random(f"stuut-sim:{config.seed}:pools")
        self.org: Org = new_org(rng, self._epoch)
        add_users(rng, self.org, config.n_users)
        self.org.tags = tags(rng, self.org)
        self.org.linked_integrations = linked_integrations(rng, self.org)
        self.org.workflows = [workflow(rng, self.org, k) for k in range(config.n_workflows)]
        self.workflows: list[dict] = self.org.workflows
        self._workflow_by_id = {w["id"]: w for w in self.workflows}
        self._workflow_table = tuple(
            (w, 1.0 / (1.0 + 0.6 * k)) for k, w in enumerate(self.workflows)
        )
        self.partners: list[Partner] = []
        used: set[str] = set()
        for k in range(config.n_partners):
            self.partners.append(partner(rng, self.org, k, used, self.partners))
        self._partner_table = tuple((p, p.weight) for p in self.partners)

    # ----------------------------------------------------------------------------- public API

    def workflow_ids(self) -> list[str]:
        """Ids of the generator's outreach workflows (`otwfl_...`), in pool order."""
        return [w["id"] for w in self.workflows]

    def partner_ids(self) -> list[str]:
        """Ids of the pool's partners (`ptn_...`); every call's partner is one of them."""
        return [p.obj["id"] for p in self.partners]

    def invoice_ids(self, partner_id: str | None = None) -> list[str]:
        """Ids of the pool's invoices (`inv_...`), or of one partner's; calls cite only these."""
        return [
            inv["id"]
            for p in self.partners
            if partner_id is None or p.obj["id"] == partner_id
            for inv in p.invoices
        ]

    def call_id(self, index: int) -> str:
        """The id of call `index` (a bijection of the index, see `index_of`)."""
        return encode_call_id(index, self._id_key)

    def index_of(self, call_id: str) -> int | None:
        """The index of a call id made by this generator, or None."""
        return decode_call_id(call_id, self._id_key)

    def is_drift(self, index: int) -> bool:
        """True when call `index` carries schema drift (per `schema_drift_share`)."""
        share = self.config.schema_drift_share
        return share > 0 and unit("drift", self.config.seed, index) < share

    def default_created_at(self, index: int) -> datetime:
        """Default creation time of call `index` (before per-call jitter is applied)."""
        return datetime.fromtimestamp(self._epoch + index * self._step, tz=UTC)

    def call_json(self, index: int, **overrides: Any) -> bytes:
        """`call(index, **overrides)` as compact JSON bytes."""
        return orjson.dumps(self.call(index, **overrides))

    def call(
        self,
        index: int,
        *,
        workflow_id: str | None | object = ...,
        created_at: datetime | None = None,
    ) -> dict:
        """The call with this index: a pure function of (config, index) unless overrides given.

        workflow_id: omitted -> chosen by the generator (`no_workflow_share` of calls get none);
        a workflow id forces that workflow; None forces no workflow.
        created_at: None -> spread over `span_days` after the epoch, increasing with the index
        (`span_calls` indices span `span_days`); a datetime (naive = UTC) forces it.
        The returned dict shares sub-objects with other calls: do not mutate it in place.
        """
        rng = random.Random(f"{self.config.seed}:{index}")
        o = self._outline(rng, index, workflow_id, created_at)
        content = self._content(rng, o)
        record = self._record(rng, o, content)
        if self.is_drift(index):
            apply_drift(
                record,
                random.Random(f"{self.config.seed}:{index}:drift"),
                self.org,
                self.config.max_tasks,
                o.partner,
                content.ctx,
                content.approver,
                o.end,
                o.modified,
            )
        return record

    # ---------------------------------------------------------------- the steps of call(), in order

    def _outline(
        self,
        rng: random.Random,
        index: int,
        workflow_id: str | None | object,
        created_at: datetime | None,
    ) -> _Outline:
        """Time, workflow, partner, direction, outcome, contact and timing of the call."""
        # time and workflow are always drawn, so overrides do not shift other values
        jitter = (rng.random() - 0.5) * min(self._step, 3600.0)
        created = int(self._epoch + index * self._step + jitter)
        if created_at is not None:
            if created_at.tzinfo is None:
                created_at = created_at.replace(tzinfo=UTC)
            created = int(created_at.timestamp())
        workflow = self._workflow(rng, workflow_id)
        p: Partner = pick(rng, self._partner_table)
        direction = "inbound" if rng.random() < 0.12 else "outbound"
        reason = pick(rng, INBOUND_REASONS if direction == "inbound" else OUTBOUND_REASONS)
        talked = reason in TALKED_REASONS
        voicemail = reason == "voicemail_reached"
        contact = p.contacts[0] if rng.random() < 0.7 else rng.choice(p.contacts)
        start = created + rng.randint(1, 9)
        end = start + _duration(rng, reason, talked, voicemail)
        modified = end + rng.randint(4, 900)
        return _Outline(
            index=index,
            call_id=self.call_id(index),
            workflow=workflow,
            partner=p,
            direction=direction,
            reason=reason,
            talked=talked,
            voicemail=voicemail,
            contact=contact,
            created=created,
            start=start,
            end=end,
            modified=modified,
        )

    def _workflow(self, rng: random.Random, workflow_id: str | None | object) -> dict | None:
        """The call's workflow: drawn (two draws), then overridden by `workflow_id` if given."""
        no_wf = rng.random() < self.config.no_workflow_share
        drawn = pick(rng, self._workflow_table)
        if workflow_id is ...:
            return None if no_wf else drawn
        if workflow_id is None:
            return None
        if workflow_id in self._workflow_by_id:
            return self._workflow_by_id[workflow_id]
        raise ValueError(f"unknown workflow id: {workflow_id!r}")

    def _content(self, rng: random.Random, o: _Outline) -> _Content:
        """Invoices, labels, sentiment, classifications and transcript of the call."""
        cfg = self.config
        p = o.partner
        n_inv = min(count(rng, cfg.max_invoices, (0.45, 0.42, 0.09, 0.04)), len(p.invoices))
        invoices = rng.sample(p.invoices, n_inv) if n_inv else []
        promise_day = date(o.created + rng.randint(2 * DAY, 14 * DAY))
        classes = _labels(rng, o, cfg.max_classifications)
        sentiment = _sentiment(rng, o, classes)
        ctx = self._context(o, invoices, promise_day)
        approver = rng.choice(self.org.approvers) if rng.random() < 0.88 else None
        # the first classification is the primary one: confidence is non-increasing
        scores = sorted(
            (rng.randint(80, 99) if k == 0 else rng.randint(45, 85) for k in range(len(classes))),
            reverse=True,
        )
        classifications = [
            classification(
                rng,
                self.org,
                cfg.max_tasks,
                c,
                score,
                o.call_id,
                o.end,
                o.modified,
                ctx,
                approver,
            )
            for c, score in zip(classes, scores, strict=True)
        ]
        transcript, transcript_str = self._transcript(rng, o, classes, ctx)
        return _Content(
            invoices=invoices,
            promise_day=promise_day,
            classes=classes,
            sentiment=sentiment,
            ctx=ctx,
            approver=approver,
            classifications=classifications,
            transcript=transcript,
            transcript_str=transcript_str,
        )

    def _context(self, o: _Outline, invoices: list[dict], promise_day: str) -> dict:
        """The placeholders of the call's texts (no draws)."""
        p = o.partner
        first = invoices[0] if invoices else (p.invoices[0] if p.invoices else None)
        return {
            "contact": o.contact["given_name"],
            "contact_full": o.contact["name"],
            "company": p.name,
            "org": self.org.name,
            "balance": p.balance,
            "inv": first["number"] if first else "—",
            "promise": promise_day,
            "issued": (invoices[0] if invoices else p.invoices[0])["issued_at"][:10],
        }

    def _transcript(
        self, rng: random.Random, o: _Outline, classes: list[str], ctx: dict
    ) -> tuple[Any, str | None]:
        """`transcript` (word-timed turns, plain text or None) and `transcript_str`."""
        if not (o.talked or o.voicemail):
            return None, (None if rng.random() < 0.3 else "")
        scenario = "voicemail" if o.voicemail else (classes[0] if classes else "other")
        tctx = {
            **ctx,
            "agent": self.org.agent_name,
            "org_phone": self.org.phone,
            "postal": o.partner.postal,
            "email": o.contact["email"],
        }
        turns, text = render_transcript(rng, scenario, o.direction, tctx)
        form = rng.random()
        transcript: Any = None
        if form < 0.55:
            transcript = turns_with_words(turns, round(rng.uniform(0.3, 1.2), 3))
        elif form < 0.9:
            transcript = text
        return transcript, text

    def _record(self, rng: random.Random, o: _Outline, c: _Content) -> dict:
        """The call record, in documented key order."""
        org, p = self.org, o.partner
        outbound = o.direction == "outbound"
        from_number, to_number = (
            (org.phone, o.contact["phone"]) if outbound else (o.contact["phone"], org.phone)
        )
        summary = [CLASS_TEXT[label].summary.format_map(c.ctx) for label in c.classes] or [
            _no_label_summary(o.reason, c.ctx)
        ]
        retell_id = "".join(rng.choices(ALNUM, k=32))
        custom = []
        if o.talked and rng.random() < 0.2:
            custom = rng.sample(
                ["requested_w9", "portal_submission", "po_required", "remittance_sent"],
                rng.randint(1, 2),
            )
        return {
            "direction": o.direction,
            "object": "call",
            "to_number": to_number,
            "id": o.call_id,
            "agent_id": org.agent_id,
            "approver": c.approver,
            "approver_id": c.approver["id"] if c.approver else None,
            "call_agent_id": org.call_agent_ids[o.index % len(org.call_agent_ids)],
            "call_reason": _call_reason(o, c.ctx["inv"]),
            "classifications": c.classifications,
            "created_at": iso(o.created),
            "custom_classifications": custom,
            "disconnection_reason": o.reason,
            "end_time": iso(o.end),
            "from_number": from_number,
            "in_voicemail": o.voicemail,
            "invoices": self._invoice_copies(o, c),
            "is_automated": outbound or rng.random() < 0.6,
            "modified_at": iso(o.modified),
            "partner": p.obj,
            "partner_id": p.obj["id"],
            "recording_url": (
                f"https://recordings.stuut-calls.com/{retell_id}/recording.wav"
                if (o.talked or o.voicemail)
                else None
            ),
            "retell_id": retell_id,
            "sentiment": c.sentiment,
            "start_time": iso(o.start),
            "status": "pending_approval" if rng.random() < 0.25 else "completed",
            "summary": " ".join(summary),
            "transcript": c.transcript,
            "transcript_str": c.transcript_str,
            "transferred_to": (
                f"{org.phone[:-2]}{rng.randint(10, 99)}" if o.reason == "call_transfer" else None
            ),
            "workflow": o.workflow,
        }

    def _invoice_copies(self, o: _Outline, c: _Content) -> list[dict]:
        """The call's own copies of its invoices; amounts as strings per `string_amount_share`.

        Draws from a separate RNG of the call, so the share leaves every other value unchanged.
        """
        cfg = self.config
        share = cfg.string_amount_share
        amount_rng = random.Random(f"{cfg.seed}:{o.index}:amounts") if share > 0 else None
        dec = o.partner.decimals
        copies: list[dict] = []
        for inv in c.invoices:
            copy = dict(inv)
            copy["calls"] = [o.call_id]
            if "payment_promise" in c.classes and copy["amount_due"]:
                copy["promised_to_pay_date"] = c.promise_day
            if amount_rng is not None and amount_rng.random() < share:
                for f in STRING_AMOUNT_FIELDS:
                    copy[f] = money_str(round(copy[f] * 10**dec), dec)
            copies.append(copy)
        return copies


def _duration(rng: random.Random, reason: str, talked: bool, voicemail: bool) -> int:
    """Seconds from start to end: minutes when someone talked, seconds when nobody answered."""
    if talked:
        return rng.randint(45, 420) if reason != "max_duration_reached" else 600
    if voicemail:
        return rng.randint(22, 48)
    if reason == "dial_no_answer":
        return rng.randint(25, 40)
    return rng.randint(0, 12)


def _labels(rng: random.Random, o: _Outline, max_classifications: int) -> list[str]:
    """The call's classification labels, the primary one first."""
    classes: list[str] = []
    if o.talked:
        n_cls = count(rng, max_classifications, (0.04, 0.5, 0.3, 0.16))
        if n_cls:
            primary = pick(rng, CLASSIFICATION_WEIGHTS)
            if o.direction == "inbound" and primary in _NO_EXTRA_LABEL:
                primary = "payment_inquiry"
            classes.append(primary)
            while len(classes) < n_cls:
                extra = pick(rng, CLASSIFICATION_WEIGHTS)
                if extra not in classes and extra not in _NO_EXTRA_LABEL:
                    classes.append(extra)
                elif rng.random() < 0.3:
                    break
    elif o.voicemail and max_classifications and rng.random() < 0.6:
        classes.append("not_available")
    return classes


def _sentiment(rng: random.Random, o: _Outline, classes: list[str]) -> str:
    if o.talked:
        return pick(rng, SENTIMENT_BY_CLASS[classes[0] if classes else "other"])
    if o.voicemail:
        return "neutral" if rng.random() < 0.5 else "unknown"
    return "unknown"


def _call_reason(o: _Outline, inv_number: str) -> str:
    if o.workflow is not None:
        return f"{o.workflow['name']}: open balance {o.partner.balance}"
    if o.direction == "inbound":
        return f"Inbound call about invoice {inv_number}"
    return f"Manual outreach: open balance {o.partner.balance}"


def _no_label_summary(reason: str, ctx: dict) -> str:
    if reason in TALKED_REASONS:
        return "Spoke with {contact_full} about {balance}; no outcome recorded.".format_map(ctx)
    if reason == "voicemail_reached":
        return "Reached voicemail of {contact_full}; left a message about {balance}.".format_map(
            ctx
        )
    return f"The call did not connect ({reason.replace('_', ' ')})."
