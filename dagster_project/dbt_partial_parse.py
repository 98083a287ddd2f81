"""dbt's partial parsing, kept per warehouse.

dbt re-parses the whole project (≈ 4 s of CPU) unless the target dir holds a partial_parse.msgpack
written under the same CLI vars and the same profile connection info, which includes the warehouse path
(profiles.yml). The transform asset gives every
build a target dir of its own, removed afterwards, so the file of the last finished build on each
warehouse is kept here, on the project's disk (not beside the warehouse: a full warehouse disk must
not break it), named by the warehouse path. Tests create a warehouse per scenario: the oldest go.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dagster_project.settings import DBT_PROJECT_DIR

PARTIAL_PARSE_DIR = DBT_PROJECT_DIR / "target" / "partial_parse"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PARTIAL_PARSE_KEEP = 16


def kept_partial_parse(warehouse: Path) -> Path:
    """Where the partial-parse file of ``warehouse`` is kept: 16 hex of SHA-256 of its resolved path."""
    key = hashlib.sha256(str(Path(warehouse).resolve()).encode()).hexdigest()[:16]
    return PARTIAL_PARSE_DIR / f"{key}.msgpack"


def restore_partial_parse(warehouse: Path, target: Path, warn: Callable[[str], None]) -> bool:
    """Before dbt runs: copy the kept file of ``warehouse`` into ``target`` (dagster-dbt then leaves it
    there instead of copying dbt/target's, parsed with a placeholder profile). True when copied; a
    failure is only a warning (dbt parses in full)."""
    kept = kept_partial_parse(warehouse)
    try:
        if not kept.is_file():
            return False
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, target / PARTIAL_PARSE_FILE)
        return True
    except OSError as exc:
        warn(f"dbt will parse in full: could not copy {kept} into {target}: {exc}")
        return False


def keep_partial_parse(warehouse: Path, target: Path, warn: Callable[[str], None]) -> bool:
    """After a build that finished: keep ``target``'s partial-parse file for the next build on
    ``warehouse`` (written to a temp file in the same folder and renamed, so a reader never sees half a
    file), then drop the oldest kept files beyond PARTIAL_PARSE_KEEP. A failure is only a warning."""
    written = target / PARTIAL_PARSE_FILE
    kept = kept_partial_parse(warehouse)
    tmp: str | None = None
    try:
        if not written.is_file():
            return False
        kept.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=kept.parent, prefix=f".{kept.stem}.", suffix=".tmp")
        os.fchmod(fd, 0o644)  # as dbt's own files (mkstemp makes it 0600)
        with os.fdopen(fd, "wb") as out, open(written, "rb") as src:
            shutil.copyfileobj(src, out)
        os.replace(tmp, kept)
        tmp = None
        _prune_partial_parse()
        return True
    except OSError as exc:
        warn(f"dbt's partial-parse file not kept for the next build: {exc}")
        return False
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _prune_partial_parse() -> None:
    """Keep the PARTIAL_PARSE_KEEP most recently written files, and drop temp files a killed process left
    (older than an hour). Another process may prune at the same time: a file already gone is no error."""
    files = []
    for p in PARTIAL_PARSE_DIR.glob("*.msgpack"):
        with contextlib.suppress(FileNotFoundError):
            files.append((p.stat().st_mtime, p))
    for _, p in sorted(files, reverse=True)[PARTIAL_PARSE_KEEP:]:
        p.unlink(missing_ok=True)
    for p in PARTIAL_PARSE_DIR.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if p.stat().st_mtime < time.time() - 3600:
                p.unlink()
