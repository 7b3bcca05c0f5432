"""The speed work must not change results: shortcuts are checked against the slow path they replace,
and the benchmark corpus must really be made of unique documents."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util

import pytest

from tests.conftest import ROOT, SHARED

PAGES = SHARED / "data" / "article-extraction-benchmark" / "html"
needs_pages = pytest.mark.skipif(not PAGES.exists(), reason="shared benchmark data not beside the checkout")


def _make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", ROOT / "bench" / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@needs_pages
def test_corpus_copies_are_unique_deterministic_and_share_no_story(tmp_path):
    from newsfacts import clean, stories

    mc = _make_corpus()
    pages = mc.benchmark_pages(SHARED)
    n = len(pages) + 12
    first = mc.ensure_corpus(SHARED, n, tmp_path / "a")
    again = mc.ensure_corpus(SHARED, n, tmp_path / "b")
    files = sorted(first.glob("*.html.gz"))
    assert len(files) == n
    digests = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    assert len(set(digests)) == n
    assert digests == [hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(again.glob("*.html.gz"))]
    assert gzip.decompress(files[0].read_bytes()) == gzip.decompress(pages[0].read_bytes())
    original = clean.clean_file(files[0])["body"]
    copies = [clean.clean_file(f)["body"] for f in (files[len(pages)], files[len(pages) + 1])]
    assert len(copies[0].split()) >= 0.5 * len(original.split())
    for body in copies:
        same, _, _ = stories.same_story(original, body)
        assert not same
    assert not stories.same_story(copies[0], copies[1])[0]


def test_ner_without_the_shared_tok2vec_gives_the_same_sentences_and_entities():
    import spacy
    from newsfacts import ner
    from newsfacts.config import Settings

    name = Settings().spacy_model
    fast = ner.load_model(name)
    assert "tok2vec" not in fast.pipe_names and {"senter", "ner"} <= set(fast.pipe_names)
    full = spacy.load(name, disable=list(ner.DISABLED))
    full.enable_pipe("senter")
    assert "tok2vec" in full.pipe_names
    docs = [("a", "Vladimir Putin met Donald Trump in Helsinki on Monday. NATO said little.\n"
                  "The Kremlin spokesman Dmitry Peskov spoke to reporters in Moscow."),
            ("b", "Ukraine's President Volodymyr Zelensky visited Kharkiv. He thanked the United States.")]
    assert ner.extract(fast, docs) == ner.extract(full, docs)


@needs_pages
def test_skipping_the_default_pass_only_where_it_cannot_win():
    """_page_words bounds what trafilatura's default mode returns, so skipping it changes no result."""
    import trafilatura
    from newsfacts import clean
    from newsfacts.encoding import decode, read_payload
    from trafilatura.utils import load_html

    skipped = 0
    for page in sorted(PAGES.glob("*.html.gz"))[:40]:
        html, _ = decode(read_payload(page.read_bytes(), page.name))
        default = trafilatura.bare_extraction(html, include_comments=False, include_tables=True)
        bound = clean._page_words(load_html(html))
        assert default is None or len((default.text or "").split()) <= bound
        precise = trafilatura.bare_extraction(html, favor_precision=True, include_comments=False,
                                              include_tables=True)
        skipped += precise is not None and len((precise.text or "").split()) >= bound / 3
    assert skipped >= 10
