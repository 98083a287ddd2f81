"""Serving the marts to BI tools: a read-only DuckDB file swapped in atomically after each run, and,
when ZENGSHOU_BI_DB_URL is set, a PostgreSQL database with Chinese-labelled views, reader roles and
per-prefecture row-level security."""

from dagster_project.serving.catalog import PersonalDataError
from dagster_project.serving.duckdb_file import ServingFilePublish, publish_serving_file, serving_file_path
from dagster_project.serving.postgres import PostgresPublish, PublishError, RoleNames, publish_postgres

__all__ = [
    "PersonalDataError",
    "PostgresPublish",
    "PublishError",
    "RoleNames",
    "ServingFilePublish",
    "publish_postgres",
    "publish_serving_file",
    "serving_file_path",
]
