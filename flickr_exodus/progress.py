"""What the user sees while a long job runs: tqdm bars on stderr, one-line notes, and a
log file that keeps both. --quiet keeps the log and silences the terminal."""

from __future__ import annotations

import logging
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


class Progress:
    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.interactive = sys.stderr.isatty()

    def bar(self, desc: str, total: int | None = None, unit: str = "it", bytes: bool = False):
        if self.quiet:
            return _Silent(total)
        return tqdm(desc=desc, total=total, unit="B" if bytes else unit, unit_scale=bytes,
                    unit_divisor=1024 if bytes else 1000, file=sys.stderr, dynamic_ncols=True,
                    leave=True, mininterval=0.5 if self.interactive else 5.0,
                    disable=not self.interactive)

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


def log_to(dest: Path, command: str) -> Path:
    """Send everything logged to DEST/logs/COMMAND-YYYYmmdd-HHMMSS.log (a logs/ that
    leads out of DEST is refused like any other path: paths.inside)."""
    from .backup.paths import inside

    path = inside(dest, f"logs/{command}-{time.strftime('%Y%m%d-%H%M%S')}.log")
    handler = _QuietFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("exodus")
    for old in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    return path
