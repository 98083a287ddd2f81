"""The dbt manifest (dbt/target/manifest.json): what the dbt project holds, parsed once and kept fresh.

Dagster's dbt assets, the marts' GE checks, the serving catalog and the GE suite generator all read it
(dagster_project/marts.py), so it has to exist on a fresh clone too: ``ensure_manifest`` runs
``dbt parse`` when the file is missing or older than any model, seed or yml. ``DbtProject.prepare_if_dev``
only runs under ``dagster dev``; ``zengshou run``, tests and ``make expectations`` call this instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dagster_project.resources import dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# `dbt parse` opens no database and hashes nothing, but profiles.yml names the warehouse: a placeholder
# path, so parsing (at import, when the code location loads) never depends on the settings.
PARSE_ENV = {"ZENGSHOU_WAREHOUSE": str(DBT_PROJECT_DIR / "target" / "parse-only.duckdb")}


# Folders of the dbt project that are not sources: dbt writes them while builds run.
_NOT_SOURCES = frozenset({"target", "logs", "dbt_packages"})


def _newest_source_mtime() -> float:
    """The newest mtime of the project's models, macros, tests, ymls and seeds.

    The walk never enters target/ or logs/: every build makes a target dir of its own there and removes
    it when it ends, so a walk into them (``rglob``, filtered afterwards) met a folder that vanished under
    it and raised FileNotFoundError in whichever process was loading the definitions — a `zengshou run`
    starting while another warehouse's build finished (seen with three test workers, 2026-12-02)."""
    newest = 0.0
    for root, dirs, files in os.walk(DBT_PROJECT_DIR):  # a folder gone mid-walk is skipped (onerror None)
        dirs[:] = [d for d in dirs if d not in _NOT_SOURCES]
        for name in files:
            if os.path.splitext(name)[1] in {".sql", ".yml", ".csv"}:
                with contextlib.suppress(FileNotFoundError):
                    newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
    for seed in DBT_PROJECT_DIR.parent.joinpath("seeds").glob("*"):
        with contextlib.suppress(FileNotFoundError):
            newest = max(newest, seed.stat().st_mtime)
    return newest


def ensure_manifest() -> Path:
    """Parse the dbt project when its manifest is missing or older than any model, seed or yml."""
    manifest = MANIFEST_PATH
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # One parser at a time: processes that load the definitions together (the UI's code server and a
    # `zengshou run`, parallel test workers) would otherwise write dbt/target at the same time.
    with open(manifest.parent / ".parse.lock", "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
                _parse()
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return manifest


def _parse() -> None:
    env = {**os.environ, **PARSE_ENV}
    proc = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
         "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt parse failed: {(proc.stdout + proc.stderr).strip()[-2000:]}")


# dbt's partial parsing, kept per warehouse. dbt re-parses the whole project (≈ 4 s of CPU) unless the
# target dir holds a partial_parse.msgpack written under the same CLI vars and the same profile
# connection info, which includes the warehouse path (profiles.yml). The transform asset gives every
# build a target dir of its own, removed afterwards, so the file of the last finished build on each
# warehouse is kept here, on the project's disk (not beside the warehouse: a full warehouse disk must
# not break it), named by the warehouse path. Tests create a warehouse per scenario: the oldest go.
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
