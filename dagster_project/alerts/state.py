"""Which alerts were delivered, and whether each check that is not about one batch is failing now: a
small SQLite file beside the warehouse (the warehouse itself has one writer, the running job, so the
sensors must not write to it). SQLite serialises the daemon's sensors and `zengshou run` safely."""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "alerts_sent.sqlite"


def state_path(warehouse: Path, configured: Path | None = None) -> Path:
    """``configured`` (the setting ZENGSHOU_ALERT_STATE) if set, else alerts_sent.sqlite in the
    warehouse's folder."""
    return Path(configured) if configured else warehouse.parent / STATE_FILE


class SentAlerts:
    def __init__(self, path: Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=10)
        con.execute("CREATE TABLE IF NOT EXISTS alerts_sent (dedupe_key TEXT PRIMARY KEY, sent_at TEXT NOT NULL,"
                    " format TEXT, title TEXT, run_id TEXT)")
        # failing: the check's latest evaluation failed; announced: that state was alerted (delivered or,
        # without a webhook, logged), so the same state is not alerted again.
        con.execute("CREATE TABLE IF NOT EXISTS check_states (state_key TEXT PRIMARY KEY, failing INTEGER NOT NULL,"
                    " announced INTEGER NOT NULL, changed_at TEXT NOT NULL, run_id TEXT)")
        return con

    def was_sent(self, key: str) -> bool:
        if not self.path.exists():
            return False
        with closing(self._connect()) as con:
            return con.execute("SELECT 1 FROM alerts_sent WHERE dedupe_key = ?", [key]).fetchone() is not None

    def mark_sent(self, key: str, fmt: str, title: str, run_id: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute("INSERT OR IGNORE INTO alerts_sent VALUES (?, ?, ?, ?, ?)",
                        [key, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), fmt, title, run_id])

    def keys(self) -> list[str]:
        if not self.path.exists():
            return []
        with closing(self._connect()) as con:
            return [r[0] for r in con.execute("SELECT dedupe_key FROM alerts_sent ORDER BY sent_at, dedupe_key")]

    def check_state(self, key: str) -> CheckState | None:
        """The stored state of a check (None if it was never seen failing)."""
        if not self.path.exists():
            return None
        with closing(self._connect()) as con:
            row = con.execute("SELECT failing, announced, changed_at, run_id FROM check_states WHERE state_key = ?",
                              [key]).fetchone()
        return CheckState(bool(row[0]), bool(row[1]), row[2], row[3]) if row else None

    def set_check_state(self, key: str, *, failing: bool, announced: bool, run_id: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute("INSERT OR REPLACE INTO check_states VALUES (?, ?, ?, ?, ?)",
                        [key, int(failing), int(announced), dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                         run_id])


@dataclass(frozen=True)
class CheckState:
    failing: bool
    announced: bool
    changed_at: str
    run_id: str | None
