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
def test_the_default_pass_is_skipped_only_where_it_cannot_win():
    """On every benchmark page where the default mode finds three times what precision mode kept, the
    content-word measure asks for the default pass; on most other pages it is skipped."""
    import trafilatura
    from newsfacts import clean
    from newsfacts.encoding import decode, read_payload
    from trafilatura.utils import load_html

    kwargs = dict(include_comments=False, include_tables=True)
    skipped = needed = 0
    pages = sorted(PAGES.glob("*.html.gz"))
    for page in pages:
        html, _ = decode(read_payload(page.read_bytes(), page.name))
        tree = load_html(html)
        words = clean._nwords
        precise = trafilatura.bare_extraction(tree, favor_precision=True, **kwargs)
        kept = words(precise.text or "") if precise is not None else 0
        skip = precise is not None and kept >= clean._content_words(tree) / 3
        default = trafilatura.bare_extraction(tree, **kwargs)
        if default is not None and kept < words(default.text or "") / 3:
            needed += 1
            assert not skip, page.name
        skipped += skip
    assert needed >= 1 and skipped >= 0.75 * len(pages)  # measured 144 of 181
