"""What one `zengshou run` did, and the lines it ends with (SPEC §5: notes, then one line per failure or
one OK line). A module of its own, free of Dagster, so the CLI can word a run that stops before the
pipeline is even imported (the warehouse already in use) exactly as a run that stopped inside it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunReport:
    published: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # failed non-blocking checks (not a failed run)
    skipped: list[str] = field(default_factory=list)  # not loaded, with the reason (printed as notes)
    waiting: list[str] = field(default_factory=list)  # files still being written: loaded by a later run
    transformed: bool = False
    notes: list[str] = field(default_factory=list)  # e.g. what the HR pull changed, per kind
    run_ids: list[str] = field(default_factory=list)  # Dagster runs executed, in order

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary(self) -> str:
        """Notes first (what was skipped or is still being copied, and why), then one line per failure
        (each names its cause), or one status line. A file still being written is not a failure (exit 0):
        the next run loads it."""
        notes = "".join(f"note: {n}\n" for n in [*self.skipped, *self.waiting])
        waiting = (f"; {len(self.waiting)} file(s) still being written were not loaded (run again)"
                   if self.waiting else "")
        if self.failures:
            return notes + "\n".join(f"FAILED: {failure}" for failure in dict.fromkeys(self.failures))
        if not self.published and not self.transformed:
            if self.waiting:
                return f"{notes}OK: nothing loaded{waiting}; the warehouse is unchanged"
            return f"{notes}OK: nothing new or changed in the landing dir; the warehouse is unchanged"
        names = list(dict.fromkeys(self.warnings))
        warned = (f"; warnings raised by {len(names)} check(s), see the UI: {', '.join(names)}"
                  if names else "")
        return (f"{notes}OK: {len(self.published)} batch(es) published"
                + ("; marts rebuilt" if self.transformed else "") + waiting
                + "".join(f"; {n}" for n in self.notes) + warned)
