"""Words that suggest a photo shows people, looked for in its title, description and tags:
the package's list (people-words.txt) or the user's own (--words FILE, which replaces it),
one word or phrase a line, '#' starting a comment. Matched as whole words, any case."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..dest import UsageProblem
from ..flickr.ids import shown

DEFAULT = Path(__file__).with_name("people-words.txt")
MAX_BYTES = 1 << 20   # a word list, not a dictionary
MAX_ENTRY = 100       # characters of one word or phrase
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Words:
    single: frozenset[str]
    phrases: tuple[str, ...]   # of several words, each once between single spaces
    joined: dict[str, str]     # a phrase without its spaces -> the phrase: Flickr's clean tags have none

    def found(self, title: str | None, description: str | None, tags: Iterable[str]) -> list[str]:
        """The list's words and phrases the texts and tags hold, sorted."""
        tokens = _WORD.findall(f"{title or ''}\n{description or ''}".casefold())
        text = f" {' '.join(tokens)} "
        hits = {t for t in tokens if t in self.single} | {p for p in self.phrases if f" {p} " in text}
        for tag in tags:
            tag = tag.casefold()
            if tag in self.single:
                hits.add(tag)
            elif tag in self.joined:
                hits.add(self.joined[tag])
        return sorted(hits)


def load(path: Path | None) -> Words:
    """The user's list, or the package's; a file that is not a word list is one line (exit 2)."""
    where = f"--words {path}" if path is not None else f"the word list {DEFAULT}"
    entries = _entries(_text(path or DEFAULT, where), where)
    if not entries:
        raise UsageProblem(f"{where} names no word; give one word or phrase a line")
    phrases = tuple(sorted(e for e in entries if " " in e))
    return Words(frozenset(e for e in entries if " " not in e), phrases, {p.replace(" ", ""): p for p in phrases})


def _text(path: Path, where: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise UsageProblem(f"cannot read {where}: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise UsageProblem(f"{where} is larger than {MAX_BYTES >> 20} MB: a word list is one word or phrase a line")
    if b"\x00" in data:
        raise UsageProblem(f"{where} holds binary data, not a word list")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageProblem(f"{where} is not UTF-8 text (byte {error.start})") from None


def _entries(text: str, where: str) -> set[str]:
    entries = set()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = _WORD.findall(line.casefold())
        if not words or len(line) > MAX_ENTRY:
            raise UsageProblem(f"{where}, line {number}: {shown(line)} is not a word or a short phrase "
                               f"(one a line, at most {MAX_ENTRY} characters)")
        entries.add(" ".join(words))
    return entries
