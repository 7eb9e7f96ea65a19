"""What `exodus audit` reads of every item, and what it keeps: the faces found per file
(face_cache, by sha256 and detector: a rerun looks only at new files) and each item's risk
(audit, replaced whole by each run), read back by the selections (`audit_ids`)."""

from __future__ import annotations

import json
from typing import Iterable, Iterator

from .items import has_file
from .schema import PHOTOS_BY_ID
from .transitions import dumps, now_iso

# An item as the audit weighs it: its row's own columns, whether its file is there, and
# what the deep pass found beside it (people and notes counted, the non-machine tags).
_ITEM = ("p.id, p.media, p.title, p.description, p.is_public, p.is_friend, p.is_family, p.license, "
         "p.latitude, p.longitude, p.geo_perms, p.has_people, p.date_upload, p.path, p.sha256, "
         f"({has_file('p')}) AS saved, "
         "(SELECT count(*) FROM people pe WHERE pe.photo_id = p.id) AS people, "
         "(SELECT count(*) FROM notes n WHERE n.photo_id = p.id) AS notes, "
         "(SELECT group_concat(t.tag, char(31)) FROM tags t WHERE t.photo_id = p.id "
         "AND NOT coalesce(t.machine, 0)) AS tags")
TAG_SEPARATOR = "\x1f"
_CHUNK = 500  # sha256s asked at once (SQLite's bound on variables is far above)


class Audits:
    """Mixed into Catalog: needs self.tx(), self.rows(), self.db."""

    def audit_items(self, batch: int = 1000) -> Iterator[dict]:
        """Every item, in id order, a batch at a time (memory stays flat)."""
        last = ""
        while True:
            rows = self.rows(f"SELECT {_ITEM} FROM photos AS p INDEXED BY {PHOTOS_BY_ID} WHERE p.id > ? "
                             "ORDER BY p.id LIMIT ?", [last, batch])
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def known_faces(self, detector: str, sha256s: Iterable[str]) -> dict[str, tuple]:
        """sha256 -> (width, height, boxes) that `detector` found before; (None, None, None)
        for a file it could not read."""
        wanted, found = list(sha256s), {}
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start:start + _CHUNK]
            for sha, width, height, boxes in self.db.execute(
                    f"SELECT sha256, width, height, boxes FROM face_cache WHERE detector = ? AND sha256 IN "
                    f"({', '.join('?' * len(part))})", [detector, *part]):
                entry = _cached(width, height, boxes)
                if entry is not None:  # else not trusted: the file is looked at again
                    found[sha] = entry
        return found

    def remember_faces(self, detector: str, found: Iterable[tuple]) -> None:
        """(sha256, width, height, boxes) the detector gave (None, None, None: unreadable)."""
        with self.tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO face_cache (sha256, detector, width, height, boxes) "
                             "VALUES (?, ?, ?, ?, ?)",
                             [(sha, detector, width, height, None if boxes is None else dumps(boxes))
                              for sha, width, height, boxes in found])

    def replace_audit(self, rows: Iterable[tuple]) -> None:
        """(photo_id, risk, reasons, faces) of every item, replacing the last audit's whole:
        one transaction, so a run cut short leaves the one before it."""
        when = now_iso()
        with self.tx() as conn:
            conn.execute("DELETE FROM audit")
            conn.executemany("INSERT INTO audit (photo_id, risk, reasons, faces, audited_at) VALUES (?, ?, ?, ?, ?)",
                             [(pid, risk, dumps(reasons), None if faces is None else dumps(faces), when)
                              for pid, risk, reasons, faces in rows])

    def audit_ids(self, levels: Iterable[str]) -> set[str]:
        """The ids the last audit put at these risk levels (exposed, high, medium, low)."""
        levels = list(levels)
        if not levels:
            return set()
        return {pid for (pid,) in self.db.execute(
            f"SELECT photo_id FROM audit WHERE risk IN ({', '.join('?' * len(levels))})", levels)}


def _cached(width, height, boxes) -> tuple | None:
    """A face_cache row as the audit may use it: (None, None, None) for a file the detector
    could not read, or whole numbers and a list of [x, y, w, h] boxes of them; None for
    anything else (a catalog is hostile until checked, and a bad row is only a cache miss)."""
    if width is None and height is None and boxes is None:
        return None, None, None
    try:
        found = json.loads(boxes)
    except (TypeError, ValueError):
        return None
    whole = (type(width) is int and type(height) is int and width > 0 and height > 0 and isinstance(found, list)
             and all(isinstance(b, list) and len(b) == 4 and all(type(n) is int and n >= 0 for n in b) for b in found))
    return (width, height, found) if whole else None
