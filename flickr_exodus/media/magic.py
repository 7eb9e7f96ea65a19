"""What a file is, from its first bytes: never trust a name or a Content-Type."""

from __future__ import annotations

PHOTO_KINDS = {"jpg", "png", "gif", "tiff", "heic", "webp", "bmp"}
VIDEO_KINDS = {"mp4", "mov", "avi", "mpeg", "mkv", "3gp", "m4v"}
# Which sniffed kinds a Flickr format name accepts.
ACCEPTS = {"jpg": {"jpg"}, "jpeg": {"jpg"}, "png": {"png"}, "gif": {"gif"}, "tif": {"tiff"},
           "tiff": {"tiff"}, "heic": {"heic"}, "webp": {"webp"}, "bmp": {"bmp"}}
HEAD = 64


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] == b"RIFF":
        return {b"WEBP": "webp", b"AVI ": "avi"}.get(head[8:12])
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    if head[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"):
        return "mpeg"
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif"):
            return "heic"
        if brand == b"qt  ":
            return "mov"
        if brand.startswith(b"3g"):
            return "3gp"
        return "mp4"
    if box in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "mov"  # QuickTime files from before ftyp
    return None


def matches(kind: str | None, media: str, original_format: str | None) -> bool:
    """Do these bytes fit the item? A video must be a video container (never a poster
    JPEG); a photo must be the format Flickr said it is."""
    if kind is None:
        return False
    if media == "video":
        return kind in VIDEO_KINDS
    wanted = ACCEPTS.get((original_format or "").lower())
    return kind in wanted if wanted else kind in PHOTO_KINDS


def extension(kind: str) -> str:
    return {"tiff": "tif"}.get(kind, kind)
