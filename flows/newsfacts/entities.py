"""Entities stage: one pass over each English body yields sentences, NER entities, toponym
candidates and actor candidates (the last two use the NER entities but do not trust their labels).

Non-English documents are kept in ``documents`` and skipped here: the model is English-only.
"""

from __future__ import annotations

from functools import lru_cache

from newsfacts import ner
from newsfacts.config import Settings

COLUMNS = {
    "sentences": ["doc_id", "sentence_idx", "paragraph_idx", "start_char", "end_char"],
    "entity_mentions": ["doc_id", "mention_id", "start_char", "end_char", "surface", "label", "sentence_idx",
                        "source", "ner_model"],
    "toponym_mentions": ["doc_id", "start_char", "end_char", "surface", "sentence_idx", "name_key",
                         "translit_key", "qualifier", "context_key", "source"],
    "actor_mentions": ["doc_id", "start_char", "end_char", "surface", "label", "sentence_idx", "actor_key",
                       "title", "country_code", "source", "name", "first_key", "surname_key", "first_translit",
                       "surname_translit", "n_tokens", "honorific", "title_scope", "anchored", "drop_reason"],
}


@lru_cache(maxsize=2)
def _lookup(gazetteer_path: str):
    """The toponym lookup is built from the gazetteer once per process."""
    import duckdb

    from newsfacts import toponyms

    con = duckdb.connect(gazetteer_path, read_only=True)
    try:
        return toponyms.load_lookup(con)
    finally:
        con.close()


def _sentence_of(sentences: list[dict], start: int) -> int:
    for s in sentences:
        if s["start_char"] <= start < s["end_char"]:
            return s["sentence_idx"]
    return sentences[-1]["sentence_idx"] if sentences else 0


def extract_batch(docs: list[tuple[str, str, str | None]], settings: Settings) -> dict[str, list[dict]]:
    """Rows for every table of this stage, for ``docs`` = [(doc_id, body, language)]."""
    from newsfacts import actors, toponyms

    english = [(d, b) for d, b, lang in docs if (lang or "en") == "en"]
    nlp = ner.load_model(settings.spacy_model)
    sentences, entities = ner.extract(nlp, english)
    lookup = _lookup(str(settings.gazetteer))
    by_doc_sent: dict[str, list[dict]] = {}
    for s in sentences:
        by_doc_sent.setdefault(s["doc_id"], []).append(s)
    by_doc_ent: dict[str, list[tuple[int, int, str]]] = {}
    for e in entities:
        by_doc_ent.setdefault(e["doc_id"], []).append((e["start_char"], e["end_char"], e["label"]))
    topo_rows, actor_rows = [], []
    # Equal bodies (editions of one wire story) have equal sentences and entities (NER runs per paragraph),
    # so their toponym and actor candidates are found once.
    found: dict[str, tuple[list[dict], list[dict]]] = {}
    for doc_id, body in english:
        if body not in found:
            sents = by_doc_sent.get(doc_id, [])
            ents = by_doc_ent.get(doc_id, [])
            bounds = [(s["start_char"], s["end_char"]) for s in sents]
            places = [{**p, "sentence_idx": _sentence_of(sents, p["start_char"])}
                      for p in toponyms.find_toponyms(body, ents, lookup, bounds)]
            spans = [(p["start_char"], p["end_char"]) for p in places]
            found[body] = places, actors.find_actor_candidates(body, ents, bounds, spans)
        places, cands = found[body]
        topo_rows += ({**p, "doc_id": doc_id} for p in places)
        actor_rows += ({"doc_id": doc_id, **a} for a in cands)
    return {"sentences": sentences, "entity_mentions": entities, "toponym_mentions": topo_rows,
            "actor_mentions": actor_rows}
