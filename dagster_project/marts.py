"""The marts: every dbt model of schema ``marts``, read from the dbt manifest — the one list.

What is validated (a GE suite and a ``ge_suite`` asset check per mart: quality/suites.py,
assets/transform.py), what the serving asset depends on, and the descriptions, Chinese labels and
publishing rule the serving catalog publishes with (serving/catalog.py) all come from here, so adding
a mart to dbt/models/marts/ is the whole change: no list of mart names is kept by hand.

A model's publishing rule is its ``meta: {zengshou_publish: ...}`` (in ``config:`` or on the model);
a column's Chinese label is its ``meta: {label_zh: ...}``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from dagster_project.dbt_manifest import ensure_manifest

MARTS_SCHEMA = "marts"
PUBLISH_META_KEY = "zengshou_publish"

# How a mart is partitioned by snapshot month (issue 12): meta zengshou_partition, set by the macro
# by_month_config (dbt/macros/rebuild_months.sql) on an incremental model that deletes and rebuilds exactly
# the months (``as_of_month``) or the years of the months (``year``) of a build, and nothing else. A model
# that also deletes other rows (the macro's ``also``) or is built any other way has none, and publishing
# and validation take it whole.
MONTH, YEAR = "month", "year"
PARTITION_META_KEY = "zengshou_partition"
_PARTITIONS = {("as_of_month", MONTH), ("year", YEAR)}


@dataclass(frozen=True)
class MartColumnDoc:
    description: str | None
    label_zh: str | None        # meta label_zh of the column, when the yml sets one


@dataclass(frozen=True)
class MartModel:
    name: str
    description: str | None
    columns: dict[str, MartColumnDoc]   # in the yml's order
    publish: str | None                 # meta zengshou_publish (None: the default, published to all)
    tags: tuple[str, ...] = ()
    partition: tuple[str, str] | None = None   # (column, MONTH | YEAR): rebuilt by month; None: whole

    @property
    def asset_key(self) -> dg.AssetKey:
        """The Dagster key of the model (assets/transform.py keys models [schema, name])."""
        return dg.AssetKey([MARTS_SCHEMA, self.name])


def manifest_path() -> Path:
    """The manifest the marts are read from, parsed first when missing or stale."""
    return ensure_manifest()


def _meta(props: dict[str, Any]) -> dict[str, Any]:
    return {**(props.get("meta") or {}), **((props.get("config") or {}).get("meta") or {})}


def _clean(text: str | None) -> str | None:
    """dbt keeps a yml description as written (folded over lines): one line for publishing."""
    return " ".join(str(text).split()) if text else None


def _partition(config: dict[str, Any], meta: dict[str, Any]) -> tuple[str, str] | None:
    """(column, MONTH | YEAR) of a model built by month with by_month_config, else None. The meta is
    believed only with the config it stands for (incremental, delete+insert on that column): a model
    whose config was changed by hand past the macro is taken whole."""
    partition = meta.get(PARTITION_META_KEY)
    if not isinstance(partition, dict):
        return None
    column, kind = partition.get("column"), partition.get("by")
    if ((column, kind) not in _PARTITIONS or config.get("materialized") != "incremental"
            or config.get("incremental_strategy") != "delete+insert" or config.get("unique_key") != column):
        return None
    return column, kind


def models_from_manifest(manifest: dict[str, Any]) -> tuple[MartModel, ...]:
    """Every model node of schema marts in a parsed manifest, by name."""
    models = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or (node.get("config") or {}).get("schema") != MARTS_SCHEMA:
            continue
        columns = {name: MartColumnDoc(_clean(col.get("description")), _meta(col).get("label_zh"))
                   for name, col in (node.get("columns") or {}).items()}
        models.append(MartModel(node["name"], _clean(node.get("description")), columns,
                                _meta(node).get(PUBLISH_META_KEY), tuple(node.get("tags") or ()),
                                _partition(node.get("config") or {}, _meta(node))))
    return tuple(sorted(models, key=lambda m: m.name))


@functools.lru_cache(maxsize=4)
def _read(path: Path, mtime_ns: int, size: int) -> tuple[MartModel, ...]:
    return models_from_manifest(json.loads(path.read_text("utf-8")))


def mart_models() -> tuple[MartModel, ...]:
    """The mart models of the current manifest (cached until the file changes)."""
    path = manifest_path()
    stat = path.stat()
    return _read(path, stat.st_mtime_ns, stat.st_size)


def mart_names() -> tuple[str, ...]:
    """Names of every mart model, sorted: the list the GE suites, checks and serving deps follow."""
    return tuple(m.name for m in mart_models())


def mart_asset_keys() -> list[dg.AssetKey]:
    """Asset keys of every mart (marts/<name>): e.g. the deps of the serving asset, which publishes them all."""
    return [m.asset_key for m in mart_models()]


# --------------------------------------------------------------------------------------------------
# Exposures: what reads the warehouse outside dbt, and what it reads (dbt/models/marts/_exposures.yml)
# --------------------------------------------------------------------------------------------------
def exposure_nodes_from_manifest(manifest: dict[str, Any], name: str) -> tuple[dict[str, Any], ...]:
    """The manifest nodes (models, seeds, sources) the exposure ``name`` depends on, in its yml order.
    KeyError naming the exposure when the manifest has none of that name."""
    exposures = [e for e in manifest.get("exposures", {}).values() if e.get("name") == name]
    if not exposures:
        raise KeyError(f"the dbt manifest has no exposure {name!r} (dbt/models/marts/_exposures.yml)")
    nodes = {**manifest.get("sources", {}), **manifest.get("nodes", {})}
    return tuple(nodes[uid] for uid in exposures[0]["depends_on"]["nodes"])


@functools.lru_cache(maxsize=4)
def _read_exposure(path: Path, mtime_ns: int, size: int, name: str) -> tuple[dict[str, Any], ...]:
    return exposure_nodes_from_manifest(json.loads(path.read_text("utf-8")), name)


def exposure_nodes(name: str) -> tuple[dict[str, Any], ...]:
    """What the exposure ``name`` reads, from the current manifest (cached until the file changes)."""
    path = manifest_path()
    stat = path.stat()
    return _read_exposure(path, stat.st_mtime_ns, stat.st_size, name)

