import pytest

from supportdesk.richtext import render_markdown
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
