"""Named-entity recognition with spaCy, paragraph by paragraph.

Only the components NER needs run (tok2vec, ner, and the statistical sentence splitter);
paragraphs go through ``nlp.pipe`` in one stream so entities never cross a paragraph break and
the model sees a batch at a time.
"""

from __future__ import annotations

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
    """Sentences and entities for ``docs`` = [(doc_id, body)], with offsets into each body."""
    model_name = f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'model')}-{nlp.meta.get('version', '')}"
    stream = [(text, (doc_id, para_idx, offset))
              for doc_id, body in docs
              for para_idx, (offset, text) in enumerate(paragraphs(body))]
    sentences: list[dict] = []
    entities: list[dict] = []
    sent_counter: dict[str, int] = {}
    ent_counter: dict[str, int] = {}
    for doc, (doc_id, para_idx, offset) in nlp.pipe(stream, as_tuples=True, batch_size=batch_size):
        sent_of_token = {}
        for sent in doc.sents:
            idx = sent_counter.get(doc_id, 0)
            sent_counter[doc_id] = idx + 1
            sentences.append(dict(doc_id=doc_id, sentence_idx=idx, paragraph_idx=para_idx,
                                  start_char=offset + sent.start_char, end_char=offset + sent.end_char))
            for tok in sent:
                sent_of_token[tok.i] = idx
        for ent in doc.ents:
            mid = ent_counter.get(doc_id, 0)
            ent_counter[doc_id] = mid + 1
            entities.append(dict(doc_id=doc_id, mention_id=mid, start_char=offset + ent.start_char,
                                 end_char=offset + ent.end_char, surface=ent.text, label=ent.label_,
                                 sentence_idx=sent_of_token[ent.start], source="ner", ner_model=model_name))
    return sentences, entities
