"""What every command that works on a DEST shares: its lock, opening it (read-only rules,
its catalog), the exit codes of the contract (design.md), and usage problems (one line for
the user, exit 2). What a run leaves as its record is records.py's."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .catalog import Catalog
    from .progress import Progress

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_NEEDS_USER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def exit_code_for(problems: bool, needs_user: bool = False) -> int:
    """The contract's code for a command that ran to its end: 1 when something is wrong
    (damaged, failed, refused, missing), else 3 when something waits for the user, else 0.
    A usage problem (2) and an interruption (130) end a command before it gets here."""
    return EXIT_PROBLEMS if problems else EXIT_NEEDS_USER if needs_user else EXIT_OK


# The record of the command running now (a records.Recording, set by records.recorded):
# open_backup tells it when its DEST is open, for its log and its row in `runs` to start
# there. Held here, not imported from records, which builds on this module's exit codes
# and usage problems: an import back would make a cycle.
RECORDING: ContextVar = ContextVar("exodus_recording", default=None)


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
    from .progress import Progress

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
        recording = RECORDING.get()
        if recording is not None:  # it keeps the catalog and the lock until its last line
            recording.opened(dest, cat, command, dry_run, held.pop_all())
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
