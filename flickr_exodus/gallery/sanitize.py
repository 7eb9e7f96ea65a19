"""The one allowlist for HTML that came from Flickr (descriptions, comments, notes).

Flickr lets people put some HTML in a description or a comment: links and emphasis are
kept, everything else is dropped (its tag; the text inside stays as text, except inside
elements whose content is code or chrome, which goes with them). Every other module of the
gallery that shows such text calls `clean`; none writes its own.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup

KEPT = frozenset({"a", "b", "strong", "i", "em", "u", "s", "blockquote", "br", "p"})
EMPTY = frozenset({"br"})
# Their content is not text for a reader: it goes with the tag.
SWALLOWED = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript", "textarea",
                       "title", "svg", "math", "select", "head"})
SCHEMES = ("http", "https")
# An element nested deeper than this is flattened: a hostile description cannot make a
# page the browser struggles to lay out.
MAX_DEPTH = 32


def clean(text: str | None, newlines: bool = True) -> Markup:
    """Safe HTML of `text`: the allowlist's tags, escaped text, every element closed.
    newlines: a line break in the text is one on the page (Flickr shows them so)."""
    if not text:
        return Markup("")
    text = str(text)
    if "<" in text or "&" in text:
        parser = _Allowlist()
        parser.feed(text)
        parser.close()
        html = parser.result()
    else:  # no markup at all: escaping is all there is to do (most descriptions)
        html = escape(text, quote=False)
    if newlines:
        html = html.replace("\r\n", "\n").replace("\n", "<br>\n")
    return Markup(html)


def plain(text: str | None) -> str:
    """The words of Flickr's HTML, without any tag (for a search index)."""
    if not text:
        return ""
    parser = _Allowlist()
    parser.feed(str(text))
    parser.close()
    return "".join(parser.words)


def safe_link(href: str | None) -> str | None:
    """An absolute http(s) link as it was written, or None (javascript:, data:, relative...)."""
    if not href:
        return None
    href = href.strip()
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    if parts.scheme.lower() not in SCHEMES or not parts.netloc or any(c in href for c in "\x00\t\n\r "):
        return None
    return href


class _Allowlist(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []      # kept elements still open, innermost last
        self.swallowing: list[str] = []
        self.words: list[str] = []     # the text alone

    def handle_starttag(self, tag, attrs):
        if self.swallowing or tag in SWALLOWED:
            if tag in SWALLOWED:
                self.swallowing.append(tag)
            return
        if tag not in KEPT:
            return
        if tag in EMPTY:
            self.out.append(f"<{tag}>")
            return
        if len(self.open) >= MAX_DEPTH:
            return
        if tag == "a":
            href = safe_link(dict(attrs).get("href"))
            if href is None:
                self.open.append("")  # its text stays, as text
                return
            self.out.append(f'<a href="{escape(href, quote=True)}" rel="nofollow noopener">')
        else:
            self.out.append(f"<{tag}>")
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if not self.swallowing and tag in EMPTY:
            self.out.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if self.swallowing:
            if tag == self.swallowing[-1]:
                self.swallowing.pop()
            return
        if tag in EMPTY or tag not in KEPT:
            return
        wanted = tag if tag != "a" else ("a", "")
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth] in (wanted if isinstance(wanted, tuple) else (wanted,)):
                while len(self.open) > depth:  # close what was left open inside it
                    self._close(self.open.pop())
                return
        # a closing tag nothing opened: dropped

    def handle_data(self, data):
        if not self.swallowing:
            self.out.append(escape(data, quote=False))
            self.words.append(data)

    def handle_comment(self, data):
        pass  # <!-- --> and conditional comments: gone

    def handle_decl(self, decl):
        pass

    def handle_pi(self, data):
        pass

    def unknown_decl(self, data):
        pass

    def _close(self, tag: str) -> None:
        if tag:
            self.out.append(f"</{tag}>")

    def result(self) -> str:
        while self.open:
            self._close(self.open.pop())
        return "".join(self.out)
