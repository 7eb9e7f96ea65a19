"""`exodus backup` keeps the gallery built in DEST current: after the sidecars and views, the
pages of what changed are made again, with the options the gallery was built with (kept in
DEST/site/gallery.json, mark.py). A backup of a DEST without a gallery imports none of it (Jinja2,
Pillow)."""

from __future__ import annotations

from pathlib import Path

from ..progress import log
from .mark import built_with


def refresh(cat, dest: Path, progress) -> list[str]:
    """DEST's gallery, if it has one, brought up to date from `cat` (the backup's, still open).
    The backup's data is safe already, so nothing here fails it: a problem is one warning
    line, and a note for its summary."""
    options = built_with(dest)
    if options is None:
        return []
    try:
        from . import model, run

        run.build(model.build(cat, lambda row: True), dest, dest, options["jobs"], progress)
    except Exception as error:  # noqa: BLE001 (whatever it is, the backup stands)
        log.warning("the gallery was not brought up to date", exc_info=True)
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        note = (f"the gallery in {dest} was not brought up to date ({reason}); the backup itself is complete: "
                f"'exodus gallery {dest}' builds it again")
        progress.note("Warning: " + note)
        return [note]
    return []
