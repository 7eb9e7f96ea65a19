"""What a command leaves as its record: a log file of its own in DEST/logs/ (its
arguments, without secrets, first; its summary last) and its row in `runs`, closed with
the same summary whatever ended it. A dry run writes nothing in the catalog: its log
alone keeps it, and says so."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import re
import sqlite3
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .dest import EXIT_INTERRUPTED, RECORDING, UsageProblem, disk_full
from .layout.paths import inside
from .progress import log

if TYPE_CHECKING:
    from .catalog import Catalog

# Commands that change Flickr record their run only once they change something (changes.
# carry_out): a dry run, or a confirmation declined, writes nothing in the catalog.
RECORDED_WHEN_CHANGING = ("delete-remote", "lockdown", "lockdown-undo")
_SECRET_NAME = re.compile(r"secret|password|token|key|cookie", re.I)
# In a value: a URL's password (webdav://user:PASSWORD@host), an rclone remote's option
# or a query parameter named like a secret (:s3,secret_access_key=...:, ?api_key=...).
_URL_PASSWORD = re.compile(r"(//[^/@:\s]*):[^/@\s]*@")
_SECRET_OPTION = re.compile(r"(\w*(?:secret|pass|token|key)\w*)=('[^']*'|[^,:&@/\s]+)", re.I)


def current_recording() -> "Recording | None":
    return RECORDING.get()


def arguments(options) -> dict:
    """A command's options as its log keeps them: no credentials, no password in a URL."""
    out = {}
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if field.name == "creds" or (_SECRET_NAME.search(field.name) and value):
            continue
        if isinstance(value, (list, tuple)):
            value = [str(v) for v in value] if field.name != "api_rate" else list(value)
        elif value is not None and not isinstance(value, (bool, int, float)):
            value = _SECRET_OPTION.sub(r"\1=***", _URL_PASSWORD.sub(r"\1:***@", str(value)))
        out[field.name] = value
    return out


def summary_of(document: dict) -> dict:
    """What `runs.summary` and the log's last line keep of a report: its figures, not its
    (possibly long) lists of items."""
    return {k: v for k, v in document.items() if not isinstance(v, list)}


class Recording:
    """One command's record: the first and last lines of its log (log_to, log_summary)
    and its row in `runs`."""

    def __init__(self, options):
        self.arguments = arguments(options)
        self.dry_run = bool(getattr(options, "dry_run", False))
        self.log: Path | None = None  # set by log_to
        self.cat: "Catalog | None" = None
        self.held: ExitStack | None = None
        self.run_id: int | None = None

    def opened(self, dest: Path, cat: "Catalog", command: str, dry_run: bool, held: ExitStack) -> None:
        """dest.open_backup has DEST open for this command: its log starts, and its row in
        `runs`; `held` (the catalog, the lock) is let go after the last line."""
        log_to(dest, command)
        self.cat, self.held = cat, held
        if dry_run or self.dry_run or cat.read_only:
            log.info("dry run: nothing is recorded in catalog.db; this log is its only record")
        elif command not in RECORDED_WHEN_CHANGING:
            self.run_id = cat.start_run(command)

    def close(self, status: str, document: dict) -> None:
        run_id = self.run_id or (self.cat.my_runs[-1] if self.cat is not None and self.cat.my_runs else None)
        try:
            if run_id is not None:
                self.cat.close_run(run_id, status, summary_of(document))
        except (OSError, sqlite3.OperationalError) as error:
            if not disk_full(error, self.cat.path.parent):
                raise
        finally:
            if self.held is not None:
                self.held.close()
            if self.log is not None:
                log_summary(status, summary_of(document), run_id)


def ended(error: BaseException) -> str:
    """What `runs.status` says of a command that ended in this exception."""
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    if isinstance(error, UsageProblem):
        return "refused"
    return "failed"


def recorded(run: Callable) -> Callable:
    """A command's run(options) -> (exit code, report), recorded: its log opens with its
    arguments and closes with its summary; its row in `runs` (opened by open_backup or by
    the command itself) is closed with the same summary, whatever ended it."""

    @functools.wraps(run)
    def recorded_run(options):
        recording = Recording(options)
        token = RECORDING.set(recording)
        try:
            try:
                code, document = run(options)
            except BaseException as error:
                recording.close(ended(error), {"problem": str(error) or type(error).__name__})
                raise
            recording.close("interrupted" if code == EXIT_INTERRUPTED else "done", {"exit_code": code, **document})
            return code, document
        finally:
            RECORDING.reset(token)

    return recorded_run


# The loggers a command's log file takes: exodus's own, and asyncio's warnings.
LOGGED = ("exodus", "asyncio")


class _QuietFileHandler(logging.FileHandler):
    """A log that cannot be written (a full disk) is given up, without the traceback
    logging would print on stderr: the run itself says what went wrong."""

    def handleError(self, record) -> None:
        for name in LOGGED:
            logging.getLogger(name).removeHandler(self)


def _new_log(dest: Path, command: str) -> Path:
    """DEST/logs/COMMAND-YYYYmmdd-HHMMSS.log, or -2, -3... when a run of the same second
    has it already: each run its own file (O_EXCL: never another's, even in a race)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = inside(dest, f"logs/{command}-{stamp}{'' if n == 1 else f'-{n}'}.log")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{path}: a thousand runs of '{command}' in one second")


def log_to(dest: Path, command: str) -> Path:
    """Send everything logged to a new file of DEST/logs/ (a logs/ that leads out of DEST
    is refused like any other path: paths.inside); its first line says what was run."""
    path = _new_log(dest, command)
    handler = _QuietFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # asyncio's own warnings too ("Unknown child process pid ..." when a helper process, such
    # as rclone's, was reaped before its watcher looked): they belong in the log, where the
    # run can be read back, not as a stray line on the terminal beside exodus's one.
    for name in LOGGED:
        root = logging.getLogger(name)
        for old in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
            root.removeHandler(old)
            old.close()
        root.addHandler(handler)
        root.propagate = False
    logging.getLogger("exodus").setLevel(logging.INFO)
    recording = current_recording()
    if recording is not None:
        recording.log = path
        log.info("exodus %s (pid %d): %s", command, os.getpid(), json.dumps(recording.arguments, ensure_ascii=False))
    return path


def log_summary(status: str, summary: dict, run_id: int | None) -> None:
    """The log's closing lines: how the run ended and its figures; then the log is let go
    (a later command in the same process opens its own)."""
    code = summary.get("exit_code")
    log.info("finished: %s%s%s", status, "" if code is None else f", exit code {code}",
             "" if run_id is None else f" (run {run_id})")
    log.info("summary: %s", json.dumps(summary, ensure_ascii=False, default=str))
    for name in LOGGED:
        root = logging.getLogger(name)
        for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
            root.removeHandler(handler)
            handler.close()
