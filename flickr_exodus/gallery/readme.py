"""README.txt of a gallery folder, for someone who has never heard of exodus."""

from __future__ import annotations

from .model import Gallery
from .owned import README_MARK


def text(gallery: Gallery) -> str:
    saved = sum(1 for item in gallery.items.values() if item["saved"])
    if gallery.subset:
        what = (f"This folder is a selection of the Flickr account of {gallery.owner}, made to be published.\n"
                f"{gallery.subset}\n\nIt holds {len(gallery.items)} photos and videos ({saved} with their original file).")
        originals = ("originals/         the original files of the items shown, as uploaded to Flickr\n"
                     "                   (named by their Flickr id)")
        if any(item["withheld"] for item in gallery.items.values()):
            originals += ("; an item whose location is private has none here\n"
                          "                   (the file would carry it): its page shows its largest picture")
        catalog = ("The full backup this selection was made from, with its catalog, is kept elsewhere by its\n"
                   "owner; nothing else of the account is in this folder.")
    else:
        what = (f"This folder is a backup of the Flickr account of {gallery.owner}: every photo and video,\n"
                "with its title, description, tags, albums, comments, notes and people. It includes PRIVATE\n"
                f"items: do not publish it as it is. It holds {len(gallery.items)} items ({saved} with their file).")
        originals = ("photos/            the original files, as uploaded to Flickr, by date taken (with a .json\n"
                     "                   file of everything Flickr said beside each)\n"
                     "albums/, collections/  the albums and collections, as links to those files")
        catalog = ("catalog.db         everything in one SQLite database (open it with the 'sqlite3' program,\n"
                   "                   DB Browser for SQLite, or Datasette); tables photos, albums,\n"
                   "                   album_photos, comments, tags, notes, people, versions...\n"
                   "metadata.yml       for Datasette: 'datasette catalog.db -m metadata.yml' explains\n"
                   "                   every table and offers ready queries and full-text search\n"
                   "links.csv          each item's old Flickr address and its file here\n"
                   "logs/              what each run of exodus did")
    return f"""{README_MARK}

{what}

HOW TO LOOK AT IT
Open index.html in any web browser (double-click it). No internet connection and no server
are needed: every page, style, script and image is in this folder, and all links are
relative, so the folder can be moved, copied to a USB disk, zipped, or put on any web host
as it is. The arrow keys move to the previous and next photo.

WHAT EACH PART IS
index.html         the front page: the latest photos and the photostream by month
site/              the pages (photos/, albums/, tags/, stream/), thumbnails (img/),
                   style and scripts (js/), data the scripts read (data/)
{originals}
{catalog if not gallery.subset else ""}
HOW TO CHECK THAT NOTHING IS DAMAGED
site/SHA256SUMS lists every original file with its SHA-256 checksum. In a terminal, in
this folder (where index.html is), run:

    sha256sum -c site/SHA256SUMS

(on a Mac: shasum -a 256 -c site/SHA256SUMS). Each file should say OK.
{"" if not gallery.subset else chr(10) + catalog + chr(10)}"""
