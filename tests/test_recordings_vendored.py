"""Flickr's recordings travel with the repository: the set INDEX.md describes is all there,
nothing is unlisted, and no test reads them from outside tests/recordings/."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import RECORDINGS

TESTS = Path(__file__).resolve().parent


def listed() -> set[str]:
    """The files INDEX.md's summary table names, one row each."""
    text = (RECORDINGS / "INDEX.md").read_text()
    return set(re.findall(r"^\| `([^`]+)` \|", text, re.MULTILINE))


def test_every_recording_the_index_lists_is_here_and_not_empty():
    names = listed()
    assert len(names) >= 90, f"INDEX.md lists only {len(names)} recordings"
    missing = sorted(n for n in names if not (RECORDINGS / n).is_file() or not (RECORDINGS / n).stat().st_size)
    assert not missing, f"recordings missing or empty in {RECORDINGS}: {missing}"


def test_every_recording_here_is_in_the_index():
    present = {p.name for p in RECORDINGS.iterdir()} - {"INDEX.md"}
    assert present == listed(), f"not in INDEX.md: {sorted(present - listed())}"


def test_no_test_reads_the_shared_folder():
    outside = [p.name for p in TESTS.glob("*.py")
               if p.name != Path(__file__).name and "flickr-recordings" in p.read_text()]
    assert not outside, f"tests still reading ../shared/flickr-recordings: {outside}"
