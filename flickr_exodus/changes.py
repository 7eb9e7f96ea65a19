"""What every command that changes Flickr shares: the token must allow it (asked of
Flickr, before any change), a dry run unless --yes, and on a terminal the account's
username typed back as the confirmation."""

from __future__ import annotations

import sys

import click

from .flickr import Api
from .flickr import parse
from .jobs import UsageProblem

LEVELS = ("none", "read", "write", "delete")  # Flickr's OAuth permissions, each above the last


async def token_allows(api: Api, needed: str) -> str:
    """The token's permission as Flickr reports it; UsageProblem when below `needed`."""
    perms = parse.login(await api.call("flickr.auth.oauth.checkToken")).get("perms") or "none"
    if perms not in LEVELS or LEVELS.index(perms) < LEVELS.index(needed):
        raise UsageProblem(f"this token has {perms} permission, and this needs {needed}: run "
                           f"'exodus auth --perms {needed}' (nothing was changed on Flickr)")
    return perms


def confirmed(username: str, what: str, yes: bool) -> bool:
    """--yes, or the username typed back on a terminal; never a guess."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    answer = click.prompt(f"{what}\nType the account's username ({username}) to go ahead, or anything "
                          "else to stop", default="", show_default=False, err=True)
    return answer.strip() == username
