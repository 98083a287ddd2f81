"""Data quality: row rules, Great Expectations suites and their execution on DuckDB."""
