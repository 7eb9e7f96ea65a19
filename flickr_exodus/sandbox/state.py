"""The sandbox's account: users, items, albums, collections, and the changes tests make.

Plain data, no HTTP. `render.py` turns it into Flickr's shapes; `media.py` into bytes.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from . import media, portraits
from .portraits import Portrait

# Sizes Flickr derives from an original (reference §5.1): suffix -> (extras name, getSizes
# label, size-page code, longest edge; 0 = the original). "All sizes below the H (1600)
# size use one shared secret. All sizes above and including H each use a unique secret."
SIZES = [
    ("s", "sq", "Square", "sq", 75),
    ("q", "q", "Large Square", "q", 150),
    ("t", "t", "Thumbnail", "t", 100),
    ("m", "s", "Small", "s", 240),
    ("n", "n", "Small 320", "n", 320),
    ("w", "w", "Small 400", "w", 400),
    ("", "m", "Medium", "m", 500),
    ("z", "z", "Medium 640", "z", 640),
    ("c", "c", "Medium 800", "c", 800),
    ("b", "l", "Large", "l", 1024),
    ("h", "h", "Large 1600", "h", 1600),
    ("k", "k", "Large 2048", "k", 2048),
    ("3k", "3k", "X-Large 3K", "3k", 3072),
    ("4k", "4k", "X-Large 4K", "4k", 4096),
    ("5k", "5k", "X-Large 5K", "5k", 5120),
    ("6k", "6k", "X-Large 6K", "6k", 6144),
    ("o", "o", "Original", "o", 0),
]
UNIQUE_SECRET_SUFFIXES = ("h", "k", "3k", "4k", "5k", "6k")
SQUARE_SUFFIXES = ("s", "q")
# Free accounts get nothing above 1024 px from the API (reference §5.1, [NEWS-2025]).
FREE_ACCOUNT_MAX_EDGE = 1024
# Video renditions served by /play/{label}/ (labels from the 2023-24 recordings
# flickr.photos.getSizes.video.2.xml and .3.xml): label -> frame height.
VIDEO_RENDITIONS = {"360p": 360, "700": 480, "iphone_wifi": 360}
CC_LICENSES = frozenset({1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16})


def now() -> int:
    return int(time.time())


@dataclass
class User:
    nsid: str
    numeric_id: str  # the number Flickr puts in tag/comment/collection ids
    username: str
    realname: str
    path_alias: str | None
    iconserver: str
    iconfarm: int
    location: str = ""
    description: str = ""
    deleted: bool = False
    ispro: int = 0


@dataclass
class Tag:
    raw: str
    clean: str
    author: str  # nsid
    machine: bool
    tag_id: str


@dataclass
class Note:
    id: str
    author: str
    x: int
    y: int
    w: int
    h: int
    text: str


@dataclass
class PersonTag:
    nsid: str
    added_by: str
    box: tuple[int, int, int, int] | None  # x, y, w, h


@dataclass
class Comment:
    id: str
    author: str
    date: int
    text: str


@dataclass
class Place:
    locality: tuple[str, str, str]  # name, place_id, woeid
    county: tuple[str, str, str]
    region: tuple[str, str, str]
    country: tuple[str, str, str]
    neighbourhood: tuple[str, str, str]


@dataclass
class Geo:
    latitude: float
    longitude: float
    accuracy: int
    context: int
    place: Place
    is_public: int = 1
    is_contact: int = 0
    is_friend: int = 0
    is_family: int = 0


@dataclass
class Item:
    """A photo or a video, as Flickr keeps it."""

    id: str
    owner: str
    media: str  # "photo" | "video"
    secret: str
    originalsecret: str
    size_secrets: dict[str, str]  # suffix -> secret, for sizes >= 1600 px
    server: str
    farm: int
    title: str
    description: str
    date_upload: int
    date_taken: str
    taken_granularity: int
    taken_unknown: bool
    last_update: int
    license: int
    ispublic: int
    isfriend: int
    isfamily: int
    safety_level: int  # 0 safe, 1 moderate, 2 restricted
    content_type: int
    original_format: str  # of the still image: "jpg" | "png" (videos: the poster, "jpg")
    width: int
    height: int
    size: int  # bytes of the original (a video's: the video file)
    camera: tuple[str, str]
    views: int = 0
    count_faves: int = 0
    rotation: int = 0
    perm_comment: int = 3
    perm_addmeta: int = 2
    geo: Geo | None = None
    tags: list[Tag] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    people: list[PersonTag] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    pools: list[str] = field(default_factory=list)  # group ids
    # Videos only.
    video_format: str = ""
    duration: int = 0
    version: int = 0  # bumped on replace: new bytes
    deleted: bool = False
    date_faved: int = 0  # only for other users' photos the owner faved
    portrait: Portrait | None = None  # a real face composed in (SandboxConfig.faces)

    @property
    def is_video(self) -> bool:
        return self.media == "video"

    @property
    def taken_exif(self) -> str:
        return self.date_taken.replace("-", ":", 2)

    def content_seed(self) -> int:
        return (int(self.id) * 1_000_003 + self.version * 7919) % (1 << 31)

    def original_blob(self, seed: int) -> media.Blob:
        """The original file: the video itself for videos, else the still image."""
        if self.is_video:
            return media.video(self.video_format, self.size, self.duration, self.width,
                               self.height, seed, self.content_seed())
        return self.still_blob(seed, "o")

    def still_blob(self, seed: int, suffix: str) -> media.Blob:
        """A still image at one of the SIZES (a video's stills are its poster frame)."""
        width, height = self.dims(suffix)
        base = self.content_seed() + hash_suffix(suffix)
        if self.portrait is not None and not self.is_video:
            frame = portraits.frame(self.width, self.height, self.portrait, width, height)
            if suffix == "o":
                return media.wrap_jpeg(frame, self.size, self.exif(), seed, base)
            return media.wrap_jpeg(frame, None, None, seed, base)
        if suffix == "o" and not self.is_video:
            if self.original_format == "png":
                return media.png(width, height, self.size, seed, base)
            return media.jpeg(width, height, self.size, self.exif(), seed, base)
        return media.jpeg(width, height, None, self.exif() if suffix == "o" else None, seed, base)

    def exif(self) -> media.Exif:
        return media.Exif(self.camera[0], self.camera[1], self.taken_exif, self.width, self.height)

    def dims(self, suffix: str) -> tuple[int, int]:
        if suffix == "o":
            return self.width, self.height
        edge = next(e for s, _, _, _, e in SIZES if s == suffix)
        if suffix in SQUARE_SUFFIXES:
            return edge, edge
        scale = edge / max(self.width, self.height)
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))

    def available_suffixes(self, free_account: bool) -> list[str]:
        """Sizes that exist (Flickr never upscales) and that the account may hand out."""
        longest = max(self.width, self.height)
        out = []
        for suffix, _, _, _, edge in SIZES:
            if edge and suffix not in SQUARE_SUFFIXES and edge >= longest:
                continue
            if free_account and not self.is_creative_commons:
                if (edge or longest) > FREE_ACCOUNT_MAX_EDGE:
                    continue
            out.append(suffix)
        return out

    def secret_for(self, suffix: str) -> str:
        if suffix == "o":
            return self.originalsecret
        return self.size_secrets.get(suffix, self.secret)

    @property
    def is_creative_commons(self) -> bool:
        return self.license in CC_LICENSES

    def touch(self) -> None:
        self.last_update = max(now(), self.last_update + 1)


def hash_suffix(suffix: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(suffix)) * 104729


@dataclass
class Album:
    id: str
    title: str
    description: str
    photo_ids: list[str]
    primary: str
    date_create: int
    date_update: int
    count_views: int = 0
    comments: list[Comment] = field(default_factory=list)


@dataclass
class Collection:
    id: str
    title: str
    description: str
    album_ids: list[str] = field(default_factory=list)
    children: list["Collection"] = field(default_factory=list)
    date_create: int = 0


@dataclass
class Group:
    nsid: str
    name: str
    iconserver: str
    iconfarm: int
    members: int
    pool_count: int


@dataclass
class Gallery:
    id: str
    title: str
    description: str
    photo_ids: list[str]
    date_create: int
    date_update: int


@dataclass
class Contact:
    nsid: str
    friend: int
    family: int


@dataclass
class Account:
    """One Flickr member and everything the sandbox knows about their world."""

    seed: int
    owner: User
    users: dict[str, User]  # every user by nsid, owner included
    items: dict[str, Item]  # the owner's photos and videos, by id
    albums: dict[str, Album]  # in the owner's order
    collections: list[Collection]
    groups: dict[str, Group]
    foreign: dict[str, Item] = field(default_factory=dict)  # other users' photos (faves)
    favorites: list[str] = field(default_factory=list)
    galleries: list[Gallery] = field(default_factory=list)
    contacts: list["Contact"] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    _sha_cache: dict[tuple[str, int], str] = field(default_factory=dict)

    # --- look-ups ------------------------------------------------------------------

    def live_items(self) -> list[Item]:
        return [i for i in self.items.values() if not i.deleted]

    def item(self, photo_id: str) -> Item | None:
        """An item of anyone (the owner's, or a faved photo), deleted ones excluded."""
        found = self.items.get(photo_id) or self.foreign.get(photo_id)
        return None if found is None or found.deleted else found

    def albums_of(self, photo_id: str) -> list[Album]:
        return [a for a in self.albums.values() if photo_id in a.photo_ids]

    def walk_collections(self):
        stack = list(self.collections)
        while stack:
            col = stack.pop(0)
            yield col
            stack[:0] = col.children

    def sha256(self, item: Item) -> str:
        key = (item.id, item.version)
        if key not in self._sha_cache:
            self._sha_cache[key] = item.original_blob(self.seed).sha256()
        return self._sha_cache[key]

    def manifest(self) -> dict:
        """The owner's items as the design's manifest contract spells them."""
        return {"items": self.manifest_items(self.items.values())}

    def manifest_items(self, items) -> list[dict]:
        return [
            {
                "id": i.id,
                "media": i.media,
                "original_format": i.video_format if i.is_video else i.original_format,
                "size": i.size,
                "sha256": self.sha256(i),
                "deleted": i.deleted,
                "count_comments": len(i.comments),
                "albums": [a.id for a in self.albums_of(i.id)],
                "title": i.title,
                "last_update": i.last_update,
                "version": i.version,
                "has_face": i.portrait is not None,
                "face_box": list(i.portrait.box) if i.portrait else None,
            }
            for i in items
        ]

    def record(self, item: Item) -> dict:
        """Everything the sandbox holds about one item, for tests to compare a backup
        with field by field (the /__sandbox__/records control endpoint)."""
        geo = item.geo
        collections = [c.id for c in self.walk_collections()
                       if any(item.id in self.albums[a].photo_ids for a in c.album_ids if a in self.albums)]
        return {
            "id": item.id, "media": item.media, "deleted": item.deleted, "title": item.title,
            "description": item.description, "date_taken": item.date_taken,
            "taken_granularity": item.taken_granularity, "taken_unknown": item.taken_unknown,
            "date_upload": item.date_upload, "last_update": item.last_update,
            "license": item.license, "is_public": item.ispublic, "is_friend": item.isfriend,
            "is_family": item.isfamily, "safety_level": item.safety_level,
            "content_type": item.content_type, "rotation": item.rotation,
            "perm_comment": item.perm_comment, "perm_addmeta": item.perm_addmeta,
            "tags": [{"raw": t.raw, "clean": t.clean, "machine": t.machine, "id": t.tag_id, "author": t.author}
                     for t in item.tags],
            "geo": None if geo is None else {"latitude": geo.latitude, "longitude": geo.longitude,
                                             "accuracy": geo.accuracy, "is_public": geo.is_public,
                                             "is_contact": geo.is_contact, "is_friend": geo.is_friend,
                                             "is_family": geo.is_family},
            "notes": [{"id": n.id, "author": n.author, "x": n.x, "y": n.y, "w": n.w, "h": n.h,
                       "text": n.text} for n in item.notes],
            "people": [p.nsid for p in item.people],
            "comments": [{"id": c.id, "author": c.author, "date": c.date, "text": c.text}
                         for c in item.comments],
            "albums": [a.id for a in self.albums_of(item.id)],
            "collections": collections,
            "pools": list(item.pools),
            "original_secret": item.originalsecret, "version": item.version,
        }

    def summary(self) -> dict:
        live = self.live_items()
        return {
            "photos": sum(1 for i in live if not i.is_video),
            "videos": sum(1 for i in live if i.is_video),
            "albums": len(self.albums),
            "collections": sum(1 for _ in self.walk_collections()),
            "photos_with_comments": sum(1 for i in live if i.comments),
            "albums_with_comments": sum(1 for a in self.albums.values() if a.comments),
            "photos_with_people": sum(1 for i in live if i.people),
            "galleries": len(self.galleries),
            "groups": len(self.groups),
        }

    # --- changes (the control endpoints and write methods call these) ---------------

    def new_secret(self) -> str:
        return "%010x" % self.rng.getrandbits(40)

    def replace(self, item: Item) -> None:
        """A new file under the same id: new secrets, new bytes, a later lastupdate
        (reference §5.1, [AW-replace])."""
        item.secret = self.new_secret()
        item.originalsecret = self.new_secret()
        item.size_secrets = {s: self.new_secret() for s in item.size_secrets}
        item.version += 1
        item.touch()

    def delete(self, item: Item) -> None:
        """Gone from Flickr: out of every album (a deleted photo leaves its albums)."""
        item.deleted = True
        for album in self.albums_of(item.id):
            album.photo_ids.remove(item.id)
            album.date_update = now()
            if album.primary == item.id:
                album.primary = album.photo_ids[0] if album.photo_ids else ""

    def add_comment(self, target: Item | Album, text: str, author: str) -> Comment:
        numeric = self.users[author].numeric_id
        ident = target.id
        comment = Comment(
            id=f"{numeric}-{ident}-72157{self.rng.randrange(10**11, 10**12)}",
            author=author, date=now(), text=text,
        )
        target.comments.append(comment)
        if isinstance(target, Item):
            # "lastupdate ... any change (metadata, comments, replacement)" (reference §4.1)
            target.touch()
        return comment
