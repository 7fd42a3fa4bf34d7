"""Shared orchestration settings: default states and freshness of the whole graph."""

import os
from datetime import timedelta

import dagster as dg

ENV_AUTOMATION = "STUUT_AUTOMATION_DEFAULT"

#: Every asset is expected to be refreshed nightly: WARN after 26 h, FAIL after 50 h.
NIGHTLY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=50), warn_window=timedelta(hours=26)
)


def automation_running() -> bool:
    """Whether the schedule and sensors start RUNNING (default) or STOPPED.

    `STUUT_AUTOMATION_DEFAULT=stopped` starts them stopped (tests, or a machine that should only
    run by hand); the UI can switch each one on or off whatever its default.
    """
    value = os.environ.get(ENV_AUTOMATION, "running").strip().lower()
    if value not in ("running", "stopped"):
        raise ValueError(f"{ENV_AUTOMATION} must be 'running' or 'stopped', got {value!r}")
    return value == "running"


def default_sensor_status() -> dg.DefaultSensorStatus:
    """Default status of the project's sensors."""
    return (
        dg.DefaultSensorStatus.RUNNING if automation_running() else dg.DefaultSensorStatus.STOPPED
    )


def default_schedule_status() -> dg.DefaultScheduleStatus:
    """Default status of the project's schedules."""
    return (
        dg.DefaultScheduleStatus.RUNNING
        if automation_running()
        else dg.DefaultScheduleStatus.STOPPED
    )
