"""Checks that a piece of HTML can run nothing: no script-capable elements, no event handlers, no
links or sources with a scheme other than http(s)/mailto or a relative path."""

from __future__ import annotations

import re
from html.parser import HTMLParser

DANGEROUS_TAGS = {
    "script",
    "svg",
    "iframe",
    "object",
    "embed",
    "math",
    "base",
    "form",
    "meta",
    "link",
    "style",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}
SAFE_SCHEMES = {"http", "https", "mailto"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        own_script = tag == "script" and any(
            n == "src" and (v or "").startswith("/static/") for n, v in attrs
        )
        if tag in DANGEROUS_TAGS and not own_script:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                scheme = _SCHEME.match("".join(value.split()).lower())
                if scheme and scheme.group(1) not in SAFE_SCHEMES:
                    self.problems.append(f"{name}={value!r} on <{tag}>")


def problems(html: str, allow_tags: frozenset[str] = frozenset()) -> list[str]:
    collector = _Collector()
    collector.feed(html)
    return [p for p in collector.problems if not any(p == f"<{t}> element" for t in allow_tags)]


def assert_inert(html: str, allow_tags: frozenset[str] = frozenset()) -> None:
    found = problems(html, allow_tags)
    assert not found, f"active content in HTML: {found}"


PAGE_CHROME = frozenset({"form", "meta", "link"})


def assert_page_inert(html: str) -> None:
    """A whole page: our own layout (forms, meta, stylesheet links, /static/ scripts) is expected."""
    assert_inert(html, allow_tags=PAGE_CHROME)
