"""dagster-celery's run launcher, with a termination that Dagster records as a cancellation.

`dagster_celery.launcher.CeleryRunLauncher.terminate` revokes the run's Celery task without
marking the run CANCELING first (Dagster's own launchers do). The worker then interrupts the run,
and Dagster, finding no termination request, records "interrupted unexpectedly": the run ends
FAILURE and run retries start it again. Measured in the topology: a run terminated from the web
UI ended FAILURE 1 s later. This launcher marks the run CANCELING, then revokes: the run ends
CANCELED and is not retried.
"""

from __future__ import annotations

from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster_celery.launcher import CeleryRunLauncher as _DagsterCeleryRunLauncher
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

#: States in which a termination request means something to a Celery task.
_IN_FLIGHT = (DagsterRunStatus.STARTING, DagsterRunStatus.STARTED)


class CeleryRunLauncher(_DagsterCeleryRunLauncher):
    """dagster-celery's `CeleryRunLauncher` (same config): a run per Celery task; terminating a
    run marks it CANCELING before its task is revoked."""

    def terminate(self, run_id: str) -> bool:
        """Mark the run CANCELING, then revoke its task (the worker interrupts the run). A run
        whose task was not sent yet is only marked: the worker skips a task of a CANCELING run,
        and run monitoring ends it CANCELED."""
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.status not in (*_IN_FLIGHT, DagsterRunStatus.CANCELING):
            return False
        if run.status != DagsterRunStatus.CANCELING:
            self._instance.report_run_canceling(run, message="Terminating the run's Celery task.")
        if DAGSTER_CELERY_TASK_ID_TAG not in run.tags:
            return True
        try:
            return super().terminate(run_id)
        except Exception as exc:
            self._instance.report_engine_event(
                f"Could not revoke the run's Celery task ({type(exc).__name__}): the run may"
                " still be executing. Terminate it again once the broker answers.",
                run,
                cls=self.__class__,
            )
            raise
