"""XMP sidecars ({file}.xmp, the name digiKam, darktable and Immich look for): title,
description, keywords, GPS, date taken, and the Flickr id and URL, in the standard
namespaces that photo programs read (Dublin Core, EXIF, Photoshop, XMP rights)."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

# Characters XML 1.0 cannot carry at all (a title may hold anything).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
LICENSES = {  # Flickr license id -> its URL (flickr.photos.licenses.getInfo)
    1: "https://creativecommons.org/licenses/by-nc-sa/2.0/",
    2: "https://creativecommons.org/licenses/by-nc/2.0/",
    3: "https://creativecommons.org/licenses/by-nc-nd/2.0/",
    4: "https://creativecommons.org/licenses/by/2.0/",
    5: "https://creativecommons.org/licenses/by-sa/2.0/",
    6: "https://creativecommons.org/licenses/by-nd/2.0/",
    7: "https://www.flickr.com/commons/usage/",
    8: "http://www.usa.gov/copyright.shtml",
    9: "https://creativecommons.org/publicdomain/zero/1.0/",
    10: "https://creativecommons.org/publicdomain/mark/1.0/",
}


def _text(value) -> str:
    return escape(_NOT_XML.sub("", str(value)))


def _alt(value: str) -> str:
    return f'<rdf:Alt><rdf:li xml:lang="x-default">{_text(value)}</rdf:li></rdf:Alt>'


def xmp_date(taken: str | None, granularity: int | None) -> str | None:
    """Flickr's '2019-07-04 12:00:00' at its granularity (0 second, 4 month, 6 year,
    8 circa) -> XMP's '2019-07-04T12:00:00', '2019-07' or '2019'."""
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}:\d{2}:\d{2})", taken or "")
    if not match or match.group(1) == "0000":
        return None
    year, month, day, clock = match.groups()
    if granularity in (6, 8):
        return year
    if granularity == 4:
        return f"{year}-{month}"
    return f"{year}-{month}-{day}T{clock}"


def gps(value: float, positive: str, negative: str) -> str:
    """XMP's GPSCoordinate: 'DDD,MM.mmmmmmK'."""
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    degrees = int(value)
    return f"{degrees},{(value - degrees) * 60:.6f}{hemisphere}"


def keywords(document: dict) -> list[str]:
    """Tags as the owner typed them (getInfo's raw) where known, else Flickr's clean form.
    Machine tags (namespace:predicate=value) are data, not keywords."""
    raw = [t["raw"] for t in document.get("tags_raw") or [] if t["raw"] and not t["machine"]]
    return raw or list(document.get("tags") or [])


def render(document: dict) -> str:
    """The XMP packet for one item's sidecar document (tree.sidecar)."""
    fields: list[str] = []
    if document.get("title"):
        fields.append(f"<dc:title>{_alt(document['title'])}</dc:title>")
    if document.get("description"):
        fields.append(f"<dc:description>{_alt(document['description'])}</dc:description>")
    words = keywords(document)
    if words:
        items = "".join(f"<rdf:li>{_text(w)}</rdf:li>" for w in words)
        fields.append(f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>")
    date = None if document.get("date_taken_unknown") else \
        xmp_date(document.get("date_taken"), document.get("date_taken_granularity"))
    if date:
        fields.append(f"<exif:DateTimeOriginal>{date}</exif:DateTimeOriginal>")
        fields.append(f"<photoshop:DateCreated>{date}</photoshop:DateCreated>")
    geo = document.get("geo")
    if geo and geo.get("latitude") is not None:
        fields.append("<exif:GPSVersionID>2.2.0.0</exif:GPSVersionID>")
        fields.append(f"<exif:GPSLatitude>{gps(geo['latitude'], 'N', 'S')}</exif:GPSLatitude>")
        fields.append(f"<exif:GPSLongitude>{gps(geo['longitude'], 'E', 'W')}</exif:GPSLongitude>")
    license_url = LICENSES.get(document.get("license") or 0)
    if license_url:
        fields.append(f"<xmpRights:WebStatement>{_text(license_url)}</xmpRights:WebStatement>")
        fields.append("<xmpRights:Marked>True</xmpRights:Marked>")
    fields.append(f"<dc:identifier>flickr:{_text(document['id'])}</dc:identifier>")
    fields.append(f"<flickr:id>{_text(document['id'])}</flickr:id>")
    if document.get("url"):
        fields.append(f"<dc:source>{_text(document['url'])}</dc:source>")
        fields.append(f"<flickr:url>{_text(document['url'])}</flickr:url>")
    body = "\n   ".join(fields)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="flickr-exodus">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        f'  <rdf:Description rdf:about={quoteattr("")}\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:exif="http://ns.adobe.com/exif/1.0/"\n'
        '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n'
        '    xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"\n'
        '    xmlns:flickr="https://www.flickr.com/services/api/">\n'
        f"   {body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>\n'
    )
