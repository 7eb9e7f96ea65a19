"""The one way exodus changes something on Flickr: through a `Journal`.

Each change's intent is recorded before its call (with what it needs to be settled or
undone), and its result after it, with the item's consequence in the same transaction:
a kill at any instant leaves an exact record. The intents a stopped run left open are
settled by the next run before anything else (delete-remote asks Flickr which way each
went; lockdown's calls are idempotent and are simply carried out again)."""

from __future__ import annotations

from typing import Awaitable, Callable

from ..catalog import Catalog, State
from ..catalog import journal as table
from ..catalog.store import dumps
from ..knobs import crash_point

# What a settled result does to the item (catalog/journal.CONSEQUENCES), per journal:
# a delete that took effect (now, or by an attempt whose answer was lost) leaves the item
# deleted_remote; an undo carried out (or of an item gone since) closes its lockdowns.
CONSEQUENCES = {
    ("delete", None): {"deleted": State.DELETED_REMOTE, "already_gone": State.DELETED_REMOTE},
    ("lockdown", "undo"): {"done": "undone", "gone": "undone"},
}


class Journal:
    """One journal (`kind`: delete or lockdown; lockdown's `action`: lock or undo) for one
    run (`run_id`: None while only settling what an earlier run left open)."""

    def __init__(self, cat: Catalog, kind: str, run_id: int | None = None, action: str | None = None):
        self.cat, self.kind, self.run_id, self.action = cat, kind, run_id, action
        self.consequences = CONSEQUENCES.get((kind, action), {})

    def open_intents(self) -> list[dict]:
        return table.open_intents(self.cat, self.kind, self.action)

    def settle(self, entry: int, photo_id: str, result: str, detail: str | None = None,
               made: dict | None = None) -> None:
        table.settle(self.cat, self.kind, entry, result, detail, photo_id, self.consequences.get(result), made)

    async def change(self, photo_id: str, call: Callable[[], Awaitable[tuple]], entry: int | None = None,
                     **values) -> str:
        """One change: its intent (`values`, as JSON where they are not text) unless `entry`
        is an open one carried out again; the call, which returns (result, detail) or
        (result, detail, what Flickr made: {column: value}); the result settled with it.
        Returns the result."""
        if entry is None:
            if self.action is not None:
                values = {"action": self.action, **values}
            entry = table.record_intent(self.cat, self.kind, photo_id, self.run_id,
                                        {k: v if isinstance(v, str) else dumps(v) for k, v in values.items()})
        crash_point(f"{self.kind}-intent")
        result, detail, *made = await call()
        crash_point(f"{self.kind}-call")
        self.settle(entry, photo_id, result, detail, made[0] if made else None)
        return result

    def settled(self, *results: str) -> int:
        return table.settled_count(self.cat, self.kind, results)
