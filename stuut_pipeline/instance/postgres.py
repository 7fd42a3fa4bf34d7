"""The Dagster instance's Postgres storage, with pooled connections (`deploy/dagster.yaml`).

dagster-postgres opens a new connection for every statement outside the webserver (SQLAlchemy's
`NullPool`): a run writes ~110 events, and each event is several connections, every one a
Postgres backend forked and authenticated (~4 ms on loopback, more over a network and TLS).
Measured here: 470 connections per run, ~2 s of a 7 s run (BENCHMARKS.md). This storage is
dagster-postgres's own, the same tables and schema migrations, with each of its three
engines on a small pool instead, the mode dagster-postgres already uses in the webserver
(`optimize_for_webserver`). Configured as the instance's `storage: custom:` block; the webserver
still swaps in its own pool, and a process forked with a live engine (Celery's prefork pool)
drops the pool it inherited.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from typing import Any

import sqlalchemy
from dagster import Field, IntSource
from dagster._core.storage.config import pg_config
from dagster._serdes import ConfigurableClassData
from dagster_postgres import (
    DagsterPostgresStorage,
    PostgresEventLogStorage,
    PostgresRunStorage,
    PostgresScheduleStorage,
)
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)

#: Per storage (runs, events, schedules) and process: connections kept open, and extra ones
#: opened under a burst (closed when returned).
DEFAULT_POOL_SIZE = 1
DEFAULT_MAX_OVERFLOW = 4
#: Seconds after which a pooled connection is replaced (a proxy or firewall may drop idle ones).
DEFAULT_POOL_RECYCLE = 1800

_ENGINES: weakref.WeakSet[sqlalchemy.engine.Engine] = weakref.WeakSet()


def _drop_inherited_pools() -> None:
    """In a forked child: forget the parent's pooled connections without closing them (the
    parent still uses them); the child opens its own."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_drop_inherited_pools)


def pooled_engine(
    postgres_url: str,
    token_provider: Any = None,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    max_overflow: int = DEFAULT_MAX_OVERFLOW,
    pool_recycle: int = DEFAULT_POOL_RECYCLE,
) -> sqlalchemy.engine.Engine:
    """An AUTOCOMMIT engine (as dagster-postgres uses) on a pool; each connection checked with a
    ping when taken, so a restarted server costs one reconnect, not an error."""
    engine = create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=pool_recycle,
        pool_pre_ping=True,
    )
    _ENGINES.add(engine)
    return engine


class _Pooled:
    """Mixin of a dagster-postgres storage: its engine on a pool, disposed with the storage."""

    _engine: sqlalchemy.engine.Engine

    def _use_pool(self, postgres_url: str, token_provider: Any, pool: Mapping[str, int]) -> None:
        self._engine.dispose()
        self._engine = pooled_engine(postgres_url, token_provider, **pool)

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()


class PooledRunStorage(_Pooled, PostgresRunStorage):
    """dagster-postgres's run storage on a pool."""

    def __init__(self, postgres_url: str, autocreate: bool, token_provider: Any, pool) -> None:
        super().__init__(postgres_url, autocreate, token_provider=token_provider)
        self._use_pool(postgres_url, token_provider, pool)


class PooledEventLogStorage(_Pooled, PostgresEventLogStorage):
    """dagster-postgres's event-log storage on a pool (its polling event watchers use it too)."""

    def __init__(self, postgres_url: str, autocreate: bool, token_provider: Any, pool) -> None:
        super().__init__(postgres_url, autocreate, token_provider=token_provider)
        self._use_pool(postgres_url, token_provider, pool)


class PooledScheduleStorage(_Pooled, PostgresScheduleStorage):
    """dagster-postgres's schedule storage on a pool."""

    def __init__(self, postgres_url: str, autocreate: bool, token_provider: Any, pool) -> None:
        super().__init__(postgres_url, autocreate, token_provider=token_provider)
        self._use_pool(postgres_url, token_provider, pool)


POOL_FIELDS = {
    "pool_size": DEFAULT_POOL_SIZE,
    "max_overflow": DEFAULT_MAX_OVERFLOW,
    "pool_recycle": DEFAULT_POOL_RECYCLE,
}


class PooledPostgresStorage(DagsterPostgresStorage):
    """dagster-postgres's run, event-log and schedule storage, each on a connection pool.

    Config: dagster-postgres's (`postgres_url` or `postgres_db`, ...) plus `pool_size`,
    `max_overflow` and `pool_recycle` (per storage and process)."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
        pool: Mapping[str, int] | None = None,
    ) -> None:
        # DagsterPostgresStorage.__init__ with pooled storages (its own would open NullPool ones)
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        args = (
            postgres_url,
            should_autocreate_tables,
            token_provider,
            {**POOL_FIELDS, **(pool or {})},
        )
        self._run_storage = PooledRunStorage(*args)
        self._event_log_storage = PooledEventLogStorage(*args)
        self._schedule_storage = PooledScheduleStorage(*args)
        super(DagsterPostgresStorage, self).__init__()

    @classmethod
    def config_type(cls) -> dict:
        pool = {
            name: Field(IntSource, is_required=False, default_value=default)
            for name, default in POOL_FIELDS.items()
        }
        return {**pg_config(), **pool}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
            pool={name: config_value[name] for name in POOL_FIELDS if name in config_value},
        )

    # dagster-postgres's storage names its stock classes here, with this block's config (which
    # they would refuse: the pool keys). Dagster 1.13 never reads them for a `custom:` storage;
    # None says there is no separate storage to rebuild.
    @property
    def event_storage_data(self) -> None:
        return None

    @property
    def run_storage_data(self) -> None:
        return None

    @property
    def schedule_storage_data(self) -> None:
        return None

    def dispose(self) -> None:
        """Close every pooled connection. A DagsterInstance holds the three storages, not this
        object, and disposes only the run and event-log ones: the schedule storage's pool (an
        idle connection at most) goes when the storage is garbage-collected."""
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage.dispose()
