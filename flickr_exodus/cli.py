"""`exodus`: thin click commands. Parse, call one function, print, exit with the contract's code.

Exit codes: 0 done; 1 problems found; 2 usage or configuration error; 3 done but some items
need the user; 130 interrupted (run again to resume).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import click

from . import __version__

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="exodus")
def cli() -> None:
    """Leave Flickr with everything: back it up, prove the backup, then let go.

    \b
    exodus demo                  try it all against a local Flickr sandbox
    exodus sandbox               run the sandbox (a local Flickr) for your own experiments
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


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one; the JSON line tells which).")
@click.option("--photos", type=click.IntRange(0), default=40, show_default=True, help="Photos in the account.")
@click.option("--videos", type=click.IntRange(0), default=4, show_default=True, help="Videos in the account.")
@click.option("--albums", type=click.IntRange(0), default=6, show_default=True, help="Albums in the account.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same account, same bytes.")
@click.option("--media-size", callback=_size, default="40000-400000", show_default=True,
              help="Bytes per photo original: N or MIN-MAX.")
@click.option("--video-size", callback=_size, default="200000-1500000", show_default=True,
              help="Bytes per video original: N or MIN-MAX (several GB is fine: bytes are streamed).")
@click.option("--free-account", is_flag=True,
              help="Withhold Original and sizes above 1024 px, as Flickr does for free accounts since 2025.")
@click.option("--video-access", type=click.Choice(["cookie", "oauth", "open"]), default="cookie",
              show_default=True, help="Who may fetch a video's original: the owner's browser session "
              "cookie, also OAuth-signed requests, or anyone.")
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
@click.option("--latency-ms", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Delay before every answer.")
@click.option("--bandwidth", type=click.IntRange(1), metavar="BYTES_PER_S",
              help="Total CDN bandwidth cap over all connections.")
@click.option("--verbose", is_flag=True, help="Log every request on stderr.")
def sandbox(**options) -> None:
    """Run a local Flickr (API, OAuth, CDN) on 127.0.0.1 until Ctrl-C.

    Prints one JSON line on stdout with the base URL and the credentials to use (an
    OAuth token with delete permission, and the owner's browser session cookie), then
    serves until Ctrl-C:

    \b
      exodus sandbox --photos 300 --videos 10 --fault-rate 0.05 > sandbox.json &
      export EXODUS_API_BASE=$(python3 -c 'import json;print(json.load(open("sandbox.json"))["api_base"])')

    Control endpoints (no auth): GET /__sandbox__/stats and /__sandbox__/manifest; POST
    /__sandbox__/replace, edit, comment, add, delete, album, token, faults, reset-stats.
    """
    import logging

    from .sandbox import SandboxConfig, serve_forever

    try:
        config = SandboxConfig(**options)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if config.verbose:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

    def announce(info: dict) -> None:
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()

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


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False), default="exodus-demo")
def demo(directory: str) -> None:
    """Show exodus against a local Flickr sandbox: sign in, list, download, check.

    Nothing leaves this machine. DIRECTORY (default ./exodus-demo) receives the files.
    """
    from .demo import run_demo

    sys.exit(run_demo(directory, echo=click.echo))


def main(argv: list[str] | None = None) -> None:
    """Entry point: click without its tracebacks; one line per error, contract exit codes."""
    try:
        code = cli.main(args=argv, prog_name="exodus", standalone_mode=False)
    except click.UsageError as error:
        hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
        click.echo(f"exodus: {error.format_message()}{hint}", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as error:
        click.echo(f"exodus: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("exodus: interrupted; run the same command again to resume", err=True)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)
