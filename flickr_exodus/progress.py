"""What the user sees while a long job runs: tqdm bars on stderr and one-line notes, which
the run's log (records.log_to) keeps too. --quiet keeps the log and silences the terminal.

Sizes are decimal, as everywhere in exodus: 1 MB = 10^6 bytes. A terminal that reports
no width (0 columns: some serial consoles, editors' shells) gets the bars as plain lines,
every few seconds, since a bar redrawn in place cannot be drawn there.
"""

from __future__ import annotations

import logging
import os
import re
import sys

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
