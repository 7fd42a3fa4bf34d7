"""Default states of the schedule and sensors (`$STUUT_AUTOMATION_DEFAULT`, read in settings)."""

import dagster as dg

from stuut_pipeline.settings import automation_running


def default_sensor_status() -> dg.DefaultSensorStatus:
    """Default status of the project's sensors (the UI can switch each one on or off)."""
    return (
        dg.DefaultSensorStatus.RUNNING if automation_running() else dg.DefaultSensorStatus.STOPPED
    )


def default_schedule_status() -> dg.DefaultScheduleStatus:
    """Default status of the project's schedules (the UI can switch each one on or off)."""
    return (
        dg.DefaultScheduleStatus.RUNNING
        if automation_running()
        else dg.DefaultScheduleStatus.STOPPED
    )
