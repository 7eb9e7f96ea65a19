"""What every command that changes Flickr shares: the token must be the backup's account's
and allow the change (asked of Flickr, before any change), a dry run unless --yes, on a
terminal the account's username typed back as the confirmation, and the changing half
carried out step by step through the command's Journal."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterator

from ..catalog import Catalog
from ..flickr import Api, Credentials, MissingCredentials, Transient
from ..flickr import parse
from ..flickr.connect import connect
from ..flickr.listing import STATE_EXTRAS, Listing, list_account
from .journal import Journal
from ..dest import UsageProblem, check_same_account, open_backup
from ..progress import Progress, clean, page_meter

LEVELS = ("none", "read", "write", "delete")  # Flickr's OAuth permissions, each above the last


async def token_allows(api: Api, needed: str) -> str:
    """The token's permission as Flickr reports it; UsageProblem when below `needed`."""
    perms = parse.login(await api.call("flickr.auth.oauth.checkToken")).get("perms") or "none"
    if perms not in LEVELS or LEVELS.index(perms) < LEVELS.index(needed):
        raise UsageProblem(f"this token has {perms} permission, and this needs {needed}: run "
                           f"'exodus auth --perms {needed}' (nothing was changed on Flickr)")
    return perms


async def whose_token(api: Api, cat: Catalog, needed: str | None) -> str:
    """The token's account (its username), which must be the backup's; and, when the run
    is sure to be real (--yes), its permission, asked before anything else."""
    login = parse.login(await api.call("flickr.test.login"))
    check_same_account(cat, login)
    if needed is not None:
        await token_allows(api, needed)
    return login["username"]


async def listed(api: Api, session: "Session", extras: str = STATE_EXTRAS) -> Listing:
    """A fresh listing of the whole account, its pages shown as they come."""
    bar = session.progress.bar("listing Flickr", unit="page")
    try:
        return await list_account(api, page_meter(bar), extras)
    finally:
        bar.close()


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


@dataclass
class Session:
    """One command that changes Flickr, its DEST open: the catalog, the credentials and
    where Flickr is, the progress."""
    cat: Catalog
    creds: Credentials
    progress: Progress
    api_base: str | None
    api_rate: tuple[int, float]

    def connect(self):
        return connect(self.creds, self.api_base, self.api_rate, self.progress.note)


@contextmanager
def change_session(options, command: str, dry_run: bool = False) -> Iterator[Session]:
    """Credentials, DEST's lock, its catalog (which must exist, pass quick_check, and in a
    dry run cannot be written) and a log for one command (its `options`: dest, creds,
    quiet, api_base, api_rate)."""
    try:
        creds = options.creds or Credentials.load(api_base=options.api_base)
    except MissingCredentials as error:
        raise UsageProblem(str(error)) from None
    with open_backup(options.dest, options.quiet, command, changes=True, dry_run=dry_run) as (cat, progress):
        yield Session(cat, creds, progress, options.api_base, options.api_rate)


def prepare(work: Awaitable, what: str):
    """The read-only first half of a change: Flickr unreachable means nothing was changed."""
    try:
        return asyncio.run(work)
    except Transient as error:
        raise UsageProblem(f"Flickr did not answer properly ({error.reason}); nothing was {what}, "
                           "try again later") from None


Change = Callable[[Api, Journal, Any], Awaitable[str]]


def carry_out(session: Session, command: str, journal: Journal, level: str, label: str, steps: list,
              change: Change, first: Callable[[Api], Awaitable[None]] | None = None) -> Counter:
    """The changing half, recorded as a run: connected with a token that allows `level`,
    `first` (once), then each step through `change(api, journal, step)`, counted by the
    result it returns. A Flickr that stops answering ends it with the journal exact, for
    the same command to go on."""
    run_id = journal.run_id = session.cat.start_run(command)
    status, done = "interrupted", Counter()
    try:
        done = asyncio.run(_each(session, journal, level, label, steps, change, first))
        status = "done"
    except Transient as error:
        status = "unreachable"
        session.progress.note(f"Flickr did not answer properly ({error.reason}); run the same command again to "
                              "go on (every change so far is journaled)")
    finally:
        session.cat.finish_run(run_id, status, 0, 0, {"done": dict(done)})
    return done


async def _each(session: Session, journal: Journal, level: str, label: str, steps: list, change: Change,
                first: Callable[[Api], Awaitable[None]] | None) -> Counter:
    done: Counter = Counter()
    bar = session.progress.bar(label, total=len(steps), unit="item")
    try:
        async with session.connect() as api:
            await token_allows(api, level)
            if first is not None:
                await first(api)
            for step in steps:
                done[await change(api, journal, step)] += 1
                bar.update(1)
    finally:
        bar.close()
    return done
