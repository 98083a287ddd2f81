"""Whether a landed file still has to be loaded. Loading it is the one batch pipeline
(``ingest/batch_pipeline.py``)."""

from __future__ import annotations

from dagster_project.ingest.file_sources import LandedFile
from dagster_project.ingest.readers import file_sha256
from dagster_project.ingest.warehouse import connect, last_batch
from dagster_project.settings import Settings


def is_new_or_changed(settings: Settings, landed: LandedFile) -> bool:
    """True unless the latest attempt for this source partition read a file with the same content."""
    if not settings.warehouse.exists():
        return True
    with connect(settings.warehouse) as con:
        last = last_batch(con, landed.source.name, landed.partition_key)
    return last is None or last[0] != file_sha256(landed.path)
