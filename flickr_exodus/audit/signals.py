"""An item's reasons, each {"code", "text"} (codes in risk.py): what Flickr says of it
(visibility, location, licence, people, notes, words about people, when and how it was
uploaded), what its original says (GPS in its EXIF, faces) and what the dataset lists say.
The strongest first."""

from __future__ import annotations

import json
import time

from ..catalog.canned import CREATIVE_COMMONS, LICENCES
from . import risk
from .datasets import Listing

# Licences that let anyone copy a photo: Creative Commons, CC0, the Public Domain Mark, "no
# known copyright restrictions" and US Government works.
REUSABLE = frozenset(CREATIVE_COMMONS) | {7, 8, 10}
# What the face datasets drew from (reference: their papers and READMEs): YFCC100M, photos
# uploaded 2004 to 2014 under Creative Commons (MegaFace is built from it); FFHQ, crawled in
# 2018 from photos under reusable licences.
YFCC_YEARS = range(2004, 2015)
FFHQ_BEFORE = 2019


def reason(code: str, text: str) -> dict:
    return {"code": code, "text": text}


def _flag(value) -> bool:
    """Flickr's 1 and 0; anything else (NULL, '1', 2) is not a yes."""
    return value == 1 and type(value) is int


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def location_public(row: dict) -> bool:
    """Anyone may see where it was taken: a public item whose location Flickr shows to
    anyone (geo_perms), or that has a location and no geo_perms to say otherwise."""
    if not _flag(row["is_public"]):
        return False
    try:
        perms = json.loads(row["geo_perms"]) if isinstance(row["geo_perms"], str) else None
    except ValueError:
        perms = None
    if isinstance(perms, dict) and "ispublic" in perms:
        return _flag(perms["ispublic"])
    return isinstance(row["latitude"], (int, float)) and isinstance(row["longitude"], (int, float)) \
        and (row["latitude"], row["longitude"]) != (0, 0)


def visibility(row: dict) -> dict:
    if _flag(row["is_public"]):
        return reason(risk.PUBLIC, "public: anyone can see it, crawlers too")
    seen_by = [who for who, flag in (("friends", row["is_friend"]), ("family", row["is_family"])) if _flag(flag)]
    if seen_by:
        return reason(risk.SHARED, f"seen by {' and '.join(seen_by)} only")
    return reason(risk.PRIVATE, "private: only you can see it")


def licence_name(row: dict) -> str:
    return LICENCES.get(row["license"], f"licence {row['license']}")


def flickr_reasons(row: dict, people_words: list[str]) -> list[dict]:
    """What the catalog says of the item."""
    out = [visibility(row)]
    if row["license"] in REUSABLE:
        out.append(reason(risk.REUSABLE, f"{licence_name(row)}: its licence lets anyone copy it"))
    if row["people"] or _flag(row["has_people"]):
        what = _count(row["people"], "person", "people") if row["people"] else "people"
        out.append(reason(risk.PEOPLE, f"{what} tagged on Flickr"))
    if people_words:
        out.append(reason(risk.WORDS, "words about people: " + ", ".join(f'"{w}"' for w in people_words)))
    if row["notes"]:
        out.append(reason(risk.NOTES, f"{_count(row['notes'], 'note', 'notes')} on the picture"))
    if location_public(row):
        out.append(reason(risk.LOCATION, "its location is public on Flickr"))
    if window := crawl_window(row):
        out.append(reason(risk.WINDOW, window))
    return out


def crawl_window(row: dict) -> str | None:
    """Uploaded when, and under a licence such as, the datasets took photos."""
    if not isinstance(row["date_upload"], int) or row["license"] not in REUSABLE:
        return None
    year = time.gmtime(row["date_upload"]).tm_year
    names = [name for name, inside in (
        ("YFCC100M (2004-2014 uploads under Creative Commons)",
         year in YFCC_YEARS and row["license"] in CREATIVE_COMMONS),
        ("FFHQ (crawled in 2018, reusable licences)", year < FFHQ_BEFORE)) if inside]
    if not names:
        return None
    return f"uploaded in {year} under {licence_name(row)}: like the photos {' and '.join(names)} took"


def exif_reason(row: dict, where: tuple[float, float]) -> dict:
    lat, lon = where
    hidden = "" if location_public(row) else "; Flickr does not show it, the file does"
    return reason(risk.EXIF_GPS, f"the original's EXIF records where it was taken ({lat:.5f}, {lon:.5f}){hidden}")


def faces_reason(height: int, boxes: list) -> dict | None:
    if not boxes:
        return None
    tallest = max(box[3] for box in boxes) / height if height else 0
    return reason(risk.FACES, f"{_count(len(boxes), 'face', 'faces')} found, the largest "
                              f"{round(100 * tallest)}% of the picture's height")


def dataset_reason(listings: set[Listing]) -> dict:
    named = "; ".join(f"{listing.dataset} ({listing.file}, by {listing.how})"
                      for listing in sorted(listings, key=lambda x: (x.dataset, x.file, x.how)))
    return reason(risk.DATASET, f"in a dataset list: {named}")
