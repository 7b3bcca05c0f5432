"""Cleaning's shortcuts give what the library functions they stand for give: trafilatura's author search and
ftfy's repair, on the benchmark pages and on pages built to reach their edge cases."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED

PAGES = SHARED / "data" / "article-extraction-benchmark" / "html"
needs_pages = pytest.mark.skipif(not PAGES.exists(), reason="shared benchmark data not beside the checkout")


def _trees():
    from newsfacts.encoding import decode, read_payload
    from trafilatura.utils import load_html

    for page in sorted(PAGES.glob("*.html.gz")):
        yield page.name, load_html(decode(read_payload(page.read_bytes(), page.name))[0])


def test_the_author_search_is_written_for_this_trafilatura():
    """Another trafilatura's author expressions make the shortcut fall back to trafilatura (slower, same
    result): this test says when that happens, so the shortcut can be re-derived."""
    from newsfacts import clean

    assert clean._author_search() is not None


@needs_pages
def test_author_is_trafilaturas_on_the_benchmark_pages():
    from newsfacts import clean
    from trafilatura.metadata import extract_author

    found = 0
    for name, tree in _trees():
        expected = extract_author(tree)
        assert clean._extract_author(tree, extract_author) == expected, name
        found += expected is not None
    assert found >= 50  # 118 of 181 pages have one


@pytest.mark.parametrize("body", [
    # the candidate is inside a pruned part (a comment list): the next one is taken
    "<div class='comments'><span class='author'>Some Commenter</span></div><p class='byline'>Jane Smith</p>",
    # a pruned element inside the candidate: its text goes, its tail stays, glued to what precedes it
    "<span class='author'>Jane<time>2024-01-01</time>Smith and <figure>pic</figure> John Doe</span>",
    "<div class='author'><div class='date'>Monday</div>Jane Smith</div>",
    # a candidate whose text is too short or too long, then a usable one from a later expression
    "<a rel='author'>JS</a><div class='writer'>Jane Smith</div>",
    "<span class='author'>" + "word " * 40 + "</span><span data-component='Byline'>Jane Smith</span>",
    # only an <author> element, only an id, only itemprop, nothing at all
    "<author>Jane Smith</author>",
    "<div id='post-Author'>Jane Smith</div>",
    "<span itemprop='author'>Jane Smith</span>",
    "<p class='article'>No author here.</p>",
    # a rel child: trafilatura's own search runs
    "<div class='x'><rel>me</rel>Jane Smith</div><a class='author'><rel>me</rel>John Doe</a>",
    # a candidate inside a time, inside a quote block nested in a sidebar
    "<time><span class='author'>Jane Smith</span></time><aside><div class='sidebar'><div class='quote'>"
    "<span class='byline'>John Doe</span></div></div></aside><span class='byline'>Ann Lee</span>",
])
def test_author_is_trafilaturas_on_edge_cases(body):
    from newsfacts import clean
    from trafilatura.metadata import extract_author
    from trafilatura.utils import load_html

    tree = load_html(f"<html><head><title>t</title></head><body>{body}<p>Text of the article.</p></body></html>")
    assert clean._extract_author(tree, extract_author) == extract_author(tree)


@pytest.mark.parametrize("text", [
    "Plain ASCII text.\nTwo lines.", "Kremlinâ€™s aides", "ﬂuﬃeﬆ and café", "ＬＯＵＤ\u3000ＮＯＩＳＥＳ café",
    "a\x00b\x07c é", "sÃ³ and ﬁ", "\u00c3\u00af\u00c2\u00bc\u00c2\u00ac", "Â .", " x\xa0Ã© ", "&amp; &lt; é",
    "x\u200by\u202ez", "Ã¯Â¬Â\x81 ligature mojibake", "caf\u00c3\u00a9 \u00ef\u00ac\u0081", "tab\there é\r\nnext",
    "", "\ufffd", "Putinâs aides", "naïve résumé — “quoted” ‘single’",
])
def test_ftfy_shortcut_is_ftfy(text):
    import ftfy
    from newsfacts import encoding

    ours, theirs = encoding._fix_and_explain(text), ftfy.fix_and_explain(text, uncurl_quotes=False)
    assert (ours.text, ours.explanation) == (theirs.text, theirs.explanation)


def test_the_mojibake_search_is_written_for_this_ftfy():
    """Another ftfy's mojibake pattern makes the shortcut search the whole text (slower, same result)."""
    from newsfacts import encoding

    assert encoding._badness_checked()


_MOJIBAKE_ALPHABET = "ab Z.,?!\n\tÂÃÎÐØÙàâéèœŒ°×²³√≈‚Äâó€™–—‘’“”«»¡¿¢£¥µ·½¾®©ÀÉÖÜßðþ\xa0\xad\x81\x9dвЂВГРСβΒΓΞΟāγΆ"


@pytest.mark.parametrize("text", [
    "Kremlinâ€™s", "cafÃ©", "sÃ³", "Ã\xa0 la", "voilÃ le", "â€œquotedâ€\x9d", "a Ã  b", "Ã ", "x Â ’",
    "Ã¯Â¬Â\x81", "вЂ™", "ГўВЂВ™s", "ā€", "β€™", "×²", "œ.", "É°", "Ø¯Ø§", "à²", "√±", "plain text", "naïve café",
    "résumé — “quoted”", "", "Ã", "ab\x85",
])
def test_mojibake_search_is_ftfys(text):
    from ftfy.badness import is_bad
    from newsfacts import encoding

    assert encoding._is_bad(text) == is_bad(text)
    assert encoding._is_bad("Some English prose, " * 20 + text) == is_bad("Some English prose, " * 20 + text)


def test_mojibake_search_is_ftfys_on_generated_text():
    from ftfy.badness import is_bad
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from newsfacts import encoding

    @settings(max_examples=3000, deadline=None)
    @given(st.text(alphabet=_MOJIBAKE_ALPHABET, max_size=40))
    def check(text):
        assert encoding._is_bad(text) == is_bad(text)

    check()
