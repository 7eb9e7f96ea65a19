"""`exodus`: thin click commands. Parse, call one function, print, exit with the contract's code.

Exit codes: 0 done; 1 problems found; 2 usage or configuration error; 3 done but some items
need the user; 130 interrupted (run again to resume).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import sys

import click

from . import __version__
from .layout.paths import OutsideDest
from .dest import EXIT_INTERRUPTED, EXIT_PROBLEMS, EXIT_USAGE


def say(text: str, err: bool = False) -> None:
    """Every line exodus prints for a person: text from Flickr or a zip (titles, usernames,
    reasons, error messages) reaches the terminal with its control sequences shown, not obeyed."""
    from .progress import clean
    click.echo(clean(text), err=err)


def say_json(document, dump=None) -> None:
    """--json: one document on stdout, exact for any JSON parser, inert on a terminal.
    `dump`: the command's own JSON writer, when it has one."""
    from .progress import json_text
    click.echo(json_text(dump(document) if dump else json.dumps(document, ensure_ascii=False)))


ENVIRONMENT = """\b
Environment:
  FLICKR_API_KEY, FLICKR_API_SECRET  your API key (flickr.com/services/apps)
  FLICKR_OAUTH_TOKEN and             a token instead of the one 'exodus auth'
  FLICKR_OAUTH_TOKEN_SECRET          stored (an 'exodus sandbox' prints one)
  EXODUS_API_BASE                    talk to this host instead of Flickr, such
                                     as a sandbox (or --api-base); tokens are
                                     stored per host
  EXODUS_API_RATE                    API quota, CALLS/SECONDS (or --api-rate)
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION
                                     for 'exodus push' to s3://
  WEBDAV_USER, WEBDAV_PASSWORD       for 'exodus push' to webdav(s)://
  IMMICH_API_KEY                     for 'exodus push' to immich(s)://
  EXODUS_*                           tuning knobs (stall limits...): README
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=ENVIRONMENT)
@click.version_option(__version__, prog_name="exodus")
def cli() -> None:
    """Leave Flickr with everything: back it up, prove the backup, then let go.

    \b
    In the order you would run them:
    exodus demo                   try it all against a local Flickr sandbox
    exodus auth                   sign in to Flickr once
    exodus backup DEST            get everything out, resumably; again to sync
    exodus import-export DEST ZIP add what only Flickr's account export holds
    exodus verify DEST            prove the backup whole (--remote: complete)
    exodus status DEST            what the backup holds and what needs you
    exodus gallery DEST           browse it offline as a site; publish a part
    exodus push DEST TARGET       copy it to S3, WebDAV, rclone or Immich
    exodus audit DEST             which photos expose people; in a dataset?
    exodus lockdown DEST          make public, CC or listed items private
    exodus delete-remote DEST     delete on Flickr only what verify proved
    exodus sandbox                a local Flickr for your own experiments
    """


def _rate(ctx, param, value):
    from .sandbox import parse_rate
    try:
        return parse_rate(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _size(ctx, param, value):
    from .sandbox import parse_size_range
    try:
        return parse_size_range(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _fault_kinds(ctx, param, value):
    from .sandbox.config import FAULT_KINDS
    kinds = tuple(k.strip() for k in value.split(",") if k.strip()) if value else FAULT_KINDS
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; choose from {', '.join(FAULT_KINDS)}")
    return kinds


@cli.command(short_help="Run a local Flickr (API, OAuth, CDN) for experiments.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one; the JSON line tells which).")
@click.option("--photos", type=click.IntRange(0), default=40, show_default=True, help="Photos in the account.")
@click.option("--videos", type=click.IntRange(0), default=4, show_default=True, help="Videos in the account.")
@click.option("--albums", type=click.IntRange(0), default=6, show_default=True, help="Albums in the account.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same account, same bytes.")
@click.option("--faces", type=click.IntRange(0), default=0, show_default=True,
              help="Photos with a real face composed in (public, CC BY, a person tagged); needs scikit-image.")
@click.option("--comment-share", type=click.FloatRange(0, 1), default=None,
              help="Share of items with comments (default: a fixed pattern, about 36%).")
@click.option("--media-size", callback=_size, default="40000-400000", show_default=True,
              help="Bytes per photo original: N or MIN-MAX.")
@click.option("--video-size", callback=_size, default="200000-1500000", show_default=True,
              help="Bytes per video original: N or MIN-MAX (several GB is fine: bytes are streamed).")
@click.option("--free-account", is_flag=True,
              help="Withhold Original and sizes above 1024 px, as Flickr does for free accounts since 2025.")
@click.option("--video-access", type=click.Choice(["cookie", "oauth", "open"]), default="cookie",
              show_default=True, help="Who may fetch a video's original: the owner's browser session "
              "cookie, also OAuth-signed requests, or anyone.")
@click.option("--poster-as-video", is_flag=True,
              help="Misbehave: serve the poster JPEG where a video's original belongs.")
@click.option("--past-end", type=click.Choice(["repeat", "empty"]), default="repeat", show_default=True,
              help="What a page number past the end returns.")
@click.option("--rate-limit", callback=_rate, metavar="CALLS/SECONDS",
              help="API quota; over it the answer is HTTP 429 (Flickr's: 3600/3600).")
@click.option("--cdn-rate-limit", callback=_rate, metavar="CALLS/SECONDS", help="CDN quota (HTTP 429).")
@click.option("--retry-after", is_flag=True, help="Send Retry-After with 429s (real Flickr never has).")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Chance that a request fails: 5xx, error 105/201, reset or short body.")
@click.option("--fault-kinds", callback=_fault_kinds, default="", metavar="KIND,...",
              help="Narrow --fault-rate to these: http_5xx, code_105, code_201, reset, short_body.")
@click.option("--page-drop-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Chance that a listing page comes back short, its items shifted to another page.")
@click.option("--latency-ms", type=click.FloatRange(0, 60_000), default=0.0, show_default=True,
              help="Round-trip time: every answer's first byte waits this long, the first answer "
                   "on a new connection twice as long (its handshake).")
@click.option("--bandwidth", type=click.IntRange(1), metavar="BYTES_PER_S",
              help="Total CDN bandwidth cap over all connections (burst: 64 KiB at most).")
@click.option("--connection-bandwidth", type=click.IntRange(1), metavar="BYTES_PER_S",
              help="CDN bandwidth cap of each connection, all of them also under --bandwidth.")
@click.option("--verbose", is_flag=True, help="Log every request on stderr.")
@click.option("--export", "export_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write the account's export ('Request my Flickr data' layout: account zip and "
                   "data-download-N.zip media zips) into DIR and exit, instead of serving.")
@click.option("--export-defects", default="", metavar="NAME,...",
              help="With --export, the known export defects to reproduce: missing_media, collapsed_privacy, "
                   "empty_photo_albums, duplicate_slugs, digit_titles.")
def sandbox(export_dir: str | None, export_defects: str, **options) -> None:
    """Run a local Flickr (API, OAuth, CDN) on 127.0.0.1 until Ctrl-C.

    Prints one JSON line on stdout with the base URL and the credentials to use (an
    OAuth token with delete permission, and the owner's browser session cookie), then
    serves until Ctrl-C:

    \b
      exodus sandbox --photos 300 --videos 10 --fault-rate 0.05 > sandbox.json &
      export EXODUS_API_BASE=$(python3 -c 'import json;print(json.load(open("sandbox.json"))["api_base"])')

    Control endpoints (no auth): GET /__sandbox__/stats, manifest and records; POST
    /__sandbox__/replace, edit, comment, add, delete, album, token, faults, export, reset-stats.
    """
    import logging

    from .sandbox import SandboxConfig, serve_forever

    try:
        config = SandboxConfig(**options)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if config.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    if export_dir:
        from pathlib import Path

        from .sandbox import export_account
        try:
            written = export_account(config, Path(export_dir),
                                     [d.strip() for d in export_defects.split(",") if d.strip()])
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        sys.stdout.write(json.dumps({"export": export_dir, **written}) + "\n")
        return

    def announce(info: dict) -> None:
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()

    import asyncio  # here: every other command would pay for it (with ssl) at start

    async def main() -> None:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await serve_forever(config, announce)
        except asyncio.CancelledError:
            pass

    try:
        asyncio.run(main())
    except OSError as error:
        raise click.ClickException(f"cannot serve on 127.0.0.1:{config.port}: {error.strerror or error}") from None


def _api_rate(ctx, param, value):
    from .flickr.quota import parse_rate
    try:
        return parse_rate(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def flickr_options(command):
    """Where Flickr is and how fast to call it: every command that talks to Flickr."""
    command = click.option(
        "--api-rate", envvar="EXODUS_API_RATE", default="3600/3600", show_default=True,
        callback=_api_rate, metavar="CALLS/SECONDS",
        help="The client's API quota, shared by every exodus using this API key "
             "(Flickr allows 3600 calls an hour). Env: EXODUS_API_RATE.")(command)
    command = click.option(
        "--api-base", envvar="EXODUS_API_BASE", metavar="URL",
        help="Send every Flickr request (REST, OAuth, photos, videos) to this host instead, "
             "such as an 'exodus sandbox'. Env: EXODUS_API_BASE.")(command)
    return command


@cli.command(short_help="Sign in to Flickr once and store the token.")
@click.option("--perms", type=click.Choice(["read", "write", "delete"]), default="read", show_default=True,
              help="What exodus may do: read for backups; delete for 'exodus delete-remote'.")
@flickr_options
def auth(perms: str, api_base: str | None, api_rate) -> None:
    """Sign in to Flickr (OAuth, out of band) and store the token for later runs.

    Needs FLICKR_API_KEY and FLICKR_API_SECRET (create a key at
    https://www.flickr.com/services/apps/create/). Prints a URL: open it in a browser
    signed in to Flickr, authorize, and paste back the code Flickr shows. The token is
    kept in ~/.config/flickr-exodus/token.json with mode 0600, one per API host: a sign-in
    to a sandbox (--api-base, EXODUS_API_BASE) never replaces the one for Flickr.
    """
    from .flickr import Credentials, Endpoints, MissingCredentials
    from .flickr.signin import SignInFailed, sign_in

    try:
        creds = Credentials.load(need_token=False, api_base=api_base)
    except MissingCredentials as error:
        raise click.UsageError(str(error)) from None
    if sys.stdin is None:
        raise _no_terminal()
    try:
        signed = sign_in(creds, Endpoints(api_base) if api_base else Endpoints(), perms, _authorize)
    except SignInFailed as error:
        raise click.ClickException(str(error)) from None
    path = signed.save(api_base)
    say(f"Signed in as {signed.username} with {perms} permission; token stored in {path} (mode 0600).", err=True)


def _no_terminal() -> click.ClickException:
    problem = click.ClickException(
        "the sign-in needs a terminal: 'exodus auth' reads the code Flickr shows you from standard input, "
        "which is closed. Run it in a terminal, or set FLICKR_OAUTH_TOKEN and FLICKR_OAUTH_TOKEN_SECRET "
        "to a token you hold")
    problem.exit_code = EXIT_USAGE
    return problem


def _authorize(url: str) -> str:
    """The user opens the address, authorizes, and pastes the code Flickr shows; a closed
    standard input (no terminal) says so."""
    click.echo(f"Open this address in a browser signed in to Flickr and authorize exodus:\n\n  {url}\n", err=True)
    click.echo("Then paste the code Flickr shows you: ", err=True, nl=False)
    line = sys.stdin.readline()
    if not sys.stdin.isatty():
        click.echo("", err=True)  # what was read was not echoed: end the prompt's line
    if not line:
        raise _no_terminal()
    if not line.strip():
        raise click.UsageError("no code was pasted; run 'exodus auth' again and paste the code Flickr shows")
    return line.strip()


def _report(run, options, as_json: bool, render, *, quiet: bool = False, err: bool = False,
            again: str = "the same command", dump=None) -> None:
    """The one way from a command to the terminal: run it (a usage problem is one line, exit
    2); print its JSON document on stdout, or else its text unless `quiet` (`err`: on stderr,
    where backup keeps its stdout for --json alone); a run that stopped early says so even
    when quiet; exit with the code the command decided (dest.exit_code_for)."""
    from .dest import UsageProblem

    try:
        code, document = run(options)
    except UsageProblem as error:
        raise click.UsageError(str(error)) from None
    if as_json:
        say_json(document, dump)
    elif not quiet:
        say(render(document), err=err)
    if code == EXIT_INTERRUPTED:
        say(f"exodus: interrupted; run {again} again to resume", err=True)
    elif quiet and not as_json and document.get("problem"):  # what stopped the run, even when quiet
        say(f"exodus: {document['problem']}", err=True)
    sys.exit(code)


def _dest(value: str):
    from pathlib import Path
    _dest.seen = Path(value).expanduser()
    return _dest.seen


_dest.seen = None  # the DEST of this command, for an error that reaches main()


@cli.command(short_help="Back up a whole Flickr account into DEST, resumably.")
@click.argument("dest", type=click.Path())
@click.option("--concurrency", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Files downloaded at once.")
@click.option("--no-deep", is_flag=True,
              help="Skip the deep metadata pass (notes, people, exact permissions: one call per "
                   "new or changed item) that runs after the originals are safe.")
@click.option("--cookies", type=click.Path(dir_okay=False), metavar="FILE",
              help="A cookies.txt (Netscape format) exported from a browser signed in to Flickr: "
                   "opens video originals that Flickr keeps for the owner's session.")
@click.option("--xmp/--no-xmp", default=None,
              help="Also write {file}.xmp sidecars (title, description, keywords, GPS, date) for "
                   "digiKam, darktable, Lightroom, Immich. Remembered for later runs.")
@click.option("--faves", is_flag=True,
              help="Also download your favorites (other people's photos, largest allowed size) "
                   "into DEST/faves/.")
@click.option("--links-with-private-urls", "private_urls", is_flag=True,
              help="Also list in links.csv the image URLs (live.staticflickr.com/...) of private, friends "
                   "and family items. Anyone who holds such a URL can open the photo, and links.csv goes "
                   "wherever 'exodus push' sends the backup, so without this flag those items keep only "
                   "their page and flic.kr links there (catalog.db keeps every URL). This run only.")
@click.option("--adopt", is_flag=True,
              help="DEST holds a backup's files but its catalog.db is lost, empty or damaged: set the damaged "
                   "one aside (catalog.db.damaged-DATE), rebuild the catalog from the files, their sidecars "
                   "and a fresh listing, and download only what is missing or differs. Files that agree with "
                   "nothing known are moved to DEST/unknown-files/, never overwritten.")
@click.option("--quiet", is_flag=True, help="No progress bars or notes (the log in DEST/logs/ keeps them).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary on stdout, nothing else there.")
@flickr_options
def backup(dest: str, concurrency: int, no_deep: bool, cookies: str | None, xmp: bool | None, faves: bool,
           private_urls: bool, adopt: bool, quiet: bool, as_json: bool, api_base: str | None, api_rate) -> None:
    """Back up a whole Flickr account into DEST, resumably.

    \b
    DEST/catalog.db              every item, album, collection, comment, note, person,
                                 favorite, gallery, contact and group (SQLite)
    DEST/photos/YYYY/MM/DD/      {id}_{title}.{ext} originals + .json (+ .xmp) sidecars
    DEST/albums/, collections/   views: links to the originals, in album order
    DEST/links.csv               every Flickr URL of each item and album -> local path
                                 (image URLs of non-public items: --links-with-private-urls)
    DEST/logs/                   what happened, run by run

    Listing costs one API call per 500 items; comments, videos and albums a call each only
    where they have something; the deep pass one per new or changed item. Run it again at
    any time: it resumes where it stopped (even after kill -9) and then syncs: edits,
    new comments, album moves; replaced photos keep their earlier file; photos deleted on
    Flickr stay on disk as remote_gone. Exit 0 when all is saved, 1 if items failed, 3 if
    some need you (see 'exodus status'), 130 when interrupted.
    """
    from .backup.run import BackupOptions, run_backup

    options = BackupOptions(dest=_dest(dest), concurrency=concurrency, api_rate=api_rate,
                            api_base=api_base, quiet=quiet or as_json, deep=not no_deep,
                            cookies=_dest(cookies) if cookies else None, xmp=xmp, faves=faves,
                            private_urls=private_urls, adopt=adopt)
    _report(run_backup, options, as_json, _backup_text, quiet=quiet, err=True, again=f"'exodus backup {dest}'")


def _backup_text(summary: dict) -> str:
    """backup's text report, with what the backup holds (status's text) once it finished."""
    from pathlib import Path

    from .backup.run import render
    from .status import render as holds, status

    return render(summary, holds(status(Path(summary["dest"]))) if summary["status"] == "done" else None)


@cli.command(short_help="Prove a backup whole (--remote: and complete).")
@click.argument("dest", type=click.Path())
@click.option("--remote", is_flag=True,
              help="Also list the account on Flickr again (one call per 500 items) and reconcile: new, "
                   "changed and deleted items, albums, collections, totals.")
@click.option("--fast", is_flag=True, help="Check sizes, formats, what the structure shows by seeks and that "
                                          "each sidecar is there; no hashing and no sidecar read (proves less: "
                                          "makes no proof delete-remote could use; a garbled sidecar waits for "
                                          "a full verify).")
@click.option("--jobs", type=click.IntRange(1, 64), default=os.cpu_count() or 2, show_default=True,
              help="Files hashed at once.")
@click.option("--repair", is_flag=True,
              help="Mark every damaged or missing item for the next 'exodus backup' to fetch again; move "
                   "files the catalog does not know to DEST/unknown-files/; remove leftovers and broken links.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True,
              help='Print one report on stdout: {"ok", "counts", "problems": [{"id", "kind", "detail"}], '
                   '"needs_user"}.')
@flickr_options
def verify(dest: str, remote: bool, fast: bool, jobs: int, repair: bool, quiet: bool, as_json: bool,
           api_base: str | None, api_rate) -> None:
    """Prove a backup whole and complete.

    \b
    Local (always): every file is there, its size and SHA-256 are those downloaded, its
    first bytes are its format, its sidecar parses, and it agrees with at least one fact
    Flickr stated on its own (pixel size, a video's duration, Content-Length); files
    nobody knows, leftovers and broken album links are found.
    Remote (--remote): the backup against a fresh listing of the account.

    Exit 0: everything checked is whole and complete; 1: something is damaged or missing
    (--repair, then 'exodus backup', fixes it); 3: all whole, but some items need you.
    'exodus delete-remote' deletes only what verify has proved.
    """
    from .verify.run import VerifyOptions, render, run_verify

    options = VerifyOptions(dest=_dest(dest), remote=remote, fast=fast, jobs=jobs, repair=repair,
                            quiet=quiet or as_json, api_rate=api_rate, api_base=api_base)
    _report(run_verify, options, as_json, render)


@cli.command("delete-remote", short_help="Delete on Flickr only what verify proved (dry run first).")
@click.argument("dest", type=click.Path())
@click.option("--yes", is_flag=True, help="Delete for real (without it: a dry run, or on a terminal a "
                                          "confirmation by typing the account's username).")
@click.option("--limit", type=click.IntRange(1), help="Delete at most N items this run.")
@click.option("--album", metavar="ID", help="Only items in this album.")
@click.option("--ids", "ids_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Only the item ids listed in FILE, one per line.")
@click.option("--risk", type=click.Choice(["exposed", "high", "medium"]), default=None,
              help="Only the items the last 'exodus audit' ranked at this level or above "
                   "(high: exposed and high).")
@click.option("--allow-shallow", is_flag=True, help="Also items whose deep metadata (notes, people) is "
                                                     "not in the backup.")
@click.option("--require-pushed", metavar="TARGET",
              help="Only items whose file 'exodus push' has put on TARGET (as it is now).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
@flickr_options
def delete_remote(dest: str, yes: bool, limit: int | None, album: str | None, ids_file: str | None,
                  risk: str | None, allow_shallow: bool, require_pushed: str | None, quiet: bool, as_json: bool,
                  api_base: str | None, api_rate) -> None:
    """Delete on Flickr what the backup has proved safe; the files here stay.

    \b
    Only items that are downloaded, verified by 'exodus verify' since (hash and a fact
    Flickr stated), with deep metadata, and unchanged on Flickr (a fresh listing, just
    now) are eligible; each file is hashed once more right before its delete call. Every
    delete is journaled in catalog.db (table deletions) before and after the call.
    Needs a token with delete permission: 'exodus auth --perms delete'.
    Without --yes it is a dry run that shows what would go, by reason.
    """
    from pathlib import Path

    from .changes.delete import DeleteOptions, render, run_delete

    options = DeleteOptions(dest=_dest(dest), yes=yes, limit=limit, album=album,
                            ids_file=Path(ids_file) if ids_file else None, risk=risk, allow_shallow=allow_shallow,
                            require_pushed=require_pushed, quiet=quiet or as_json, api_rate=api_rate,
                            api_base=api_base)
    _report(run_delete, options, as_json, render)


def _audit_help() -> str:
    """The audit's help: its risk table is the one the ranking reads (audit/risk.py)."""
    from .audit.risk import table

    return f"""Which photos expose people, and which a face dataset already holds: every item
ranked by risk, with its reasons. Reads the backup only; no call to Flickr.

\b
Risk levels (the first that fits):
{table()}

\b
Reasons: public, friends and family, or private; a public location; a licence
that lets anyone copy it; people tagged; notes; words about people in the
title, description or tags; GPS in the original's own EXIF (even where Flickr
hides the location); an upload like those YFCC100M (2004-2014, Creative
Commons) and FFHQ (crawled in 2018) took; faces found in the original; a
published dataset list (--dataset) that names the photo, by its id or by the
account's NSID beside it.

\b
--dataset reads the published lists in their own formats, told apart by their
content, plain or compressed (bz2, gzip, xz), streaming: FFHQ's
ffhq-dataset-v2.json, YFCC100M's metadata, MegaFace's path lists, PIPA's
index.txt, or any list of Flickr photo links or ids. A list that cannot be
read is one line; the others are still read, and the audit ends with exit 1.

\b
Faces need the faces extra (pip install 'flickr-exodus[faces]'); without it
the audit says that faces were not checked. Faces found are kept per file in
catalog.db, so a rerun looks only at new files. Each item's level and reasons
are kept in catalog.db (table audit), replaced by each run. Then, for exactly
the photos you pick: exodus lockdown DEST --ids FILE, or delete-remote.
"""


@cli.command(short_help="Which photos expose people; which a dataset holds.", help=_audit_help())
@click.argument("dest", type=click.Path())
@click.option("--faces/--no-faces", default=None,
              help="Look for faces in the originals (default: when the faces extra is installed).")
@click.option("--dataset", "dataset_files", multiple=True, type=click.Path(), metavar="FILE",
              help="A published dataset list to look for the account's photos in; again for more.")
@click.option("--words", "words_file", type=click.Path(), metavar="FILE",
              help="Words about people, one word or phrase a line, instead of exodus's own list.")
@click.option("--html", is_flag=True, help="Also write DEST/audit.html, a contact sheet to pick photos from.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True,
              help='Print one report on stdout: {"ok", "counts", "items": [{"id", "risk", "reasons", ...}], '
                   '"datasets", "problems", ...}, the riskiest items first.')
def audit(dest: str, faces: bool | None, dataset_files: tuple[str, ...], words_file: str | None, html: bool,
          quiet: bool, as_json: bool) -> None:
    from pathlib import Path

    from .audit.run import AuditOptions, render, run_audit

    options = AuditOptions(dest=_dest(dest), faces=faces, datasets=tuple(Path(p).expanduser() for p in dataset_files),
                           words=Path(words_file).expanduser() if words_file else None, html=html,
                           quiet=quiet or as_json)
    _report(run_audit, options, as_json, render)


@cli.command(short_help="Make public, CC or listed items private, All Rights Reserved.")
@click.argument("dest", type=click.Path())
@click.option("--ids", "ids_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Exactly the items listed in FILE, one Flickr photo id a line ('#' starts a comment), "
                   "whatever their visibility and license; every id must be one of this backup's.")
@click.option("--risk", type=click.Choice(["exposed", "high", "medium"]), default=None,
              help="Exactly the items the last 'exodus audit' ranked at this level or above "
                   "(high: exposed and high).")
@click.option("--tag-no-cv", is_flag=True, help="Also add the tag no_cv (FFHQ's opt-out) to each item taken; "
                                                 "--undo removes only the no_cv tags lockdown added.")
@click.option("--undo", is_flag=True, help="Put back each item's visibility, license and location settings as "
                                           "the journal recorded them before the lockdown (with --ids: only "
                                           "those items).")
@click.option("--yes", is_flag=True, help="Change for real (without it: a dry run, or on a terminal a "
                                          "confirmation by typing the account's username).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
@flickr_options
def lockdown(dest: str, ids_file: str | None, risk: str | None, tag_no_cv: bool, undo: bool, yes: bool, quiet: bool, as_json: bool,
             api_base: str | None, api_rate) -> None:
    """Take items out of reach without deleting them: private, All Rights Reserved, and
    their location hidden from everyone else (flickr.photos.geo.setPerms).

    \b
    Without --ids or --risk: every public or Creative-Commons item.
    With --ids FILE: exactly the items listed, such as the selection saved
    from the sheet of 'exodus audit DEST --html':
      exodus lockdown DEST --ids picked.txt --tag-no-cv
    With --risk high: what the last audit ranked exposed or high.
    --tag-no-cv adds the tag no_cv, the opt-out FFHQ documents for face datasets.

    Nothing is deleted. Every change is journaled in catalog.db (table lockdowns) with the
    values before it, and '--undo' restores exactly those, and removes only the no_cv tags
    lockdown added (never one the item had before). Needs a token with write permission:
    'exodus auth --perms write'. Without --yes it is a dry run.
    """
    from pathlib import Path

    from .changes.lockdown import LockdownOptions, render, run_lockdown

    options = LockdownOptions(dest=_dest(dest), undo=undo, yes=yes, ids_file=Path(ids_file).expanduser()
                              if ids_file else None, risk=risk, tag_no_cv=tag_no_cv, quiet=quiet or as_json,
                              api_rate=api_rate, api_base=api_base)
    _report(run_lockdown, options, as_json, render)


@cli.command("import-export", short_help="Add what only Flickr's account export holds.")
@click.argument("dest", type=click.Path())
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
def import_export(dest: str, paths: tuple[str, ...], quiet: bool, as_json: bool) -> None:
    """Bring in Flickr's account export (Settings > Your Flickr data > Request my Flickr
    data): its zip files or the folders they were unpacked into, in any order.

    \b
    With a backup in DEST: fills every item the API could not give (originals Flickr
    withholds from free accounts, videos behind a browser session) and checks that both
    sources agree where both have an item. Without one: builds the whole catalog and tree
    from the export alone. Re-runnable; the zips are only read; nothing else is deleted.
    """
    from pathlib import Path

    from .account_export.run import ImportOptions, render, run_import

    options = ImportOptions(dest=_dest(dest), paths=[Path(p) for p in paths], quiet=quiet or as_json)
    _report(run_import, options, as_json, render)


@cli.command(short_help="Copy the backup to S3, WebDAV, rclone or Immich.")
@click.argument("dest", type=click.Path())
@click.argument("target")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Uploads at once.")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
def push(dest: str, target: str, concurrency: int, dry_run: bool, quiet: bool, as_json: bool) -> None:
    """Copy the backup to its new home; run again to send only what changed.

    \b
    TARGET is one of:
      s3://BUCKET/PREFIX        AWS S3 or any S3-compatible store (B2, Wasabi, MinIO, R2...);
                                credentials and endpoint from AWS_ACCESS_KEY_ID,
                                AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION
      webdav(s)://HOST/PATH     Nextcloud, ownCloud, PhotoPrism, a NAS; user and password
                                in the URL or WEBDAV_USER, WEBDAV_PASSWORD
      rclone:REMOTE:PATH        any rclone remote (Drive, Dropbox, OneDrive, SFTP, SMB, B2,
                                a local folder...), configured with 'rclone config'
      rclone::local:/PATH       a folder on this machine (or a mounted disk), no config
      immich(s)://HOST[:PORT]   an Immich server (1.1xx to 3.x); API key in IMMICH_API_KEY
    
    To file stores go the originals, earlier versions, sidecars, links.csv, the faves and a
    consistent snapshot of catalog.db; logs and locks never do. Each upload is checked
    (size, and MD5 where the target tells it) before catalog.db records it (table pushes).
    To Immich go the items (and the faves, as favourites) with their XMP sidecars; then
    their descriptions, dates and GPS are set, albums made in Flickr's order, and tags
    added as Flickr/<tag>. Files Immich already holds (same SHA-1) are never sent again.
    """
    from .push import PushOptions, render, run_push

    options = PushOptions(dest=_dest(dest), target=target, concurrency=concurrency, dry_run=dry_run,
                          quiet=quiet or as_json)
    _report(run_push, options, as_json, render)


@cli.command("status", short_help="What the backup holds and what needs you.")
@click.argument("dest", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document.")
def status_command(dest: str, as_json: bool) -> None:
    """What a backup holds: items per state, bytes on disk, what is left, and what needs
    you (with Flickr page URLs and the next step). Makes no call to Flickr."""
    from .status import StatusOptions, render, run_status, to_json

    _report(run_status, StatusOptions(dest=_dest(dest)), as_json, render, dump=to_json)


@cli.command(short_help="Browse the backup offline as a site; publish a part.")
@click.argument("dest", type=click.Path())
@click.option("--open", "open_browser", is_flag=True, help="Open the front page in the web browser when done.")
@click.option("--only", type=click.Choice(["public"]), help="A subset to publish: the public items only (needs --out).")
@click.option("--ids", "ids_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="A subset to publish: the items of FILE, one Flickr photo id a line (needs --out).")
@click.option("--out", type=click.Path(file_okay=False), metavar="DIR",
              help="Where a subset goes: a new or empty folder outside DEST (or an earlier subset's).")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Thumbnails made at once (default: one per core).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report on stdout.")
def gallery(dest: str, open_browser: bool, only: str | None, ids_file: str | None, out: str | None,
            jobs: int | None, quiet: bool, as_json: bool) -> None:
    """Make the backup a site you open from the folder, offline: DEST/index.html.

    \b
    Photostream by month, albums in Flickr's order, collections, tags, people, and a page
    per item with its description, comments, notes (hover or focus), people, EXIF, place
    and earlier versions; the arrow keys step through a stream, album or tag. No server and
    no network: it opens from file://, and the folder can be moved, zipped or pushed.
    DEST/README.txt explains it to anyone; DEST/site/SHA256SUMS checks every original.

    \b
    The full gallery shows PRIVATE items: it is the owner's view. To publish, build a
    subset into a folder of its own, with copies of its originals:
      exodus gallery DEST --only public --out ~/public-site
      exodus gallery DEST --ids picked.txt --out ~/for-grandma
    Run again after a backup: only what changed is made again.
    """
    from pathlib import Path

    from .gallery.run import GalleryOptions, render, run_gallery

    options = GalleryOptions(dest=_dest(dest), out=Path(out).expanduser() if out else None, only=only,
                             ids_file=Path(ids_file).expanduser() if ids_file else None, jobs=jobs,
                             open_browser=open_browser and not as_json, quiet=quiet or as_json)
    _report(run_gallery, options, as_json, render)


@cli.command(short_help="Try it all against a local Flickr sandbox.")
@click.argument("directory", required=False, type=click.Path(file_okay=False), default="exodus-demo")
def demo(directory: str) -> None:
    """Show exodus against a local Flickr sandbox: sign in, list, download, check.

    Nothing leaves this machine. DIRECTORY (default ./exodus-demo) receives the files.
    """
    from .demo import run_demo

    sys.exit(run_demo(directory, echo=click.echo))


def main(argv: list[str] | None = None) -> None:
    """Entry point: click without its tracebacks; one line per error, contract exit codes."""
    private_files()
    try:
        code = cli.main(args=argv, prog_name="exodus", standalone_mode=False)
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        fail(f"{error.format_message()}{hint}", EXIT_USAGE)
    except click.ClickException as error:
        fail(error.format_message(), error.exit_code)
    except (click.Abort, KeyboardInterrupt):
        fail("interrupted; run the same command again to resume", EXIT_INTERRUPTED)
    except (OSError, sqlite3.DatabaseError) as error:
        fail(*system_error(error))
    except OutsideDest as error:  # DEST's own logs/ or lock planted as a link elsewhere
        fail(f"{error}; nothing was written there", EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)


def private_files() -> None:
    """Everything exodus creates from here on (the tree, catalog.db and its -wal and -shm,
    logs, .part files, tokens) is for this user only: 0700 folders, 0600 files. A stricter
    umask stays as it is. Set once for the process, here where exodus owns the process, not
    in the library, whose callers own theirs (a library call changing it would change every
    file its host process and threads make)."""
    os.umask(os.umask(0o077) | 0o077)


def fail(message: str, code: int) -> None:
    say(f"exodus: {' '.join(message.split())}", err=True)
    sys.exit(code)


def system_error(error: OSError | sqlite3.DatabaseError) -> tuple[str, int]:
    """What the disk or the catalog refused, wherever it happened: one line and what to do.
    Every step commits as it goes, so the same command, run again, goes on."""
    from .dest import disk_full

    where = _dest.seen if _dest.seen is not None and _dest.seen.exists() else None
    if disk_full(error, where):
        return ("the disk is full; what was done so far is kept. Free some space and run the same "
                "command again", EXIT_PROBLEMS)
    if isinstance(error, sqlite3.DatabaseError):
        return (f"the catalog (catalog.db) cannot be read or written ({error}); nothing more was changed. "
                "If it is damaged, restore it from a copy (each 'exodus push' to a file store keeps one)",
                EXIT_USAGE)
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}; nothing more was changed", EXIT_PROBLEMS
