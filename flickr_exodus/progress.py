"""What the user sees while a long job runs: tqdm bars on stderr, one-line notes, and a
log file that keeps both. --quiet keeps the log and silences the terminal.

Sizes are decimal, as everywhere in exodus: 1 MB = 10^6 bytes. A terminal that reports
no width (0 columns: some serial consoles, editors' shells) gets the bars as plain lines,
every few seconds, since a bar redrawn in place cannot be drawn there.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from pathlib import Path

from tqdm import tqdm

log = logging.getLogger("exodus")

# What a terminal would act on rather than show: C0 controls but newline and tab (ESC
# among them), DEL, C1 controls (0x9b is a CSI on its own), and the bidi overrides and
# isolates that reorder what follows. Text from Flickr or a zip passes through here.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# In JSON, the characters json.dumps leaves as they are (C0 are escaped already).
_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What tqdm writes to redraw a bar in place: carriage returns and cursor-up moves.
_REDRAW = re.compile("\r|\x1b\\[A")
PLAIN_EVERY_S = 10.0  # seconds between two lines of one bar, where bars are plain lines


def plural(n: int, word: str, words: str | None = None) -> str:
    """'1 file', '2 files', '1 retry', '3 retries' (pass `words` when -s is wrong)."""
    return f"{n} {word if n == 1 else words or word + 's'}"


def clean(text: str) -> str:
    """Text for a terminal: every control or bidi character shown as its code, never obeyed."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                         else f"\\u{ord(m.group()):04x}", str(text))


def json_text(text: str) -> str:
    """A JSON document (json.dumps with ensure_ascii=False) with the controls it left raw
    written as \\uXXXX escapes: the same document for any parser, inert on a terminal."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _Silent:
    """A bar that shows nothing (quiet runs); counts, so callers never branch."""

    def __init__(self, total=None, **_):
        self.total = total
        self.n = 0

    def update(self, n=1):
        self.n += n

    def reset(self, total=None):
        self.total, self.n = total, 0

    def set_postfix_str(self, *_args, **_kwargs):
        pass

    def close(self):
        pass


def page_meter(bar):
    """A listing's on_page callback that moves `bar`: page `number` of `pages` done (a
    listing resumed at page n starts the bar there; a new round starts it again)."""
    def on_page(number: int, pages: int) -> None:
        if bar.total != pages:
            bar.reset(total=pages)
        bar.update(number - bar.n)
    return on_page


class _Lines:
    """A stream for tqdm that turns each redraw into a line of its own: bars for a
    terminal that cannot redraw in place."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        line = _REDRAW.sub("", text).strip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def columns(stream) -> int | None:
    """The width the terminal reports, or None when it reports nothing."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return None


class Progress:
    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.interactive = sys.stderr.isatty()
        self.plain = self.interactive and columns(sys.stderr) == 0

    def bar(self, desc: str, total: int | None = None, unit: str = "it", bytes: bool = False):
        if self.quiet:
            return _Silent(total)
        look = dict(unit="B" if bytes else unit, unit_scale=bytes, unit_divisor=1000, leave=True)
        if self.plain:
            return tqdm(desc=desc, total=total, file=_Lines(sys.stderr), ncols=0, dynamic_ncols=False,
                        mininterval=PLAIN_EVERY_S, ascii=True, **look)
        return tqdm(desc=desc, total=total, file=sys.stderr, dynamic_ncols=True,
                    mininterval=0.5, disable=not self.interactive, **look)

    def note(self, message: str) -> None:
        message = clean(message)
        log.info(message)
        if not self.quiet:
            tqdm.write(message, file=sys.stderr)


class _QuietFileHandler(logging.FileHandler):
    """A log that cannot be written (a full disk) is given up, without the traceback
    logging would print on stderr: the run itself says what went wrong."""

    def handleError(self, record) -> None:
        logging.getLogger("exodus").removeHandler(self)


def _new_log(dest: Path, command: str) -> Path:
    """DEST/logs/COMMAND-YYYYmmdd-HHMMSS.log, or -2, -3... when a run of the same second
    has it already: each run its own file (O_EXCL: never another's, even in a race)."""
    from .layout.paths import inside

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
    from .dest import current_recording

    path = _new_log(dest, command)
    handler = _QuietFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("exodus")
    for old in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
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
    root = logging.getLogger("exodus")
    for handler in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        root.removeHandler(handler)
        handler.close()
