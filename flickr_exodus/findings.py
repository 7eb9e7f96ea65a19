"""What a check finds, typed: `Finding(id, kind, detail, needs_user)`, its kind one of a
closed set. verify produces them (local files, the tree, the catalog, Flickr); status
reads the catalog's items that wait for something as findings too. Reports turn them into
their documents at the very end, so no count is ever decoded from a string key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    # An item's file (verify/local.py; truncated and malformed are media/complete.py's)
    MISSING = "missing"
    NOT_A_FILE = "not_a_file"
    UNREADABLE = "unreadable"
    SIZE_MISMATCH = "size_mismatch"
    HASH_MISMATCH = "hash_mismatch"
    CHANGED_WHILE_READ = "changed_while_read"
    WRONG_FORMAT = "wrong_format"
    LENGTH_MISMATCH = "length_mismatch"
    PIXEL_SIZE_MISMATCH = "pixel_size_mismatch"
    ASPECT_RATIO_MISMATCH = "aspect_ratio_mismatch"
    DURATION_MISMATCH = "duration_mismatch"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"
    # Its sidecar
    SIDECAR_MISSING = "sidecar_missing"
    SIDECAR_INVALID = "sidecar_invalid"
    # The tree around the files (id: a path under DEST)
    STRAY = "stray"
    PART_LEFTOVER = "part_leftover"
    BROKEN_LINK = "broken_link"
    RESUMABLE_PART = "resumable_part"  # not a fault: 'exodus backup' resumes it
    # The catalog
    NOT_DOWNLOADED = "not_downloaded"
    LISTING_INCOMPLETE = "listing_incomplete"
    PENDING = "pending"
    FAILED = "failed"
    # Flickr against the backup (verify/remote.py)
    COUNT_MISMATCH = "count_mismatch"
    STILL_ON_FLICKR = "still_on_flickr"
    GONE_FROM_FLICKR = "gone_from_flickr"
    STALE = "stale"
    NEW_ON_FLICKR = "new_on_flickr"
    ALBUM_NEW = "album_new"
    ALBUM_CHANGED = "album_changed"
    ALBUM_GONE = "album_gone"
    COLLECTION_CHANGED = "collection_changed"
    # Whole, or waiting, but only the user can settle it
    UNCONFIRMED = "unconfirmed"
    NEEDS_MANUAL = "needs_manual"
    ORIGINAL_UNAVAILABLE = "original_unavailable"

    @property
    def sidecar(self) -> bool:
        """About the sidecar, not the file: the file itself is whole."""
        return self in (Kind.SIDECAR_MISSING, Kind.SIDECAR_INVALID)


# Item states that wait for the user, not for another run.
WAITING_FOR_USER = frozenset({Kind.NEEDS_MANUAL, Kind.ORIGINAL_UNAVAILABLE})


@dataclass(frozen=True)
class Finding:
    id: str                   # an item, album or collection id, a path under DEST, or "account"
    kind: Kind
    detail: str | None        # one line; a catalog reason may be unknown (None)
    needs_user: bool = False  # no damage, but nothing exodus can do about it alone

    def problem(self) -> dict:
        return {"id": self.id, "kind": self.kind.value, "detail": self.detail}

    def waiting(self) -> dict:
        return {"id": self.id, "state": self.kind.value, "reason": self.detail}


def of_item(row: dict) -> Finding:
    """A catalog item without a finished file (failed, needs_manual, original_unavailable,
    pending), as a finding: its state is the kind, its reason the detail."""
    kind = Kind(row["state"])
    return Finding(row["id"], kind, row["reason"], needs_user=kind in WAITING_FOR_USER)


@dataclass
class Findings:
    """Findings as a check makes them: problems counted by kind (all) and kept up to
    `shown`; those that need the user all kept."""
    shown: int
    kinds: Counter = field(default_factory=Counter)      # Kind -> problems found
    problems: list[Finding] = field(default_factory=list)
    needs_user: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        if finding.needs_user:
            self.needs_user.append(finding)
            return
        self.kinds[finding.kind] += 1
        if len(self.problems) < self.shown:
            self.problems.append(finding)

    def count(self, kind: Kind) -> int:
        """How many of this kind: problems, or findings that need the user."""
        return self.kinds[kind] + sum(1 for f in self.needs_user if f.kind is kind)

    @property
    def total(self) -> int:
        return sum(self.kinds.values())
