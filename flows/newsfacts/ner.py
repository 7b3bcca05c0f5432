"""Named-entity recognition with spaCy, paragraph by paragraph.

Only the components needed run: ner and the statistical sentence splitter, each with its own
embedding layer. The shared tok2vec feeds only the tagger and parser, which are disabled, so it is
switched off too (a quarter of the stage's time, entities and sentences unchanged). Paragraphs go
through ``nlp.pipe`` in one stream so entities never cross a paragraph break and the model sees a
batch at a time; a paragraph repeated word for word (wire editions, a site's recurring lines) is
parsed once.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

import spacy
from spacy.language import Language

DISABLED = ("tagger", "parser", "lemmatizer", "attribute_ruler")
PARAGRAPH = re.compile(r"[^\n]+")


@lru_cache(maxsize=2)
def load_model(name: str) -> Language:
    """Load the installed model package once per process (nothing is downloaded)."""
    nlp = spacy.load(name, disable=list(DISABLED))
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    for shared in ("tok2vec", "transformer"):
        if shared in nlp.pipe_names and not set(nlp.get_pipe(shared).listening_components) & set(nlp.pipe_names):
            nlp.disable_pipe(shared)
    return nlp


def paragraphs(body: str) -> list[tuple[int, str]]:
    """(offset, text) of each non-empty paragraph; leading/trailing spaces stay outside spans."""
    out = []
    for m in PARAGRAPH.finditer(body):
        text = m.group()
        stripped = text.strip()
        if stripped:
            out.append((m.start() + (len(text) - len(text.lstrip())), stripped))
    return out


def extract(nlp: Language, docs: list[tuple[str, str]], batch_size: int = 64) -> tuple[list[dict], list[dict]]:
    """Sentences and entities for ``docs`` = [(doc_id, body)], with offsets into each body.

    Each distinct paragraph text is parsed once per call: wire editions of one story and the lines a
    site prints on every page repeat paragraphs word for word, and a paragraph's sentences and entities
    depend on its text alone (paragraphs are parsed separately), so its rows are copied to every
    occurrence.
    """
    model_name = f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'model')}-{nlp.meta.get('version', '')}"
    stream = [(text, (doc_id, para_idx, offset))
              for doc_id, body in docs
              for para_idx, (offset, text) in enumerate(paragraphs(body))]
    unique = list(dict.fromkeys(text for text, _ in stream))
    with nlp.memory_zone():  # strings interned for these texts are freed afterwards: flat memory over a long run
        parsed = {text: _spans(doc) for text, doc in zip(unique, nlp.pipe(unique, batch_size=batch_size), strict=True)}
    sentences: list[dict] = []
    entities: list[dict] = []
    _collect(((parsed[text], where) for text, where in stream), model_name, sentences, entities)
    return sentences, entities


def _spans(doc) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int, str, str]]]:
    """A parsed paragraph as plain tuples (the doc dies with the memory zone): sentences as (first token,
    start char, end char), entities as (first token, start char, end char, text, label)."""
    return ([(s.start, s.start_char, s.end_char) for s in doc.sents],
            [(e.start, e.start_char, e.end_char, e.text, e.label_) for e in doc.ents])


def _collect(parsed, model_name: str, sentences: list[dict], entities: list[dict]) -> None:
    """Rows of sentences and entities, numbered per document, from each paragraph's spans."""
    sent_counter: dict[str, int] = {}
    ent_counter: dict[str, int] = {}
    for (sents, ents), (doc_id, para_idx, offset) in parsed:
        first_idx = sent_counter.get(doc_id, 0)
        sent_starts = []  # first token of each sentence: an entity's sentence by bisection, not per token
        for start, start_char, end_char in sents:
            idx = sent_counter.get(doc_id, 0)
            sent_counter[doc_id] = idx + 1
            sent_starts.append(start)
            sentences.append(dict(doc_id=doc_id, sentence_idx=idx, paragraph_idx=para_idx,
                                  start_char=offset + start_char, end_char=offset + end_char))
        for start, start_char, end_char, text, label in ents:
            sent_idx = first_idx + bisect.bisect_right(sent_starts, start) - 1
            mid = ent_counter.get(doc_id, 0)
            ent_counter[doc_id] = mid + 1
            entities.append(dict(doc_id=doc_id, mention_id=mid, start_char=offset + start_char,
                                 end_char=offset + end_char, surface=text, label=label,
                                 sentence_idx=sent_idx, source="ner", ner_model=model_name))
