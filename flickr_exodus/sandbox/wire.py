"""Flickr's bytes on the wire: REST envelopes in JSON or XML, OAuth problems, the 429 page.

A payload is a dict in the shape of Flickr's JSON; XML is derived from it by Flickr's own
XML->JSON rule run backwards (reference §2): scalars are attributes, `_content` is the
element's text, a dict is a child element, a list is repeated child elements.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

JSON_OK = "application/json"
# stat=fail in JSON came as text/plain in the recordings
# (rec:flickr.test.null.error-100.1.json, rec:flickr.photos.licenses.getInfo.error-100.1.json).
JSON_FAIL = "text/plain; charset=utf-8"
XML = "text/xml; charset=utf-8"
OAUTH_TEXT = "text/plain;charset=UTF-8"

# The stock load-balancer page, byte for byte (rec:oauth.request_token.http-429.1.html);
# the CDN's 429 bodies are the same 117 bytes (reference §3, [ISS-gdl8297]).
TOO_MANY_REQUESTS = (
    b"<html><body><h1>429 Too Many Requests</h1>\n"
    b"You have sent too many requests in a given amount of time.\n"
    b"</body></html>\n"
)

# 5xx pages in the load balancer's style; no real Flickr 5xx body was ever recorded
# (INDEX.md "Gaps"), so these only need to be HTML, not JSON or XML.
BAD_GATEWAY = b"<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n"
UNAVAILABLE = b"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"

# Characters XML 1.0 cannot carry at all; Flickr's XML drops what JSON escapes as \uXXXX.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ApiError(Exception):
    """A stat=fail answer: HTTP 200 with Flickr's code and message."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def to_json(payload: dict, callback: str | None = None) -> bytes:
    # Flickr escapes "/" as "\/" and non-ASCII as \uXXXX (reference §2, rec:*.json).
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")
    if callback:
        text = f"{callback}({text})"
    return text.encode("ascii")


def escape(text: str) -> str:
    """Flickr's XML escaping: double-quoted attributes with &quot;, apostrophes as &#039;
    (rec:flickr.photos.getInfo.error-1.1.xml, rec:flickr.people.getInfo.2.xml)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#039;"))


def quoteattr(text: str) -> str:
    return f'"{escape(text)}"'


def _attr(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return _XML_INVALID.sub("", str(value))


def _element(name: str, node: dict, depth: int, out: list[str]) -> None:
    indent = "\t" * depth
    attrs = "".join(f" {k}={quoteattr(_attr(v))}" for k, v in node.items()
                    if k != "_content" and not isinstance(v, (dict, list)))
    children = [(k, v) for k, v in node.items() if isinstance(v, dict) or (isinstance(v, list) and v)]
    text = node.get("_content")
    if not children and (text is None or text == ""):
        out.append(f"{indent}<{name}{attrs} />")
        return
    if not children:
        out.append(f"{indent}<{name}{attrs}>{escape(_attr(text))}</{name}>")
        return
    out.append(f"{indent}<{name}{attrs}>" + (escape(_attr(text)) if text else ""))
    _children(children, depth + 1, out)
    out.append(f"{indent}</{name}>")


def _children(children, depth: int, out: list[str]) -> None:
    for key, value in children:
        for node in (value if isinstance(value, list) else [value]):
            _element(key, node if isinstance(node, dict) else {"_content": node}, depth, out)


def to_xml(payload: dict) -> bytes:
    """<rsp stat="ok"> with the payload's members as children (rec:*.xml layout)."""
    out = ['<?xml version="1.0" encoding="utf-8" ?>', '<rsp stat="ok">']
    _children([(k, v) for k, v in payload.items() if isinstance(v, (dict, list))], 0, out)
    out.append("</rsp>")
    return ("\n".join(out) + "\n").encode("utf-8")


def error_xml(code: int, message: str) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8" ?>\n<rsp stat="fail">\n'
            f"\t<err code={quoteattr(str(code))} msg={quoteattr(message)} />\n</rsp>\n").encode()


def render(payload: dict | None, error: ApiError | None, fmt: str, callback: str | None) -> tuple[bytes, str]:
    """(body, content type) for a REST answer in the asked format."""
    if fmt == "json":
        if error is not None:
            return to_json({"stat": "fail", "code": error.code, "message": error.message}, callback), JSON_FAIL
        return to_json({**payload, "stat": "ok"}, callback), JSON_OK
    if error is not None:
        return error_xml(error.code, error.message), XML
    return to_xml(payload), XML


def oauth_body(**fields: str) -> bytes:
    """A form-encoded OAuth answer, values percent-encoded as Flickr does ("Alex%20Chan",
    "199258389%40N04": rec:oauth.access_token.1.txt)."""
    return "&".join(f"{k}={quote(str(v), safe='')}" for k, v in fields.items()).encode()
