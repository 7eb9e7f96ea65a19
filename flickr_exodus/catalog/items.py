"""What the catalog says of one item: its `State`, the typed `Item` read from its row, and
the named filters `Catalog.items` walks. The transitions that change an item live in
transitions.py; this module writes nothing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class State(StrEnum):
    """An item's state (design.md contract). A StrEnum: stored, compared and printed as
    the same strings the catalog has always held."""
    PENDING = "pending"
    DOWNLOADED = "downloaded"
    FAILED = "failed"
    ORIGINAL_UNAVAILABLE = "original_unavailable"  # Flickr withholds it; a smaller size may be kept
    NEEDS_MANUAL = "needs_manual"
    REMOTE_GONE = "remote_gone"        # deleted on Flickr by someone else; the local copy stays
    DELETED_REMOTE = "deleted_remote"  # deleted by `exodus delete-remote`


STATES = tuple(State)
# States a backup run tries to (re)fetch.
TO_FETCH = (State.PENDING, State.FAILED, State.NEEDS_MANUAL)
# States in which an item may have a finished file on disk (original_unavailable: a
# smaller size kept; remote_gone, deleted_remote: the copy outlives Flickr's).
FILE_STATES = (State.DOWNLOADED, State.ORIGINAL_UNAVAILABLE, State.REMOTE_GONE, State.DELETED_REMOTE)
# No longer on Flickr: nothing more to fetch of them.
GONE_STATES = (State.REMOTE_GONE, State.DELETED_REMOTE)
# Without a finished file, for a reason a report names.
WANTING_STATES = (State.PENDING, State.FAILED, State.NEEDS_MANUAL, State.ORIGINAL_UNAVAILABLE)


def _in(states: tuple[State, ...], column: str = "state") -> str:
    return f"{column} IN ({', '.join(repr(str(s)) for s in states)})"


def has_file(table: str = "") -> str:
    """SQL: the item has a finished file on disk (whatever happened on Flickr since)."""
    p = f"{table}." if table else ""
    return f"{_in(FILE_STATES, p + 'state')} AND {p}path IS NOT NULL AND {p}sha256 IS NOT NULL"


class Where(NamedTuple):
    """A named filter over the photos table, for `Catalog.items`; `a & b` is both."""
    sql: str
    params: tuple = ()

    def __and__(self, other: "Where") -> "Where":
        return Where(f"({self.sql}) AND ({other.sql})", self.params + other.params)


EVERY = Where("1")
WITH_FILE = Where(has_file())
FETCHABLE = Where(_in(TO_FETCH))
LIVE = Where(f"NOT {_in(GONE_STATES)}")
NEEDS_DEEP = Where("deep_done = 0") & LIVE
SIDECAR_DIRTY = Where("sidecar_dirty = 1")
REPLACED = Where("replaced = 1")


@dataclass
class Item:
    """One row of `photos`, typed. The columns design.md names first, then exodus's own."""
    id: str
    media: str | None = None           # photo | video
    title: str | None = None
    description: str | None = None
    date_taken: str | None = None
    date_upload: int | None = None
    last_update: int | None = None
    license: int | None = None
    is_public: int | None = None
    is_friend: int | None = None
    is_family: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    original_format: str | None = None
    path: str | None = None            # relative to DEST
    size: int | None = None
    sha256: str | None = None
    state: State | str = State.PENDING
    verified_at: str | None = None
    raw: str | None = None             # the JSON Flickr's listing sent
    # beyond the contract (see schema.py for what each holds)
    verified: str | None = None
    verified_sha256: str | None = None
    verified_size: int | None = None
    verified_facts: str | None = None
    source: str | None = None
    secret: str | None = None
    original_secret: str | None = None
    server: str | None = None
    accuracy: int | None = None
    taken_granularity: int | None = None
    taken_unknown: int | None = None
    safety_level: int | None = None
    views: int | None = None
    o_width: int | None = None
    o_height: int | None = None
    url_o: str | None = None
    source_url: str | None = None
    video_source: str | None = None
    etag: str | None = None
    expected_size: int | None = None
    reason: str | None = None
    attempts: int | None = None
    downloaded_at: str | None = None
    first_seen: str | None = None
    count_comments: int | None = None
    comments_synced: int | None = None
    listed_pass: int | None = None
    sidecar_dirty: int | None = None
    deep_done: int | None = None
    info_raw: str | None = None
    rotation: int | None = None
    perm_comment: int | None = None
    perm_addmeta: int | None = None
    has_people: int | None = None
    photopage: str | None = None
    duration: int | None = None
    places: str | None = None
    geo_perms: str | None = None
    kept_size: str | None = None
    fallback_url: str | None = None
    gone_at: str | None = None
    replaced: int | None = None
    prior_secret: str | None = None

    @classmethod
    def from_row(cls, row: dict) -> "Item":
        """An item from a photos row; a state this exodus does not know stays the string it
        is (a hostile or newer catalog), so that no comparison takes it for a known one."""
        # What __init__ would do, without its call of 60 arguments: a walk over a million
        # items makes a million of these.
        item = cls.__new__(cls)
        fields = item.__dict__
        fields.update(_DEFAULTS)
        fields.update((k, v) for k, v in row.items() if k in ITEM_COLUMNS)
        if "id" not in fields:
            raise TypeError("an item's row needs its id")
        fields["state"] = State._value2member_map_.get(fields["state"], fields["state"])
        return item

    # Reads by column name, as the row dicts did, for code that reads an item generically.
    def __getitem__(self, column: str):
        if column not in ITEM_COLUMNS:
            raise KeyError(column)
        return getattr(self, column)

    def get(self, column: str, default=None):
        return getattr(self, column) if column in ITEM_COLUMNS else default


# The columns an Item holds (a row's others are left out).
ITEM_COLUMNS = frozenset(f.name for f in dataclasses.fields(Item))
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Item) if f.default is not dataclasses.MISSING}
