import pytest
from django.template import Context, Template

from competitions.templatetags.markdown_extras import render_markdown


def test_markdown_is_rendered_with_tables_and_lists():
    html = render_markdown("# Rules\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<h1>Rules</h1>" in html
    assert "<li>one</li>" in html
    assert "<td>1</td>" in html


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "alert"),
        ("<img src=x onerror=alert(1)>", "onerror"),
        ("[link](javascript:alert(1))", "javascript:"),
        ('<a href="data:text/html,hi">x</a>', "data:"),
        ("<style>body{display:none}</style>", "display:none"),
        ('<iframe src="https://evil.example"></iframe>', "iframe"),
        ('<p style="position:fixed">x</p>', "position:fixed"),
    ],
)
def test_dangerous_html_is_removed(source, forbidden):
    assert forbidden not in render_markdown(source)


def test_links_keep_their_target_and_get_a_safe_rel():
    html = render_markdown("[docs](https://hulic.example/docs)")
    assert 'href="https://hulic.example/docs"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_the_template_filter_outputs_html_unescaped_but_sanitised():
    rendered = Template("{% load markdown_extras %}{{ text|markdown }}").render(
        Context({"text": "**bold** <script>x()</script>"})
    )
    assert "<strong>bold</strong>" in rendered
    assert "<script" not in rendered and "&lt;script" not in rendered


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""
