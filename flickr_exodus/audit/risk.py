"""An item's risk level from the codes of its reasons: one small table, read top down; the
first rule the reasons satisfy gives the level. `exodus audit --help` prints the table."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

# The reasons' codes (signals.py gives each its text).
DATASET = "dataset"                 # a published dataset list names the photo
PUBLIC = "public"
SHARED = "friends or family"        # seen by friends or family, not by anyone
PRIVATE = "private"
LOCATION = "location public"
REUSABLE = "reusable licence"
PEOPLE = "people tagged"
NOTES = "notes"
WORDS = "people words"              # in the title, description or tags
EXIF_GPS = "exif gps"               # the original's own EXIF holds where it was taken
WINDOW = "crawl window"             # uploaded when and as the datasets took photos
FACES = "faces"

LEVELS = ("exposed", "high", "medium", "low")
# The order an item's reasons are listed in: the strongest first.
ORDER = (DATASET, PUBLIC, SHARED, PRIVATE, REUSABLE, PEOPLE, FACES, WORDS, NOTES, LOCATION, EXIF_GPS, WINDOW)


@dataclass(frozen=True)
class Rule:
    level: str
    all_of: frozenset[str]
    any_of: frozenset[str]   # empty: nothing more is needed
    says: str                # the rule in words, for --help

    def takes(self, codes: set[str]) -> bool:
        return self.all_of <= codes and (not self.any_of or not self.any_of.isdisjoint(codes))


def _rule(level: str, all_of: tuple = (), any_of: tuple = (), says: str = "") -> Rule:
    return Rule(level, frozenset(all_of), frozenset(any_of), says)


RULES = (
    _rule("exposed", (DATASET,), says="a published dataset list (--dataset) names the photo"),
    _rule("high", (PUBLIC, REUSABLE), (PEOPLE, FACES),
          says="public, under a licence that permits reuse, with people tagged or faces found"),
    _rule("medium", (PUBLIC,), (REUSABLE, PEOPLE, FACES, WORDS, NOTES, LOCATION, EXIF_GPS),
          says="public, with a reusable licence, people tagged, faces, notes, words about people, "
               "a public location or GPS in the original"),
    _rule("medium", (SHARED,), (PEOPLE, FACES, EXIF_GPS),
          says="seen by friends or family, with people tagged, faces or GPS in the original"),
    _rule("low", says="everything else: private items, and public or shared ones with no sign of people, "
                        "place or reuse"),
)
assert {r.level for r in RULES} == set(LEVELS)


def level(codes: set[str]) -> str:
    return next(rule.level for rule in RULES if rule.takes(codes))


def table(columns: int = 78) -> str:
    """The rules as --help shows them, in order, each wrapped under its level."""
    width = max(len(level) for level in LEVELS) + 4
    return "\n".join(textwrap.fill(rule.says, columns, initial_indent=f"  {rule.level:<{width - 2}}",
                                   subsequent_indent=" " * width) for rule in RULES)
