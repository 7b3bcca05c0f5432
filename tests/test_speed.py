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


def test_edition_corpora_are_unique_files_of_one_story_each(tmp_path):
    """The wire-news kind: every later copy is its page plus one line, a new file of the same story."""
    from newsfacts import clean, stories

    mc = _make_corpus()
    pages = mc.benchmark_pages(SHARED)
    n = len(pages) + 3
    folder = mc.ensure_corpus(SHARED, n, tmp_path, kind="editions")
    assert folder.name == f"corpus-editions-{n}" and mc.ensure_corpus(SHARED, n, tmp_path, kind="editions") == folder
    files = sorted(folder.glob("*.html.gz"))
    assert len({hashlib.sha256(f.read_bytes()).hexdigest() for f in files}) == n
    for copy in range(len(pages), n):
        page = gzip.decompress(files[copy % len(pages)].read_bytes())
        edition = gzip.decompress(files[copy].read_bytes())
        assert edition != page and f"Edition {copy} of this report".encode() in edition
        assert stories.same_story(clean.clean_file(files[copy % len(pages)])["body"],
                                  clean.clean_file(files[copy])["body"])[0]


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


def test_a_repeated_paragraph_gets_the_rows_it_gets_when_parsed_alone():
    """NER parses each distinct paragraph once per call; every occurrence gets the rows of its own parse."""
    from newsfacts import entities, ner
    from newsfacts.config import Settings

    nlp = ner.load_model(Settings().spacy_model)
    wire = "Reuters reported that Angela Merkel met Emmanuel Macron in Paris. They spoke for an hour."
    docs = [("a", f"{wire}\nThe European Union welcomed the talks in Brussels."),
            ("b", f"Shares of Siemens rose in Frankfurt.\n{wire}"),
            ("c", f"{wire}\nThe European Union welcomed the talks in Brussels.")]
    together = ner.extract(nlp, docs)
    alone = [ner.extract(nlp, [d]) for d in docs]
    assert together == tuple([row for part in alone for row in part[i]] for i in range(2))
    # equal bodies share their toponym and actor candidates, each under its own document id
    rows = entities.extract_batch([(d, b, "en") for d, b in docs], Settings())
    for table in ("toponym_mentions", "actor_mentions"):
        a = [{k: v for k, v in r.items() if k != "doc_id"} for r in rows[table] if r["doc_id"] == "a"]
        c = [{k: v for k, v in r.items() if k != "doc_id"} for r in rows[table] if r["doc_id"] == "c"]
        assert a and a == c


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
        precise = trafilatura.bare_extraction(tree, favor_precision=True, fast=True, **kwargs)
        kept = words(precise.text or "") if precise is not None else 0
        skip = precise is not None and kept >= clean._content_words(tree) / 3
        default = trafilatura.bare_extraction(tree, fast=True, **kwargs)
        if default is not None and kept < words(default.text or "") / 3:
            needed += 1
            assert not skip, page.name
        skipped += skip
    assert needed >= 1 and skipped >= 0.75 * len(pages)  # measured 140 of 181


@needs_pages
def test_page_metadata_is_trafilaturas_for_the_stored_fields():
    """The metadata subset (no categories, tags or license) gives what trafilatura's extract_metadata gives
    for every field we store, with and without a known URL."""
    import json

    from newsfacts import clean
    from newsfacts.encoding import decode, read_payload
    from trafilatura.metadata import extract_metadata
    from trafilatura.settings import Extractor
    from trafilatura.utils import load_html

    urls = {k: v.get("url") for k, v in json.loads((PAGES.parent / "ground-truth.json").read_text()).items()}
    date_params = Extractor().date_params
    for page in sorted(PAGES.glob("*.html.gz")):
        html, _ = decode(read_payload(page.read_bytes(), page.name))
        for url in (None, urls.get(page.name.removesuffix(".html.gz"))):
            full = extract_metadata(load_html(html), url, date_params, False, set())
            ours = clean._page_metadata(load_html(html), url)
            assert [getattr(ours, f) for f in clean._STORED_METADATA] == \
                   [getattr(full, f) for f in clean._STORED_METADATA], (page.name, url)


def _content_words_by_ancestors(tree) -> int:
    """The slow path: test every text node's ancestors for a container."""
    from lxml import etree
    from newsfacts import clean

    nodes = etree.XPath("//text()[not(" + " or ".join(f"ancestor::{t}" for t in clean._NOT_CONTENT) + ")]")(tree)
    words = sum(len(t.split()) for t in nodes)
    words += sum(int(clean._COUNT_MARKERS[tag](tree)) * n for tag, n in clean._MARKER_WORDS.items())
    return words + sum(clean._nwords(clean._JSON_ESCAPE.sub(" ", t)) for t in clean._RENDERED_DATA(tree))


def test_content_words_subtracting_containers_equals_testing_ancestors():
    """Nested containers, a container's tail text and a script inside navigation are counted once."""
    from newsfacts import clean
    from trafilatura.utils import load_html

    page = ("<html><head><title>Two words</title><style>p {x: y}</style></head><body>"
            "<header><nav>Home news <script>var a = 1;</script> sport</nav> after nav <b>bold</b></header> tail one"
            "<p>Five words in this paragraph <noscript>enable it</noscript> and more</p>"
            "<aside><form><button>Go now</button></form><menu><li>item</li></menu></aside>"
            "<ul><li>first item</li><li>second</li></ul><table><tr><td>cell a</td><th>head</th></tr></table>"
            "<footer>Copyright text</footer>last words</body></html>")
    tree = load_html(page)
    assert clean._content_words(tree) == _content_words_by_ancestors(tree)


@needs_pages
def test_content_words_on_the_benchmark_pages_equal_the_slow_path():
    from newsfacts import clean
    from newsfacts.encoding import decode, read_payload
    from trafilatura.utils import load_html

    for page in sorted(PAGES.glob("*.html.gz")):
        tree = load_html(decode(read_payload(page.read_bytes(), page.name))[0])
        assert clean._content_words(tree) == _content_words_by_ancestors(tree), page.name


def test_clean_batch_is_clean_bytes_row_by_row():
    """The batch runs the language step after the others; documents, refusals and their order are those
    of cleaning each row alone (one refusal comes from the language step, one from before it)."""
    from newsfacts import clean

    damaged = ("Putin aides met\n\nPutinâs aides said on Tuesday that it donât matter what the ministers decided at "
               "the summit, and the café owners with their résumé, naïve éclair, élan, fiancé and décor agreed "
               "that the talks would go on for a long while.\n")
    raws = [(ROOT / "seeds" / name).read_bytes() for name in sorted(p.name for p in (ROOT / "seeds").iterdir())[:3]]
    raws[1:1] = [damaged.encode(), b""]
    rows = [{"raw": raw, "source_uri": f"/in/{i}.txt", "content_hash": str(i)} for i, raw in enumerate(raws)]
    docs, rejected = clean.clean_batch(rows, "run")
    expected_docs, expected_reasons = [], []
    for row in rows:
        try:
            expected_docs.append({**clean.clean_bytes(row["raw"], "x.txt", row["source_uri"]),
                                  "content_hash": row["content_hash"], "source_uri": row["source_uri"]})
        except clean.BadInput as exc:
            expected_reasons.append((row["content_hash"], exc.reason))
    assert docs == expected_docs and len(docs) == 3
    assert [(r["content_hash"], r["reason"]) for r in rejected] == expected_reasons
    assert expected_reasons[0][0] == "1" and "broken encoding" in expected_reasons[0][1]
