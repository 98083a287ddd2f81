"""zengshou: the 增收 warehouse (Dagster code location)."""
