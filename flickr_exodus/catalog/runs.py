"""The `runs` table: one row per command that records something, opened and closed here."""

from __future__ import annotations

import logging

from .queries import EVERY_ROW
from .transitions import dumps, now_iso


class Runs:
    """Mixed into Catalog: needs self.tx(), self.my_runs."""

    def start_run(self, command: str) -> int:
        """A row for this command. Called only under DEST's lock, so any other row still
        'running' is of a process that can no longer be running (killed, power lost): it
        is marked 'died' here, by the next command that records something."""
        log = logging.getLogger("exodus")
        with self.tx() as conn:
            mine = ",".join(str(int(i)) for i in self.my_runs) or "0"
            died = conn.execute(f"UPDATE {EVERY_ROW} runs SET status = 'died' WHERE status = 'running' "
                                f"AND id NOT IN ({mine})")  # one row per command ever run: a few
            cursor = conn.execute("INSERT INTO runs (command, started_at, status) VALUES (?, ?, 'running')",
                                  (command, now_iso()))
            run_id = cursor.lastrowid
        if died.rowcount:
            log.info("%d earlier run(s) never finished (killed or cut off): marked died", died.rowcount)
        log.info("run %d: recorded in catalog.db (table runs)", run_id)
        self.my_runs.append(run_id)
        return run_id

    def close_run(self, run_id: int, status: str, summary: dict) -> None:
        """A command's last word on its row: its summary; the status only if the row is
        still open (a status set on the way, such as 'unreachable', stays)."""
        with self.tx() as conn:
            conn.execute("UPDATE runs SET finished_at = coalesce(finished_at, ?), summary = ?, "
                         "status = CASE WHEN status = 'running' THEN ? ELSE status END WHERE id = ?",
                         (now_iso(), dumps(summary), status, run_id))

    def finish_run(self, run_id: int, status: str, api_calls: int, nbytes: int, summary: dict) -> None:
        with self.tx() as conn:
            conn.execute("UPDATE runs SET finished_at = ?, status = ?, api_calls = ?, bytes = ?, "
                         "summary = ? WHERE id = ?",
                         (now_iso(), status, api_calls, nbytes, dumps(summary), run_id))
