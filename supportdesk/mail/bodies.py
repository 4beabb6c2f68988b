"""Message bodies: format=flowed, HTML made safe (nh3) and readable as text (inscriptis), and the reply
part of a message without its quoted history and signature (mail-parser-reply)."""

from __future__ import annotations

import re
from html import unescape
from typing import ClassVar

import nh3
from inscriptis import get_text
from mailparser_reply import EmailMessage as ReplySplitter

# A message's text and HTML are cut to these before anything reads them. The reply parser's regexes
# cost the square of a line's length, so it reads what a comment can hold (20,000 characters) in lines
# of at most 1,000 (longer ones are split for it and joined again after).
MAX_TEXT_CHARS = 1_000_000
MAX_HTML_CHARS = 2_000_000
MAX_REPLY_SCAN_CHARS = 20_000
MAX_REPLY_LINE_CHARS = 1_000
_SPLIT = "\u2063"  # INVISIBLE SEPARATOR: marks where a long line was split; no mail text has one
# HTML parsers pay for depth: html5ever (nh3) is quadratic in it, lxml (inscriptis) gives up past 255.
MAX_HTML_DEPTH = 2_000
MAX_HTML_DEPTH_FOR_LAYOUT = 250

# Languages whose quote headers and sign-offs mail-parser-reply knows and whose sign-off words cannot
# be mistaken for ordinary sentences (its Danish "Tak" would eat a line starting "Take").
REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")

SAFE_TAGS = {
    "a", "abbr", "b", "big", "blockquote", "br", "caption", "center", "code", "col", "colgroup", "dd", "del",
    "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol",
    "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "tt", "u", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
}
# Their content goes too, not just the tag: code, styling, documents in documents, Office's XML.
DROPPED_WITH_CONTENT = {
    "script", "style", "title", "noscript", "template", "iframe", "object", "embed", "svg", "math", "xml",
    "head", "frameset", "noembed", "noframes", "select", "textarea",
}  # fmt: skip


def _only_inline_images(element: str, attribute: str, value: str) -> str | None:
    # Remote images are tracking pixels and leak who reads the desk; only the message's own parts show.
    if element == "img" and attribute == "src" and not value.lower().startswith("cid:"):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=SAFE_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=SAFE_ATTRIBUTES,
    attribute_filter=_only_inline_images,
    url_schemes={"http", "https", "mailto", "cid"},
    link_rel="noopener noreferrer",
)
# nh3's output is normalised HTML, so an <img> left without a src is found reliably.
_IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_BLANK_RUNS = re.compile(r"\n[ \t\u00a0]*(?:\n[ \t\u00a0]*){2,}")


_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^>]*?(/?)>")
_ANY_TAG = re.compile(r"<[^>]*(?:>|\Z)")
_SPACE_RUNS = re.compile(r"[ \t]+")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def nesting_depth(html: str) -> int:
    """How deep the elements nest, as a tokenizer sees it (what the parsers' cost depends on)."""
    depth = deepest = 0
    for match in _TAG.finditer(html):
        if match.group(1):
            depth = max(depth - 1, 0)
        elif not match.group(3) and match.group(2).lower() not in _VOID:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def sanitise_html(html: str) -> str | None:
    """An allow-list of harmless tags and attributes; no script, style, forms, frames or remote images.
    None for HTML nested too deep to parse in reasonable time."""
    html = html[:MAX_HTML_CHARS]
    if nesting_depth(html) > MAX_HTML_DEPTH:
        return None
    return _IMAGE_WITHOUT_SOURCE.sub("", _CLEANER.clean(html)).strip()


def html_to_text(html: str) -> str:
    """Readable text of HTML: blocks on their own lines, lists and tables laid out; past the depth the
    layout engine takes, the text without its tags."""
    html = html[:MAX_HTML_CHARS]
    if nesting_depth(html) <= MAX_HTML_DEPTH_FOR_LAYOUT:
        text = get_text(_CLEANER.clean(html))
    else:
        bare = _ANY_TAG.sub(" ", _CLEANER.clean(html) if nesting_depth(html) <= MAX_HTML_DEPTH else html)
        text = _SPACE_RUNS.sub(" ", unescape(bare))
    return _BLANK_RUNS.sub("\n\n", text.replace("\u00a0", " ")).strip() + "\n"


def unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676: join soft-broken lines (ending in a space) of the same quote depth; undo space-stuffing."""
    out: list[str] = []
    paragraph: str | None = None
    depth_of_paragraph = 0

    def prefix(depth: int) -> str:
        return ">" * depth + " " if depth else ""

    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        if paragraph is not None and depth != depth_of_paragraph:
            out.append(prefix(depth_of_paragraph) + paragraph)
            paragraph = None
        if content.endswith(" ") and content != "-- ":
            paragraph = (paragraph or "") + (content[:-1] if delsp else content)
            depth_of_paragraph = depth
        else:
            out.append(prefix(depth) + (paragraph or "") + content)
            paragraph = None
    if paragraph is not None:
        out.append(prefix(depth_of_paragraph) + paragraph)
    return "\n".join(out)


# A reply that ends in a quote, below an attribution line in a language the parser does not know ("Em
# ... escreveu:"): an attribution names an address or a time.
_ATTRIBUTION_HINT = re.compile(r"@|\b\d{1,2}:\d{2}\b")
# Outlook's and others' separators left above a quote the parser cut away.
_TRAILING_SEPARATOR = re.compile(r"(?:\n\s*(?:[-_=]{3,}[^\n]*|[-_=]{3,}))+\s*\Z")


def _without_trailing_quote(reply: str) -> str:
    lines = reply.split("\n")
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if not end or not lines[end - 1].startswith(">"):
        return reply
    while end and (lines[end - 1].startswith(">") or not lines[end - 1].strip()):
        end -= 1
    start = end
    while start and lines[start - 1].strip() and end - start < 3:
        start -= 1
    attribution = "\n".join(lines[start:end])
    if end and attribution.endswith(":") and _ATTRIBUTION_HINT.search(attribution):
        return "\n".join(lines[:start])
    return reply


class _Splitter(ReplySplitter):  # type: ignore[misc]
    """mail-parser-reply builds its three regexes from the language tables for every message, which
    costs more than reading a short reply; ours are always the same, so they are built once."""

    _compiled: ClassVar[dict[str, re.Pattern[str]]] = {}

    def _shared(self, name: str) -> re.Pattern[str]:
        if name not in self._compiled:
            self._compiled[name] = getattr(ReplySplitter, name).fget(self)
        return self._compiled[name]

    @property
    def HEADER_REGEX(self) -> re.Pattern[str]:  # the library's name
        return self._shared("HEADER_REGEX")

    @property
    def SIGNATURE_REGEX(self) -> re.Pattern[str]:
        return self._shared("SIGNATURE_REGEX")

    @property
    def DISCLAIMERS_REGEX(self) -> re.Pattern[str]:
        return self._shared("DISCLAIMERS_REGEX")


def reply_part(text: str) -> str:
    """The new text of a reply: quoted history (by the quote headers of the usual clients in several
    languages, or a trailing quote under an attribution) and the signature removed."""
    scanned = "\n".join(
        _split_long(line) for line in text[:MAX_REPLY_SCAN_CHARS].replace(_SPLIT, "").split("\n")
    )
    parsed = _Splitter(text=scanned, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read()
    first = parsed.replies[0] if parsed.replies else None
    # A message that opens with a quote header has written nothing of its own.
    reply = "" if first is None or first.headers else str(first.body)
    reply = _without_trailing_quote(reply.replace(_SPLIT + "\n", ""))
    return _TRAILING_SEPARATOR.sub("", "\n" + reply).strip().replace(_SPLIT, "")


def _split_long(line: str) -> str:
    pieces = [line[i : i + MAX_REPLY_LINE_CHARS] for i in range(0, len(line), MAX_REPLY_LINE_CHARS)] or [""]
    return (_SPLIT + "\n").join(pieces)
