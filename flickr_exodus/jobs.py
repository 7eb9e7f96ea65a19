"""What every command that works on a DEST shares: its lock, the exit codes of the
contract (design.md), and usage problems (one line for the user, exit 2)."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from .catalog import Catalog
    from .progress import Progress

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_NEEDS_USER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageProblem(Exception):
    """Bad input or configuration: one line for the user, exit 2."""


class DestLock:
    """One exodus per DEST at a time (flock: released by the kernel even after kill -9)."""

    def __init__(self, dest: Path):
        self.path = dest / ".exodus.lock"
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


def prepare_dest(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise UsageProblem(f"{dest} is a file; DEST must be a folder (new or an earlier backup)")
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageProblem(f"cannot create {dest}: {error.strerror}") from None
    if not os.access(dest, os.W_OK | os.X_OK):
        raise UsageProblem(f"{dest} is not writable")


def check_same_account(cat: "Catalog", login: dict) -> None:
    """A DEST holds one account: another account's token would make every item look gone."""
    known = (cat.get("account") or {}).get("nsid")
    if known and login["nsid"] and known != login["nsid"]:
        theirs = (cat.get("account") or {}).get("username") or known
        raise UsageProblem(f"this backup is of {theirs} ({known}), but the token belongs to "
                           f"{login['username']} ({login['nsid']}); use another DEST or that account's token")


@contextmanager
def open_backup(dest: Path, quiet: bool, command: str) -> Iterator[tuple["Catalog", "Progress"]]:
    """An existing backup for one command: DEST's lock, its catalog, a log, progress."""
    from .catalog import Catalog, CatalogError
    from .progress import Progress, log_to

    if not dest.is_dir():
        raise UsageProblem(f"{dest} is not a folder with an exodus backup")
    with DestLock(dest):
        try:
            cat = Catalog.open(dest, must_exist=True)
        except CatalogError as error:
            raise UsageProblem(str(error)) from None
        try:
            log_to(dest / "logs", command)
            yield cat, Progress(quiet)
        finally:
            cat.close()
