"""A cheap, read-only call store for benchmarks: one workflow of N full-shape calls, any N.

Rendering every call of a 200k-call account takes minutes and ~6.6 GB. `BenchStore` renders only
`templates` distinct calls once (with the generator, forced to one workflow) and serves call `i`
as template `i % templates` with its per-call ids (`call_`, `cls_`, `task_`, `tdat_`, `evt_`)
made unique: the last 4 characters of each such id become the "round" `i // templates` in base 62.
Every call keeps its template's size exactly, every primary key of the flattened tables stays
unique, and a page body costs one memcpy per call plus a few slice assignments.

With `templates` >= the flattener's batch (2000 calls) no row group holds the same transcript
twice, so Parquet dictionary/zstd compression sees realistic data, not repeats.

Plug it into a `StuutSimulator` built with `n_calls=0` (the pools only):

    sim = StuutSimulator(GeneratorConfig(n_workflows=1), n_calls=0)
    sim.store = BenchStore(sim.generator, 200_000)

Used by `serve.py` (a benchmark tool, not part of the product).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import overload

from stuut_pipeline.simulator.generator import CallGenerator
from stuut_pipeline.simulator.store import CallFilter

_ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Ids created per call (the keys of the flattened tables and what they reference): the call's
#: own id (11 characters after `call_`) and `_rid` ids (16 characters after the prefix).
PER_CALL_PREFIXES: tuple[str, ...] = ("call", "cls", "task", "tdat", "evt")
_ID = re.compile(rb'"(call_[0-9A-Za-z]{11}|(?:cls|task|tdat|evt)_[0-9A-Za-z]{16})"')
SUFFIX = 4  # 62**4 rounds: 14.7M * templates calls
MAX_ROUNDS = 62**SUFFIX


def _b62(x: int, width: int = SUFFIX) -> bytes:
    out = bytearray(width)
    for k in range(width - 1, -1, -1):
        x, r = divmod(x, 62)
        out[k] = _ALNUM[r]
    return bytes(out)


class BenchCall:
    """Call `index` of a `BenchStore`; `body` is rendered on access."""

    __slots__ = ("_store", "index")

    def __init__(self, store: BenchStore, index: int) -> None:
        self._store = store
        self.index = index

    @property
    def body(self) -> bytearray:
        """The call's JSON as served (a fresh buffer)."""
        return self._store.body(self.index)

    @property
    def id(self) -> str:
        """The call's id."""
        return self._store.call_id(self.index)


class _Calls(Sequence[BenchCall]):
    """The store's calls as a lazy sequence (what `StuutSimulator.handle` slices into pages)."""

    def __init__(self, store: BenchStore) -> None:
        self._store = store

    def __len__(self) -> int:
        return len(self._store)

    @overload
    def __getitem__(self, key: int) -> BenchCall: ...
    @overload
    def __getitem__(self, key: slice) -> list[BenchCall]: ...
    def __getitem__(self, key: int | slice) -> BenchCall | list[BenchCall]:
        n = len(self._store)
        if isinstance(key, slice):
            return [BenchCall(self._store, i) for i in range(*key.indices(n))]
        if key < 0:
            key += n
        if not 0 <= key < n:
            raise IndexError(key)
        return BenchCall(self._store, key)


class BenchStore:
    """N calls of one workflow from `templates` rendered ones (see the module docstring).

    Implements what `StuutSimulator` needs of a store: `select`, `workflow_ids`, `ids`,
    `insert_new` (refused: the account is fixed) and `__len__`. Only the `workflow` filter is
    supported; any other filter raises `NotImplementedError`.
    """

    def __init__(
        self,
        generator: CallGenerator,
        n_calls: int,
        *,
        workflow_id: str | None = None,
        templates: int = 2000,
    ) -> None:
        if n_calls < 0 or templates < 1:
            raise ValueError("n_calls must be >= 0 and templates >= 1")
        self.workflow_id = workflow_id or generator.workflow_ids()[0]
        self.n_calls = n_calls
        k = max(1, min(templates, n_calls))
        if n_calls > k * MAX_ROUNDS:
            raise ValueError(f"at most {k * MAX_ROUNDS} calls with {k} templates")
        self._bodies: list[bytes] = []
        self._slots: list[tuple[int, ...]] = []  # offsets of the 4 suffix bytes to overwrite
        self._call_ids: list[str] = []
        bodies = [generator.call_json(t, workflow_id=self.workflow_id) for t in range(k)]
        found = [[(m.group(1), m.end(1) - SUFFIX) for m in _ID.finditer(b)] for b in bodies]
        used_by: dict[bytes, set[int]] = {}
        for t, hits in enumerate(found):
            for token, _ in hits:
                used_by.setdefault(token, set()).add(t)
        # An id seen in one template only is made per call; one several templates share (a
        # pool object's) is kept. Stems must be unique, or two served ids could coincide.
        stems: dict[bytes, bytes] = {}
        for token in used_by:
            if stems.setdefault(token[:-SUFFIX], token) != token:
                raise ValueError(f"two ids share all but their last {SUFFIX} characters: {token!r}")
        for body, hits in zip(bodies, found, strict=True):
            slots = tuple(off for token, off in hits if len(used_by[token]) == 1)
            call_id = re.search(rb'"id":"(call_[0-9A-Za-z]{11})"', body)
            assert call_id is not None, "a generated call has an id"
            self._call_ids.append(call_id.group(1)[:-SUFFIX].decode())
            self._bodies.append(body)
            self._slots.append(slots)
        self._view = _Calls(self)

    @property
    def templates(self) -> int:
        """How many distinct calls were rendered."""
        return len(self._bodies)

    @property
    def mean_call_bytes(self) -> float:
        """Mean size of a served call."""
        return sum(map(len, self._bodies)) / len(self._bodies)

    def body(self, index: int) -> bytearray:
        """The JSON of call `index` (0 = newest), in a fresh buffer (one copy of its template)."""
        r, t = divmod(index, len(self._bodies))
        suffix = _b62(r)
        buf = bytearray(self._bodies[t])
        for off in self._slots[t]:
            buf[off : off + SUFFIX] = suffix
        return buf

    def call_id(self, index: int) -> str:
        """The id of call `index`."""
        k = len(self._bodies)
        return self._call_ids[index % k] + _b62(index // k).decode()

    def page(self, start: int, stop: int) -> Iterator[bytearray]:
        """Bodies of calls `start..stop-1`."""
        for i in range(start, min(stop, self.n_calls)):
            yield self.body(i)

    # --- the store interface of StuutSimulator ---------------------------------------------

    def select(self, flt: CallFilter) -> Sequence[BenchCall]:
        """Every call for no filter or this store's workflow; none for another workflow."""
        if flt != CallFilter(workflow=flt.workflow):
            raise NotImplementedError("BenchStore supports the `workflow` filter only")
        if flt.workflow is not None and flt.workflow != self.workflow_id:
            return []
        return self._view

    def workflow_ids(self) -> list[str]:
        """The one workflow served."""
        return [self.workflow_id]

    def ids(self, workflow: str | None = None) -> set[str]:
        """Ids of every call (or none for another workflow)."""
        if workflow is not None and workflow != self.workflow_id:
            return set()
        return {self.call_id(i) for i in range(self.n_calls)}

    def insert_new(self, workflow_id: str | None) -> BenchCall:
        """Refused: a benchmark serves a fixed account (leave `drift_inserts` at 0)."""
        raise NotImplementedError("BenchStore is read-only: run benchmarks without drift")

    def __len__(self) -> int:
        return self.n_calls
