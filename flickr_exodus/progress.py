"""What the user sees while a long job runs: tqdm bars on stderr, one-line notes, and a
log file that keeps both. --quiet keeps the log and silences the terminal."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from tqdm import tqdm

log = logging.getLogger("exodus")


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
        log.info(message)
        if not self.quiet:
            tqdm.write(message, file=sys.stderr)


def log_to(directory: Path, command: str) -> Path:
    """Send everything logged to DEST/logs/COMMAND-YYYYmmdd-HHMMSS.log."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("exodus")
    for old in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    return path
