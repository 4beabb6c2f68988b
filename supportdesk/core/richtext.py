"""Markdown to safe HTML for ticket descriptions and comments.

markdown-it renders with raw HTML switched off (so `<script>` arrives as text), then nh3 keeps only an
allow-list of tags and attributes and only http(s)/mailto links. Images are not allowed: an external
image is a tracking pixel, and uploads are attachments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)


def _image_as_link(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Show `![alt](url)` as a plain link to the image instead of loading it (nh3 then vets the URL)."""
    token = tokens[idx]
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    src = str(token.attrGet("src") or "")
    return f'<a href="{escape(src)}">{escape(alt or src)}</a>'


_markdown.add_render_rule("image", _image_as_link)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> Markup:
    """Most ticket text is plain prose (no character Markdown gives a meaning): its paragraphs and line
    breaks are written directly, exactly as the parser and nh3 would write them, which was a fifth of
    a ticket page's time. Anything else goes through the parser and nh3."""
    text = text or ""
    if _is_plain(text):
        # Safe to mark: plain text has no `<`, `>` or `&` to escape (nor anything else but letters,
        # digits, spaces and the punctuation in `_NOT_PLAIN`).
        return Markup(_plain_html(text))  # noqa: S704  # nosec B704
    return render_markdown_fully(text)


def render_markdown_fully(text: str) -> Markup:
    """Always through the parser and nh3: what `render_markdown` must equal."""
    return _clean(_markdown.render(text or ""))


# Anything but letters and digits of any script, spaces, newlines and punctuation Markdown gives no
# meaning to (no emphasis, code, links, HTML, entities, escapes, tables or strikethrough markers).
_NOT_PLAIN = re.compile(r"[^\w ,.;:'\"?()/%$@!\n-]")
# Lines that could open a block (indented code, a list item, a setext underline) or end in a hard break.
_BLOCK_START = re.compile(r"^(?: |-|\d+[.)])| $", re.MULTILINE)


def _is_plain(text: str) -> bool:
    return "_" not in text and _NOT_PLAIN.search(text) is None and _BLOCK_START.search(text) is None


def _plain_html(text: str) -> str:
    """What markdown-it (`breaks` on) and then nh3 make of plain text: paragraphs split at blank lines,
    line breaks kept."""
    html = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.strip("\n")
        if lines:
            html.append("<p>" + lines.replace("\n", "<br>\n") + "</p>\n")
    return "".join(html)


def _clean(html: str) -> Markup:
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    # Safe to mark: nh3 has just removed everything outside the allow-list.
    return Markup(clean)  # noqa: S704  # nosec B704
