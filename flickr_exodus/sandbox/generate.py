"""A deterministic account: the same seed and counts give the same account, byte for byte."""

from __future__ import annotations

import random
import re
import time
import unicodedata

from . import media, portraits
from .config import SandboxConfig
from .state import (
    Account, Album, Collection, Comment, Contact, Gallery, Geo, Group, Item, Note, PersonTag, Place,
    Tag, User, UNIQUE_SECRET_SUFFIXES, now,
)

# Titles a backup tool must survive (design.md "Habits"): traversal, separators, reserved
# device names, 300 characters, emoji, right-to-left text, control characters.
HOSTILE_TITLES = [
    "../../x",
    "a/b",
    "CON",
    "nul.txt",
    "x" * 300,
    "🌅 Sunset over the bay 🌊",
    "שלום עולם",
    "مرحبا بالعالم",
    "tab\there\x07bell\x1b[31mred\x00nul",
    "  leading and trailing  ",
    "..",
    "what?*<>|\":\\",
    "1234567890",
]
PLAIN_TITLES = ["IMG_0001", "DSC_0042", "Holiday", "Beach day", "Grandma's garden", "Untitled",
                "Street life", "Mountains at dawn", "Café", "東京タワー", "Москва ночью", ""]
CAMERAS = [("Canon", "Canon EOS 5D Mark III"), ("NIKON CORPORATION", "NIKON D90"),
           ("Apple", "iPhone 13 Pro"), ("SONY", "NEX-6"), ("FUJIFILM", "X-T3")]
DIMENSIONS = [(4032, 3024), (6000, 4000), (3024, 4032), (2048, 1536), (1600, 1200),
              (800, 600), (5184, 3456), (3000, 3000), (1280, 720)]
VIDEO_DIMENSIONS = [(1920, 1080), (1280, 720), (640, 360), (720, 1280)]
TAGS = ["sunset", "Beach", "New York", "family", "bw", "café", "東京", "Москва", "2019",
        "dog", "Street Photography", "ελλάδα"]
MACHINE_TAGS = ["camera:make=canon", "geo:lat=51.5", "dc:creator=me", "upcoming:event=123",
                "vision:night=077"]
PLACES = [
    Place(("Zagreb", "00j4IylZV7scWik", "851128"), ("Zagreb", "306dHrhQV7o6jm.ZUQ", "15022257"),
          ("Grad Zagreb", "Js1DU.pTUrpBCIKhVw", "20070170"), ("Croatia", "FunRCI5TUb6a6soTyw", "23424843"),
          ("Donji Grad", "9ZvYa9ZWU7yu8A", "26722345")),
    Place(("Abbey Dore", "RZ9p3HlQUrt5wg", "10178"), ("Herefordshire", "7O4FecxQULxfINbBfQ", "12602187"),
          ("England", "2eIY2QFTVr_DwWZNLg", "24554868"), ("United Kingdom", "cnffEpdTUb5v258BBA", "23424975"),
          ("Ewyas Harold", "pA1qGmJQUL9XnQ", "19453")),
    Place(("Kyoto", "S6tOT8hTUb4E6mU", "15015372"), ("Kyoto", "rY4tGSRTUb5NEC0", "2345868"),
          ("Kyoto Prefecture", "E4JF5S9TUb6UPkY", "2345867"), ("Japan", "T5TtTslTUb6jBj0", "23424856"),
          ("Gion", "ZbQo6dpTVr5sX4Y", "28379178")),
]
LICENSE_IDS = list(range(17))
GROUP_NAMES = ["Beautiful Scenery & Landscapes", "Mountains", "Street Photography", "Black and White"]
COMMENT_TEXTS = ["Lovely!", "Great light.", "Where is this?",
                 'See <a href="https://www.flickr.com/photos/example/">my set</a> too',
                 "Ça alors 😍", "This photo is used in a <b>gallery</b>."]
# Generated dates count back from a fixed instant, never the clock: the same seed must give
# the same account (and EXIF, and sha256) on any day. Changes made later use the clock.
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z
PRIVACY = [(1, 0, 0)] * 12 + [(0, 1, 0)] * 2 + [(0, 0, 1)] * 2 + [(0, 1, 1)] + [(0, 0, 0)] * 3


def clean_tag(raw: str, machine: bool) -> str:
    """Flickr's normalized tag: lower case, no spaces or punctuation (machine tags keep
    their namespace:predicate=value shape)."""
    if machine:
        return raw.lower()
    text = unicodedata.normalize("NFC", raw).lower()
    return re.sub(r"[^\w]", "", text)


class _Ids:
    """Flickr-shaped ids, increasing like Flickr's: 11-digit photos, 17-digit albums."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.photo = 50_000_000_000 + rng.randrange(10**9)
        self.set = 72_157_600_000_000_000 + rng.randrange(10**10)

    def next_photo(self) -> str:
        self.photo += self.rng.randrange(1, 50_000)
        return str(self.photo)

    def next_set(self) -> str:
        self.set += self.rng.randrange(1, 10**6)
        return str(self.set)


def _user(rng: random.Random, name: str, real: str, alias: str | None) -> User:
    numeric = str(rng.randrange(10**7, 10**9))
    return User(
        nsid=f"{rng.randrange(10**7, 10**11)}@N0{rng.randrange(1, 9)}",
        numeric_id=numeric, username=name, realname=real, path_alias=alias,
        iconserver=str(rng.randrange(1, 65535)), iconfarm=rng.randrange(1, 67),
    )


def generate(config: SandboxConfig) -> Account:
    rng = random.Random(f"account-{config.seed}")
    ids = _Ids(rng)
    owner = _user(rng, "sandbox-owner", "Sandra Box", "sandboxowner")
    owner.location, owner.description, owner.ispro = "Zagreb, Croatia", "I take pictures.", 1
    others = [_user(rng, n, r, a) for n, r, a in [
        ("pellethepoet", "", "pellethepoet"), ("Ana K.", "Ana Kovač", None),
        ("小川 Ogawasan", "小川 Ogawasan", "ogawasan"), ("gone-user", "Gone User", None)]]
    others[-1].deleted = True  # a commenter who has since left Flickr
    users = {u.nsid: u for u in [owner, *others]}
    groups = {}
    for name in GROUP_NAMES:
        nsid = f"{rng.randrange(10**7, 10**9)}@N{rng.randrange(20, 25)}"
        groups[nsid] = Group(nsid, name, str(rng.randrange(1, 65535)), rng.randrange(1, 67),
                             rng.randrange(10, 50_000), rng.randrange(100, 700_000))

    account = Account(seed=config.seed, owner=owner, users=users, items={}, albums={},
                      collections=[], groups=groups, rng=random.Random(f"mutations-{config.seed}"))

    start = 1_150_000_000  # 2006
    end = EPOCH - 86_400
    uploads = sorted(rng.randrange(start, end) for _ in range(config.photos + config.videos))
    kinds = ["video"] * config.videos + ["photo"] * config.photos
    rng.shuffle(kinds)
    for n, (kind, uploaded) in enumerate(zip(kinds, uploads)):
        item = _item(rng, ids.next_photo(), owner, kind, uploaded, n, config, others, groups)
        account.items[item.id] = item

    _albums(rng, ids, account, config.albums)
    _collections(rng, ids, account)
    _faves_and_galleries(rng, ids, account, others)
    # Contacts from the others (no draw from rng: earlier seeds keep their accounts).
    account.contacts = [Contact(u.nsid, friend=int(n % 2 == 0), family=int(n == 1))
                        for n, u in enumerate(others) if not u.deleted]
    _portraits(account, config.faces, others)
    return account


def _portraits(account: Account, count: int, others: list[User]) -> None:
    """`count` photos become portraits: a real face composed in, public, CC BY 2.0, one
    person tagged and the tag "portrait". Drawn from their own rng, after everything
    else: every other item, and the whole account when count is 0, stay byte for byte."""
    if not count:
        return
    rng = random.Random(f"faces-{account.seed}")
    photos = [i for i in account.items.values() if not i.is_video]
    for item in rng.sample(photos, count):
        item.portrait = portraits.place(rng, item.width, item.height)
        item.original_format, item.content_type, item.rotation = "jpg", 1, 0
        item.ispublic, item.isfriend, item.isfamily, item.license = 1, 0, 0, 4
        if item.geo:
            item.geo.is_public, item.geo.is_contact, item.geo.is_friend, item.geo.is_family = 1, 0, 0, 0
        item.people = [PersonTag(rng.choice(others[:3]).nsid, account.owner.nsid, None)]
        if "portrait" not in (t.clean for t in item.tags):
            item.tags.append(_tag(rng, item.id, account.owner, "portrait", machine=False, others=others))
        # The real JPEG is what it is: the drawn size stands when the picture fits in it
        # (with room for at least one padding segment, so that a replace changes the bytes).
        frame = portraits.frame(item.width, item.height, item.portrait, item.width, item.height)
        item.size = max(item.size, media.wrap_jpeg(frame, None, item.exif(), 0, 0).size + 4)


def new_item(account: Account, config: SandboxConfig, media_kind: str, title: str | None = None) -> Item:
    """An item uploaded now (the control endpoint 'add')."""
    rng = account.rng
    last = max((int(i) for i in account.items), default=50_000_000_000)
    others = [u for u in account.users.values() if u.nsid != account.owner.nsid]
    item = _item(rng, str(last + rng.randrange(1, 50_000)), account.owner, media_kind, now(),
                 len(account.items), config, others, account.groups)
    if title is not None:
        item.title = title
    account.items[item.id] = item
    return item


def _has_comments(n: int, share: float | None) -> bool:
    """Decided by the item's number alone, so a share leaves every other draw unchanged."""
    if share is None:
        return n % 4 == 0 or n % 7 == 3
    return (n * 7919) % 10_000 < share * 10_000


def _size(rng: random.Random, bounds: tuple[int, int]) -> int:
    return rng.randint(*bounds)


def _item(rng, photo_id, owner, kind, uploaded, n, config, others, groups) -> Item:
    video = kind == "video"
    make, model = rng.choice(CAMERAS)
    width, height = rng.choice(VIDEO_DIMENSIONS if video else DIMENSIONS)
    fmt = "jpg"
    size = _size(rng, config.video_size if video else config.media_size)
    if not video:
        if n % 9 == 4:
            fmt = "png"
        exif = media.Exif(make, model, "2000:01:01 00:00:00", width, height)
        # Shrink the frame until the real JPEG fits the wanted file size.
        while fmt == "jpg" and media.jpeg_overhead(width, height, exif) + 4 > size and width > 64:
            width, height = width // 2, height // 2
        if fmt == "png":
            width, height = min(width, 1200), min(height, 900)
            size = max(size, len(media.png(width, height, None, 0, 0).bytes()) + 12)
        elif media.jpeg_overhead(width, height, exif) + 4 > size:
            size = media.jpeg_overhead(width, height, exif)

    granularity = {6: 4, 7: 6, 8: 8}.get(n % 13, 0)  # exact, month, year, circa (reference §4.2)
    unknown = n % 17 == 5
    taken_ts = uploaded if unknown else uploaded - rng.randrange(0, 3 * 365 * 86_400)
    taken = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(taken_ts))
    if granularity == 4:
        taken = taken[:8] + "01 00:00:00"
    elif granularity in (6, 8):
        taken = taken[:5] + "01-01 00:00:00"

    if n < len(HOSTILE_TITLES):
        title = HOSTILE_TITLES[n]
    else:
        title = rng.choice(PLAIN_TITLES)
    ispublic, isfriend, isfamily = PRIVACY[n % len(PRIVACY)]
    item = Item(
        id=photo_id, owner=owner.nsid, media=kind,
        secret="%010x" % rng.getrandbits(40), originalsecret="%010x" % rng.getrandbits(40),
        size_secrets={s: "%010x" % rng.getrandbits(40) for s in UNIQUE_SECRET_SUFFIXES},
        server="65535", farm=66, title=title,
        description=rng.choice(["", "", "A description with <b>HTML</b>.\n\nAnd a second paragraph.",
                                "Plain words.", "Ünïcödé déscription ✓"]),
        date_upload=uploaded, date_taken=taken, taken_granularity=granularity,
        taken_unknown=unknown, last_update=uploaded + rng.randrange(0, 10**6),
        license=LICENSE_IDS[n % len(LICENSE_IDS)] if n % 3 else 0,
        ispublic=ispublic, isfriend=isfriend, isfamily=isfamily,
        safety_level=2 if n % 23 == 7 else 1 if n % 19 == 3 else 0,
        content_type=1 if n % 11 else 2,
        original_format=fmt, width=width, height=height, size=size, camera=(make, model),
        views=rng.randrange(0, 5000), count_faves=rng.randrange(0, 20),
        rotation=rng.choice([0] * 9 + [90, 180, 270]),
        perm_comment=rng.randrange(0, 4), perm_addmeta=rng.randrange(0, 4),
    )
    if video:
        item.video_format = rng.choice(["mp4", "mov"])
        item.duration = rng.randrange(3, 300)
    if n % 5 in (0, 2):
        lat = round(rng.uniform(-60, 70), 6)
        lon = round(rng.uniform(-170, 170), 6)
        item.geo = Geo(lat, lon, rng.randrange(1, 17), rng.randrange(0, 3), rng.choice(PLACES),
                       is_public=1 if ispublic else 0, is_friend=isfriend, is_family=isfamily)
    tag_count = rng.randrange(0, 5) + (1 if n % 4 == 0 else 0)
    for raw in rng.sample(TAGS, min(tag_count, len(TAGS))):
        item.tags.append(_tag(rng, photo_id, owner, raw, machine=False, others=others))
    if n % 4 == 1:
        item.tags.append(_tag(rng, photo_id, owner, rng.choice(MACHINE_TAGS), machine=True, others=others))
    if _has_comments(n, config.comment_share):
        for _ in range(rng.randrange(1, 4)):
            author = rng.choice(others)
            item.comments.append(Comment(
                id=f"{author.numeric_id}-{photo_id}-72157{rng.randrange(10**11, 10**12)}",
                author=author.nsid, date=uploaded + rng.randrange(60, 10**7),
                text=rng.choice(COMMENT_TEXTS)))
    if n % 6 == 0:
        for k in range(rng.randrange(1, 3)):
            w, h = rng.randrange(10, 200), rng.randrange(10, 200)
            item.notes.append(Note(id=str(72157600000000000 + rng.randrange(10**10)),
                                   author=owner.nsid if k == 0 else rng.choice(others).nsid,
                                   x=rng.randrange(0, 300), y=rng.randrange(0, 300), w=w, h=h,
                                   text=rng.choice(["foo", "Look here", "Ça", "<i>note</i>"])))
    if n % 6 == 3 or n % 6 == 0:
        for person in rng.sample(others[:3], rng.randrange(1, 3)):
            box = (rng.randrange(0, 400), rng.randrange(0, 300), rng.randrange(20, 100),
                   rng.randrange(20, 100)) if rng.random() < 0.5 else None
            item.people.append(PersonTag(person.nsid, owner.nsid, box))
    if n % 3 == 0:
        item.pools = rng.sample(sorted(groups), rng.randrange(1, 3))
    return item


def tag_for(account: Account, photo_id: str, raw: str) -> Tag:
    """A tag the owner adds now (the control endpoint 'edit')."""
    machine = ":" in raw and "=" in raw
    others = [u for u in account.users.values() if u.nsid != account.owner.nsid]
    return _tag(account.rng, photo_id, account.owner, raw, machine, others)


def _tag(rng, photo_id, owner, raw, machine, others) -> Tag:
    author = owner if rng.random() < 0.85 else rng.choice(others[:3])
    return Tag(raw=raw, clean=clean_tag(raw, machine), author=author.nsid, machine=machine,
               tag_id=f"{owner.numeric_id}-{photo_id}-{rng.randrange(1, 10**7)}")


def _albums(rng, ids, account: Account, count: int) -> None:
    items = list(account.items.values())
    if not items:
        return
    for k in range(count):
        # Albums overlap (a photo in several), and some photos end up in none. Most albums
        # are small; the first is large enough to need a second page when the account is.
        pool = items[: max(1, int(len(items) * 0.8))]
        size = min(len(pool), 520 if k == 0 else rng.randrange(1, 250))
        chosen = rng.sample(pool, size)
        if k == 0:
            video = next((i for i in items if i.is_video), None)
            if video and video not in chosen:
                chosen.append(video)  # one album holds a video, for media=videos filters
            geotagged = next((i for i in chosen if i.geo and not i.is_video), None)
            if geotagged:  # a geotagged cover, so primary_photo_extras show geo
                chosen.remove(geotagged)
                chosen.insert(0, geotagged)
        created = min(i.date_upload for i in chosen) + rng.randrange(0, 10**6)
        album = Album(
            id=ids.next_set(),
            title=(HOSTILE_TITLES[k % len(HOSTILE_TITLES)] if k % 4 == 3 else
                   rng.choice(["Holidays", "Family", "Best of", "Trip to Kyoto", "Mes photos"])),
            description=rng.choice(["", "An album.", "<b>Bold</b> album\n\nwith lines"]),
            photo_ids=[i.id for i in chosen], primary=chosen[0].id,
            date_create=created, date_update=created + rng.randrange(0, 10**7),
            count_views=rng.randrange(0, 3000),
        )
        if k % 3 == 1:
            author = rng.choice([u for u in account.users.values() if u.nsid != account.owner.nsid])
            album.comments.append(Comment(
                id=f"{account.owner.numeric_id}-{album.id}-72157{rng.randrange(10**11, 10**12)}",
                author=author.nsid, date=album.date_create + 3600, text="I recognize these."))
        account.albums[album.id] = album


def _collections(rng, ids, account: Account) -> None:
    """Nested collections; a collection holds either albums or other collections."""
    album_ids = list(account.albums)
    if not album_ids:
        return
    prefix = account.owner.numeric_id

    def make(title: str) -> Collection:
        return Collection(id=f"{prefix}-{ids.next_set()}", title=title,
                          description=rng.choice(["", "A collection.", "Trips, by year"]),
                          date_create=EPOCH - rng.randrange(10**6, 10**8))

    travel, years, people = make("Travel"), make("2019"), make("People")
    travel.children = [years]
    # Leave the last album out of every collection.
    in_collections = album_ids[:-1] if len(album_ids) > 1 else album_ids
    half = max(1, len(in_collections) // 2)
    years.album_ids = in_collections[:half]
    people.album_ids = in_collections[half:] or in_collections[:1]
    account.collections = [travel, people]


def _faves_and_galleries(rng, ids, account: Account, others: list[User]) -> None:
    for n in range(6):
        author = others[n % 3]
        item = Item(
            id=ids.next_photo(), owner=author.nsid, media="photo",
            secret="%010x" % rng.getrandbits(40), originalsecret="%010x" % rng.getrandbits(40),
            size_secrets={s: "%010x" % rng.getrandbits(40) for s in UNIQUE_SECRET_SUFFIXES},
            server="65535", farm=66, title=f"Someone else's photo {n}", description="",
            date_upload=EPOCH - rng.randrange(10**6, 10**8), date_taken="2015-06-01 12:00:00",
            taken_granularity=0, taken_unknown=False, last_update=EPOCH - 10**5, license=4,
            ispublic=1, isfriend=0, isfamily=0, safety_level=0, content_type=1,
            original_format="jpg", width=1600, height=1200, size=60_000,
            camera=CAMERAS[n % len(CAMERAS)], date_faved=EPOCH - rng.randrange(1000, 10**7),
        )
        account.foreign[item.id] = item
        account.favorites.append(item.id)
    foreign_ids = list(account.foreign)
    for n in range(2):
        created = EPOCH - rng.randrange(10**6, 10**8)
        account.galleries.append(Gallery(
            id=f"{account.owner.numeric_id}-{ids.next_set()}", title=["Favourites", "Blue"][n],
            description="A gallery.", photo_ids=foreign_ids[n * 3:(n + 1) * 3],
            date_create=created, date_update=created + 1000))
