"""Warehouse: DuckDB rollups of the flattened call tables, AR KPIs and Parquet marts."""
