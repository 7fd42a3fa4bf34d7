"""Plugins of the Dagster instance, named in `deploy/dagster.yaml` and
`deploy/celery-run-launcher.yaml` (loaded by the instance, never by the code location):
`postgres.PooledPostgresStorage` and `celery_launcher.CeleryRunLauncher`."""
