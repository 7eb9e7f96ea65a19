"""Reading Flickr's account export (reference §9) where it lies: zip files or folders
they were unpacked into, in any order. Nothing is unpacked to disk; media entries are
streamed. The metadata JSON is the authority; a media file belongs to the item whose id
is the number right before `_o` in its name (titles may be digits too).

An entry is opened only if it is plausible: not a zip bomb (expanding more than MAX_RATIO
times, beyond RATIO_FLOOR bytes) and, when it is to be written, small enough for the free
space at DEST. zipfile never expands an entry past its declared size, so the declared
size is what these checks bound."""

from __future__ import annotations

import calendar
import errno
import json
import os
import re
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from ..flickr import ids, parse

MEDIA_NAME = re.compile(r"(?:^|_)([0-9]+)_o(?:\.([A-Za-z0-9]+))?\Z")
VIDEO_EXTENSIONS = ids.VIDEO_FORMATS
# Flickr's license names (flickr.photos.licenses.getInfo) -> ids.
LICENSE_IDS = {
    "all rights reserved": 0, "attribution-noncommercial-sharealike license": 1,
    "attribution-noncommercial license": 2, "attribution-noncommercial-noderivs license": 3,
    "attribution license": 4, "attribution-sharealike license": 5, "attribution-noderivs license": 6,
    "no known copyright restrictions": 7, "united states government work": 8,
    "public domain dedication (cc0)": 9, "public domain mark": 10,
    "attribution 4.0 international (cc by 4.0)": 11, "attribution-sharealike 4.0 international (cc by-sa 4.0)": 12,
    "attribution-noderivs 4.0 international (cc by-nd 4.0)": 13,
    "attribution-noncommercial 4.0 international (cc by-nc 4.0)": 14,
    "attribution-noncommercial-sharealike 4.0 international (cc by-nc-sa 4.0)": 15,
    "attribution-noncommercial-noderivs 4.0 international (cc by-nc-nd 4.0)": 16,
}
PRIVACY = {"public": (1, 0, 0), "private": (0, 0, 0), "friends": (0, 1, 0), "family": (0, 0, 1),
           "friends & family": (0, 1, 1), "friends and family": (0, 1, 1)}
SAFETY = {"safe": 0, "moderate": 1, "restricted": 2}
# Photos and videos barely compress, JSON some 5 to 20 times: an entry that expands more
# than MAX_RATIO times, to more than RATIO_FLOOR bytes, is a zip bomb.
MAX_RATIO = 100
RATIO_FLOOR = 16 << 20
ROOM_MARGIN = 1 << 20  # left free at DEST after an entry is written (the catalog's next pages)
JSON_MAX_BYTES = 256 << 20  # one metadata file, parsed in memory


class ExportProblem(Exception):
    """A path that is not a readable export part: one line for the user."""


class EntryRefused(zipfile.BadZipFile):
    """One entry that is not expanded (a zip bomb, no room for it): reported for that entry
    while the rest of the export goes on."""


class Container:
    """One zip file or one folder of an export."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = None
        if path.is_file():
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as error:
                raise ExportProblem(f"{path} is not a readable zip file ({error})") from None
        elif not path.is_dir():
            raise ExportProblem(f"{path} is neither a zip file nor a folder")

    def entries(self) -> Iterator[tuple[str, int]]:
        """(name, size) of every file inside."""
        if self.zip is not None:
            for info in self.zip.infolist():
                if not info.is_dir():
                    yield info.filename, info.file_size
            return
        for folder, _, files in os.walk(self.path):
            for name in sorted(files):
                full = Path(folder) / name
                yield full.relative_to(self.path).as_posix(), full.stat().st_size

    def open(self, name: str, room: Path | None = None) -> IO[bytes]:
        """An entry to read; `room`: where its bytes are to be written, which must have
        space for them. EntryRefused when it must not be expanded."""
        size = self.size(name)
        if self.zip is not None:
            packed = self.zip.getinfo(name).compress_size
            if size > RATIO_FLOOR and size > MAX_RATIO * max(1, packed):
                raise EntryRefused(f"refused as a zip bomb: {size} bytes from {packed} compressed "
                                   f"(more than {MAX_RATIO} times)")
        if room is not None:
            # No room is a full disk, not a bad entry: the run stops with one line, and the
            # rerun, once space is freed, goes on from here.
            free = shutil.disk_usage(room).free
            if size + ROOM_MARGIN > free:
                raise OSError(errno.ENOSPC, f"{name} needs {size} bytes and {room} has {free} free "
                                            f"({ROOM_MARGIN >> 20} MiB kept spare)")
        if self.zip is not None:
            return self.zip.open(name)
        return open(self.path / name, "rb")

    def size(self, name: str) -> int:
        if self.zip is not None:
            return self.zip.getinfo(name).file_size
        return (self.path / name).stat().st_size

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def open_all(paths: list[Path]) -> list[Container]:
    containers = []
    try:
        for path in paths:
            containers.append(Container(path))
    except ExportProblem:
        for container in containers:
            container.close()
        raise
    return containers


def basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def media_id(name: str) -> tuple[str, str] | None:
    """('50012345678', 'jpg') from 'anything_50012345678_o.jpg'; None for other files (and
    for a number too long to be one of Flickr's ids)."""
    match = MEDIA_NAME.search(basename(name))
    if not match or not ids.is_photo_id(match.group(1)):
        return None
    return match.group(1), (match.group(2) or "").lower()


def json_documents(containers: list[Container], pattern: str) -> Iterator[tuple[str, dict]]:
    """Every JSON file whose name matches, parsed one at a time."""
    wanted = re.compile(pattern)
    for container in containers:
        for name, _ in container.entries():
            if wanted.fullmatch(basename(name)):
                if container.size(name) > JSON_MAX_BYTES:
                    raise ExportProblem(f"{container.path}: {name} holds {container.size(name)} bytes, more "
                                        f"than a metadata file may ({JSON_MAX_BYTES} bytes); not read")
                try:
                    handle = container.open(name)
                except EntryRefused as error:
                    raise ExportProblem(f"{container.path}: {name} {error}") from None
                with handle:
                    try:
                        yield name, json.load(handle)
                    except ValueError as error:
                        raise ExportProblem(f"{container.path}: {name} is not valid JSON ({error})") from None


def media_entries(containers: list[Container]) -> Iterator[tuple[Container, str, int, str, str]]:
    """(container, name, size, item id, extension) of every media file."""
    for container in containers:
        for name, size in container.entries():
            found = media_id(name)
            if found and not basename(name).endswith(".json"):
                yield container, name, size, found[0], found[1]


def epoch(text: str) -> int | None:
    try:
        return calendar.timegm(time.strptime(text[:19], "%Y-%m-%d %H:%M:%S"))
    except (TypeError, ValueError):
        return None


@dataclass
class ExportedItem:
    row: dict            # catalog columns
    tags: list[str]
    comments: list[dict]
    notes: list[dict]
    people: list[dict]
    albums: list[str]
    raw: dict
    problems: list[str]  # fields left out for their shape, one line each


def exported_item(doc: dict) -> ExportedItem:
    """One photo_{id}.json as catalog columns and related rows; Malformed when it is not an
    object or its id is not one of Flickr's."""
    if not isinstance(doc, dict):
        raise ids.Malformed(f"a {type(doc).__name__} where an object belongs")
    item_id = ids.checked(parse.text(doc.get("id")), ids.is_photo_id, "the item id")
    problems = []
    original = parse.text(doc.get("original"))
    ext = original.rsplit(".", 1)[-1].lower() if "." in original.rsplit("/", 1)[-1] else ""
    if ext and not (ids.photo_format(ext) or ids.video_format(ext)):
        problems.append(ids.format_refused(ext))
        ext = ""
    secret = re.search(r"/\d+_([0-9a-f]+)_o\.", original)
    geo = doc.get("geo") if isinstance(doc.get("geo"), dict) else None
    privacy = PRIVACY.get(parse.text(doc.get("privacy")).lower())
    license_name = parse.text(doc.get("license")).lower()
    name = parse.text(doc.get("name"))
    row = {
        "id": item_id, "media": "video" if ext in VIDEO_EXTENSIONS else "photo",
        # Untitled items carry a name of one space in real exports (reference §9).
        "title": name if name.strip() else "", "description": parse.text(doc.get("description")),
        "date_taken": parse.text(doc.get("date_taken")) or None,
        "date_upload": epoch(parse.text(doc.get("date_imported"))),
        "license": LICENSE_IDS.get(license_name, 0 if not license_name else None),
        "is_public": privacy[0] if privacy else None, "is_friend": privacy[1] if privacy else None,
        "is_family": privacy[2] if privacy else None,
        "latitude": parse.num(geo.get("latitude")) / 1e6 if geo and parse.num(geo.get("latitude")) is not None else None,
        "longitude": parse.num(geo.get("longitude")) / 1e6 if geo and parse.num(geo.get("longitude")) is not None
        else None,
        "accuracy": parse.num(geo.get("accuracy")) if geo else None,
        "original_format": ext or None, "original_secret": secret.group(1) if secret else None,
        "views": parse.num(doc.get("count_views")), "count_comments": parse.num(doc.get("count_comments")),
        "safety_level": SAFETY.get(parse.text(doc.get("safety")).lower()), "rotation": parse.num(doc.get("rotation")),
        "photopage": parse.text(doc.get("photopage")) or None,
    }
    comments = [{"id": parse.text(c.get("id")), "date_create": epoch(parse.text(c.get("date"))),
                 "author": parse.text(c.get("user")), "text": parse.text(c.get("comment")), "raw": c}
                for c in parse.as_list(doc.get("comments")) if isinstance(c, dict) and c.get("id")]
    notes = [{"id": parse.text(n.get("id")), "text": parse.text(n.get("text")), "x": parse.num(n.get("x")),
              "y": parse.num(n.get("y")), "w": parse.num(n.get("w")), "h": parse.num(n.get("h")), "raw": n}
             for n in parse.as_list(doc.get("notes")) if isinstance(n, dict) and n.get("id")]
    people = [{"nsid": parse.text(p.get("nsid")) or parse.text(p.get("person")),
               "username": parse.text(p.get("person")), "raw": p}
              for p in parse.as_list(doc.get("people")) if isinstance(p, dict)]
    tags = [parse.text(t.get("tag")) for t in parse.as_list(doc.get("tags")) if isinstance(t, dict) and t.get("tag")]
    albums = [parse.text(a.get("id")) for a in parse.as_list(doc.get("albums")) if isinstance(a, dict)]
    for album_id in albums:
        if not ids.is_album_id(album_id):
            problems.append(f"album id {ids.shown(album_id)} is not one of Flickr's; left out")
    albums = [a for a in albums if ids.is_album_id(a)]
    return ExportedItem(row, tags, comments, notes, people, albums, doc, problems)
