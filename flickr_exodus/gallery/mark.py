"""OUT/site/gallery.json: what built a gallery folder, and how. A later subset may go where a
subset was; `exodus backup` rebuilds DEST's own gallery with the options it was built with."""

from __future__ import annotations

import json
from pathlib import Path

MARK = "site/gallery.json"


def record(subset: bool, jobs: int | None) -> bytes:
    return json.dumps({"made_by": "exodus gallery", "subset": subset, "options": {"jobs": jobs}}).encode()


def read(out: Path) -> dict | None:
    try:
        mark = json.loads((out / MARK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) and mark.get("made_by") == "exodus gallery" else None


def built_with(dest: Path) -> dict | None:
    """The options DEST's own gallery was built with ({"jobs": N or None}); None when DEST has
    no gallery of its own (a subset is never built in DEST)."""
    mark = read(dest)
    if mark is None or mark.get("subset") is not False:
        return None
    options = mark.get("options") if isinstance(mark.get("options"), dict) else {}
    jobs = options.get("jobs")
    return {"jobs": jobs if isinstance(jobs, int) and not isinstance(jobs, bool) and 1 <= jobs <= 64 else None}
