import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.core import richtext
from supportdesk.core.richtext import render_markdown, render_markdown_fully
from tests.html_safety import assert_inert, problems


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "![x](javascript:alert(1))",
        "<svg onload=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        '![a"onerror="alert(1)](https://e.x/a.png)',
    ],
)
def test_markdown_tricks_render_inert(source):
    assert_inert(str(render_markdown(source)))


def test_markdown_renders_what_people_write():
    html = str(render_markdown("**Bold**, `code`, [docs](https://example.com)\n\n- one\n- two"))
    assert "<strong>Bold</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<li>one</li>" in html


def test_images_become_links():
    assert str(render_markdown("![screenshot](https://example.com/a.png)")).startswith(
        '<p><a href="https://example.com/a.png"'
    )


def test_the_inertness_check_itself_catches_active_content():
    assert problems('<img src=x onerror="alert(1)">') == ["onerror handler on <img>"]
    assert problems('<a href=" javascript:alert(1)">x</a>') == ["href=' javascript:alert(1)' on <a>"]
    assert problems("<script>x</script>") == ["<script> element"]


# Plain prose, and the characters that make text Markdown at the start of a line, at the end of one or
# anywhere: every sample must render exactly as markdown-it and nh3 render it.
PLAIN_WORDS = st.sampled_from(
    [
        "VPN",
        "printer",
        "It's",
        '"down"',
        "again?",
        "(3rd",
        "floor)",
        "50%",
        "é",
        "ß",
        "a/b",
        "x@y.z",
        "ok!",
        "v2.1",
    ]
)
MARKERS = st.sampled_from(
    [
        "-",
        "- ",
        "+ ",
        "* ",
        "1. ",
        "2) ",
        "#",
        "# ",
        ">",
        "    ",
        "\t",
        "  ",
        " ",
        "=",
        "==",
        "---",
        "***",
        "___",
        "`",
        "_x_",
        "*x*",
        "[a]",
        "<b>",
        "&amp;",
        "\\",
        "~~",
        "|",
        "\r\n",
        "\n",
        "\n\n",
        "\u0000",
        "",
    ]
)


@given(
    st.lists(st.one_of(PLAIN_WORDS, MARKERS), max_size=30).map(" ".join)
    | st.lists(st.one_of(PLAIN_WORDS, MARKERS), max_size=30).map("".join)
)
@settings(max_examples=400, deadline=None)
def test_plain_text_renders_exactly_as_markdown_would(text):
    """Most ticket text is plain prose: it skips the Markdown parser (a fifth of a ticket page's time)
    but must come out exactly as the parser would have rendered it."""
    assert render_markdown(text) == render_markdown_fully(text)


PLAIN_LINE = st.lists(PLAIN_WORDS, min_size=1, max_size=8).map(" ".join)


@given(
    st.lists(st.tuples(PLAIN_LINE, st.sampled_from(["\n", "\n\n", "\n\n\n", ""])), max_size=8).map(
        lambda parts: "".join(line + end for line, end in parts)
    )
)
@settings(max_examples=200, deadline=None)
def test_plain_paragraphs_and_line_breaks_render_exactly_as_markdown_would(text):
    assert richtext._is_plain(text)
    assert render_markdown(text) == render_markdown_fully(text)
