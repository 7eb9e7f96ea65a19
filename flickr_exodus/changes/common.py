"""What every command that changes Flickr shares: the token must allow it (asked of
Flickr, before any change), a dry run unless --yes, and on a terminal the account's
username typed back as the confirmation."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Awaitable, Callable, Iterator

from ..catalog import Catalog
from ..flickr import Api, Credentials, MissingCredentials, Transient
from ..flickr import parse
from ..dest import UsageProblem, open_backup
from ..progress import Progress, clean

LEVELS = ("none", "read", "write", "delete")  # Flickr's OAuth permissions, each above the last


async def token_allows(api: Api, needed: str) -> str:
    """The token's permission as Flickr reports it; UsageProblem when below `needed`."""
    perms = parse.login(await api.call("flickr.auth.oauth.checkToken")).get("perms") or "none"
    if perms not in LEVELS or LEVELS.index(perms) < LEVELS.index(needed):
        raise UsageProblem(f"this token has {perms} permission, and this needs {needed}: run "
                           f"'exodus auth --perms {needed}' (nothing was changed on Flickr)")
    return perms


def confirmed(username: str, what: str, yes: bool) -> bool:
    """--yes, or the username typed back on a terminal; never a guess. The end of input
    (Ctrl-D) stops the command as Ctrl-C would: it is no answer."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    sys.stderr.write(clean(f"{what}\nType the account's username ({username}) to go ahead, or anything "
                           "else to stop") + ": ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer:
        raise KeyboardInterrupt
    return answer.strip() == username


def certain_dry_run(yes: bool) -> bool:
    """Without --yes and without a terminal to confirm on, nothing can be changed: the
    session is opened so that it writes nothing either."""
    return not yes and not sys.stdin.isatty()


@contextmanager
def change_session(dest: Path, creds: Credentials | None, quiet: bool, command: str,
                   dry_run: bool = False, api_base: str | None = None
                   ) -> Iterator[tuple[Catalog, Credentials, Progress]]:
    """Credentials, DEST's lock, its catalog (which must exist, pass quick_check, and in a
    dry run cannot be written) and a log for one command."""
    try:
        creds = creds or Credentials.load(api_base=api_base)
    except MissingCredentials as error:
        raise UsageProblem(str(error)) from None
    with open_backup(dest, quiet, command, changes=True, dry_run=dry_run) as (cat, progress):
        yield cat, creds, progress


def prepare(work: Awaitable, what: str):
    """The read-only first half of a change: Flickr unreachable means nothing was changed."""
    try:
        return asyncio.run(work)
    except Transient as error:
        raise UsageProblem(f"Flickr did not answer properly ({error.reason}); nothing was {what}, "
                           "try again later") from None


def carry_out(cat: Catalog, command: str, work: Callable[[int], Awaitable[Counter]], progress: Progress) -> Counter:
    """The changing half, recorded as a run; a Flickr that stops answering ends it with the
    journal exact, for the same command to go on."""
    run_id = cat.start_run(command)
    status, done = "interrupted", Counter()
    try:
        done = asyncio.run(work(run_id))
        status = "done"
    except Transient as error:
        status = "unreachable"
        progress.note(f"Flickr did not answer properly ({error.reason}); run the same command again to go on "
                      "(every change so far is journaled)")
    finally:
        cat.finish_run(run_id, status, 0, 0, {"done": dict(done)})
    return done
