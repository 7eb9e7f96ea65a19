"""What every command that works on a DEST shares: its lock, the exit codes of the
contract (design.md), and usage problems (one line for the user, exit 2)."""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import os
import re
import shutil
import sqlite3
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from .catalog import Catalog
    from .progress import Progress

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_NEEDS_USER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageProblem(Exception):
    """Bad input or configuration: one line for the user, exit 2."""


class DestLock:
    """One exodus per DEST at a time (flock: released by the kernel even after kill -9)."""

    def __init__(self, dest: Path):
        from .layout.paths import OutsideDest, inside

        try:  # a link planted in its place would have exodus write elsewhere
            self.path = inside(dest, ".exodus.lock", mkdir=False)
        except OutsideDest as error:
            raise UsageProblem(str(error)) from None
        self.handle = None

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise UsageProblem(f"another exodus ({holder}) is working on {self.path.parent}; "
                               "wait for it to finish or stop it first") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


# Less free space than this, and an I/O error is taken for a full disk: SQLite says
# "disk I/O error", not "full", when the shared memory beside the catalog cannot grow.
NEARLY_FULL = 1 << 20


def disk_full(error: BaseException, where: Path | None = None) -> bool:
    """ENOSPC, EFBIG, SQLITE_FULL, or an I/O error on a disk with hardly any space left."""
    from .layout.writer import is_disk_full

    if is_disk_full(error):
        return True
    if where is None or not isinstance(error, (OSError, sqlite3.OperationalError)):
        return False
    try:
        return shutil.disk_usage(where).free < NEARLY_FULL
    except OSError:
        return False


# Commands that only read DEST: they run on a read-only disk too (a mounted archive, a snapshot).
READING = ("verify", "status")


def writable(dest: Path) -> bool:
    return os.access(dest, os.W_OK | os.X_OK)


def not_writable(dest: Path, command: str) -> UsageProblem:
    try:
        why = "is on a read-only disk" if os.statvfs(dest).f_flag & os.ST_RDONLY else "is not writable by this user"
    except OSError:
        why = "is not writable"
    return UsageProblem(f"{dest} {why}, and '{command}' must record what it does in it: copy the backup to a "
                        "writable disk (or make it writable) first; nothing was changed")


# What exodus leaves in a DEST before its catalog exists (a first run stopped early).
OWN_BEFORE_CATALOG = (".exodus.lock", "logs", "catalog.db")


def foreign_note(dest: Path) -> str | None:
    """One line when DEST holds things and no backup. Said, not refused: a folder shared
    with other files works (exodus touches only its own), and a refusal would need a flag
    to learn; but the user should know before 'exodus verify' lists those files."""
    from .catalog.store import TREE_MARKS, holds_tree

    own = OWN_BEFORE_CATALOG + tuple(TREE_MARKS) + ("links.csv",)
    try:
        names = sorted(p.name for p in dest.iterdir() if not p.name.startswith(own))
        if not names or (dest / "catalog.db").exists() or holds_tree(dest):
            return None  # new, a backup, or a backup that lost its catalog (Catalog.open says so)
    except OSError:
        return None
    shown = ", ".join(repr(n) for n in names[:3]) + (", ..." if len(names) > 3 else "")
    return (f"note: {dest} is not empty and holds no exodus backup ({len(names)} entries: {shown}); exodus puts "
            "its files beside them and never touches them, but 'exodus verify' will list them as files the "
            "catalog does not know: a folder of its own is tidier")


def prepare_dest(dest: Path, command: str = "backup") -> str | None:
    """DEST ready to be written; returns a note for the user when it held other things."""
    if dest.exists() and not dest.is_dir():
        raise UsageProblem(f"{dest} is a file; DEST must be a folder (new or an earlier backup)")
    note = foreign_note(dest) if dest.is_dir() else None
    try:  # a new DEST is the user's alone even for a library caller with a lax umask
        dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise UsageProblem(f"cannot create {dest}: {error.strerror}") from None
    if not writable(dest):
        raise not_writable(dest, command)
    return note


def open_to_others(dest: Path) -> str | None:
    """A note when DEST lets other users of this machine in (an older exodus made it 0755,
    or the user did). Its modes are left as they are: they may be meant (a family share, a
    group on a NAS), and exodus keeps no record to undo a chmod by. New files are private."""
    try:
        mode = dest.stat().st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o055:
        return None
    return (f"{dest} is open to other users of this machine (mode {mode:04o}); exodus makes its new files "
            f"private but leaves existing modes alone: 'chmod -R go= {dest}' makes all of it private")


def check_same_account(cat: "Catalog", login: dict) -> None:
    """A DEST holds one account: another account's token would make every item look gone."""
    known = (cat.get("account") or {}).get("nsid")
    if known and login["nsid"] and known != login["nsid"]:
        theirs = (cat.get("account") or {}).get("username") or known
        raise UsageProblem(f"this backup is of {theirs} ({known}), but the token belongs to "
                           f"{login['username']} ({login['nsid']}); use another DEST or that account's token")


@contextmanager
def open_backup(dest: Path, quiet: bool, command: str, changes: bool | None = None,
                dry_run: bool = False) -> Iterator[tuple["Catalog", "Progress"]]:
    """An existing backup for one command: DEST's lock, its catalog, a log, progress.

    changes: the command changes the catalog's findings, the tree, Flickr or a target
    (every command but those in READING, and verify --repair): it needs a writable DEST
    and a catalog that passes PRAGMA quick_check. One that only reads runs on a read-only
    DEST too, with no lock (nobody can change it there), no log, and nothing recorded.
    dry_run: the catalog is opened so that nothing can be written to it."""
    from .progress import Progress, log_to

    if not dest.is_dir():
        raise UsageProblem(f"{dest} is not a folder with an exodus backup")
    changes = command not in READING if changes is None else changes
    if not writable(dest):
        if changes:
            raise not_writable(dest, command)
        progress = Progress(quiet)
        cat = _open_catalog(dest, read_only=True, check=False)
        progress.note(f"{dest} is read-only: '{command}' checks it and records nothing there")
        try:
            yield cat, progress
        finally:
            cat.close()
        return
    with ExitStack() as held:
        held.enter_context(DestLock(dest))
        cat = _open_catalog(dest, read_only=dry_run, check=changes)
        held.callback(cat.close)  # before the lock is let go
        if cat.read_only and not dry_run and changes:  # catalog.db itself cannot be written
            raise catalog_read_only(cat, command)
        log_to(dest, command)
        recording = _RECORDING.get()
        if recording is not None:  # it keeps the catalog and the lock until its last line
            recording.begin(cat, command, dry_run, held.pop_all())
        yield cat, Progress(quiet)


def catalog_read_only(cat: "Catalog", command: str) -> UsageProblem:
    return UsageProblem(f"{cat.path} is read-only, and '{command}' must record what it does in it: make it "
                        "writable (a copy from read-only media keeps that mode) first; nothing was changed")


def open_for_writing(dest: Path, command: str) -> "Catalog":
    """DEST's catalog (made when new) for a command that records what it does."""
    from .catalog import Catalog, CatalogError

    try:
        cat = Catalog.open(dest)
    except CatalogError as error:
        raise UsageProblem(str(error)) from None
    if cat.read_only:
        cat.close()
        raise catalog_read_only(cat, command)
    return cat


def _open_catalog(dest: Path, read_only: bool, check: bool) -> "Catalog":
    from .catalog import Catalog, CatalogError

    try:
        cat = Catalog.open(dest, must_exist=True, read_only=read_only)
    except CatalogError as error:
        raise UsageProblem(str(error)) from None
    if check:
        try:
            cat.check()
        except CatalogError as error:
            cat.close()
            raise UsageProblem(str(error)) from None
    return cat


# --- records: every command's log and its row in `runs` ----------------------------------

_RECORDING: ContextVar["Recording | None"] = ContextVar("exodus_recording", default=None)
# Commands that change Flickr record their run only once they change something (changes.
# carry_out): a dry run, or a confirmation declined, writes nothing in the catalog.
RECORDED_WHEN_CHANGING = ("delete-remote", "lockdown", "lockdown-undo")
_SECRET_NAME = re.compile(r"secret|password|token|key|cookie", re.I)
# In a value: a URL's password (webdav://user:PASSWORD@host), an rclone remote's option
# or a query parameter named like a secret (:s3,secret_access_key=...:, ?api_key=...).
_URL_PASSWORD = re.compile(r"(//[^/@:\s]*):[^/@\s]*@")
_SECRET_OPTION = re.compile(r"(\w*(?:secret|pass|token|key)\w*)=('[^']*'|[^,:&@/\s]+)", re.I)


def current_recording() -> "Recording | None":
    return _RECORDING.get()


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
    """One command's record: the first and last lines of its log (progress.log_to,
    progress.log_summary) and its row in `runs`. A dry run writes nothing in the catalog:
    its log alone keeps it, and says so."""

    def __init__(self, options):
        self.arguments = arguments(options)
        self.dry_run = bool(getattr(options, "dry_run", False))
        self.log: Path | None = None  # set by progress.log_to
        self.cat: "Catalog | None" = None
        self.held: ExitStack | None = None
        self.run_id: int | None = None

    def begin(self, cat: "Catalog", command: str, dry_run: bool, held: ExitStack) -> None:
        from .progress import log

        self.cat, self.held = cat, held
        if dry_run or self.dry_run or cat.read_only:
            log.info("dry run: nothing is recorded in catalog.db; this log is its only record")
        elif command not in RECORDED_WHEN_CHANGING:
            self.run_id = cat.start_run(command)

    def close(self, status: str, document: dict) -> None:
        from .progress import log_summary

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
        token = _RECORDING.set(recording)
        try:
            try:
                code, document = run(options)
            except BaseException as error:
                recording.close(ended(error), {"problem": str(error) or type(error).__name__})
                raise
            recording.close("interrupted" if code == EXIT_INTERRUPTED else "done", {"exit_code": code, **document})
            return code, document
        finally:
            _RECORDING.reset(token)

    return recorded_run
