"""stuut-pipeline: Stuut call data as typed Parquet, DuckDB rollups and AR KPIs, on Dagster."""
