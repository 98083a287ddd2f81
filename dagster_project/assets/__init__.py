"""Dagster assets: one module per source (monitoring, relief, HR) and one for the dbt transformation."""
