"""Toponym resolution as SQL models, and the `newsfacts geocode` entry point that reuses them.

`run_location_models` executes the location models (sql/intermediate/int_toponym_*.sql, then the marts)
so tests and `geocode` work before/without the integrator's `warehouse.run_models`; both use the same
files. `geocode` runs them on a scratch in-memory DuckDB with the gazetteer attached.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from newsfacts import gazetteer, ranker
from newsfacts.toponyms import Lookup, find_toponyms, load_lookup, mention_from_span

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
LOCATION_MODELS = [
    "intermediate/int_toponym_candidates",
    "intermediate/int_toponym_doc_context",
    "intermediate/int_toponym_source_context",
    "intermediate/int_toponym_features",
    "intermediate/int_toponym_resolved",
    "marts/dim_location",
    "marts/fact_location_mention",
    "marts/unresolved_toponym",
]
MENTION_COLUMNS = ["doc_id", "start_char", "end_char", "surface", "sentence_idx", "name_key", "translit_key",
                   "qualifier", "context_key", "source", "ner_label"]


def run_location_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """Create the location tables in dependency order (same convention as warehouse.run_models), the
    learned ranker scoring its tables right after they are built."""
    for model in LOCATION_MODELS:
        sql = (Path(sql_dir) / f"{model}.sql").read_text(encoding="utf-8")
        con.execute(f"create or replace table {Path(model).name} as {sql}")
        ranker.after_model(con, Path(model).name)


def load_mentions(con: duckdb.DuckDBPyConnection, rows: list[dict]) -> None:
    """Replace toponym_mentions with `rows` (bulk load through a DataFrame)."""
    df = pd.DataFrame(rows, columns=MENTION_COLUMNS)
    for col in ("start_char", "end_char", "sentence_idx"):
        df[col] = df[col].astype("Int64")
    for col in ("doc_id", "surface", "name_key", "translit_key", "qualifier", "context_key", "source",
                "ner_label"):
        df[col] = df[col].astype("string")
    con.register("_mentions_df", df)
    con.execute("create or replace table toponym_mentions as select * from _mentions_df")
    con.unregister("_mentions_df")


class Geocoder:
    """Holds the scratch DuckDB (gazetteer attached), the matcher lookup and, lazily, spaCy."""

    def __init__(self, gazetteer_path: Path | None = None):
        self.con = duckdb.connect()
        gazetteer.attach(self.con, gazetteer_path)
        self.lookup: Lookup = load_lookup(self.con)
        self._nlp = None

    def nlp(self):
        if self._nlp is None:
            from newsfacts import ner
            from newsfacts.config import Settings

            self._nlp = ner.load_model(Settings().spacy_model)
        return self._nlp

    def entities(self, text: str) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
        """spaCy entities and sentences, run per paragraph so nothing crosses a line break."""
        ents, sents, pos = [], [], 0
        for para in text.split("\n"):
            if para.strip():
                doc = self.nlp()(para)
                ents += [(pos + e.start_char, pos + e.end_char, e.label_) for e in doc.ents]
                sents += [(pos + s.start_char, pos + s.end_char) for s in doc.sents]
            pos += len(para) + 1
        return ents, sents

    def mentions_for(self, doc_id: str, text: str, spans: list | None) -> list[dict]:
        if spans is None:
            ents, sents = self.entities(text)
            rows = find_toponyms(text, ents, self.lookup, sents)
        else:
            rows = [mention_from_span(text, int(s), int(e), self.lookup) for s, e in spans]
        return [dict(r, doc_id=doc_id) for r in rows]

    def resolve(self, mention_rows: list[dict], sources: dict[str, str] | None = None) -> pd.DataFrame:
        """Run the location models over `mention_rows`: one row per mention, place columns null if unresolved.

        `sources` maps a doc_id to the URL (or site name) it came from, so a source's other documents
        inform where its bare names lie.
        """
        load_mentions(self.con, mention_rows)
        # No documents here, only mentions: a documents table with the source and lineage columns the models read.
        sources = sources or {}
        is_url = {d: "://" in (u or "") for d, u in sources.items()}
        docs = pd.DataFrame({"doc_id": list(sources),
                             "url": [u if is_url[d] else None for d, u in sources.items()],
                             "site_name": [None if is_url[d] else u for d, u in sources.items()]}, dtype="string")
        self.con.register("_docs_df", docs)
        self.con.execute("create or replace table documents as select doc_id, url, site_name, "
                         "null::varchar as entities_version, null::varchar as ner_model, "
                         "null::varchar as gazetteer_version from _docs_df")
        self.con.unregister("_docs_df")
        run_location_models(self.con)
        return self.con.execute("""
            select m.doc_id, m.start_char, m.end_char, l.name, l.geonameid, l.iso3166_2, l.country_code,
                   l.kind, l.latitude, l.longitude, f.confidence, f.method
            from toponym_mentions m
            left join fact_location_mention f using (doc_id, start_char)
            left join dim_location l using (location_id)""").df()


def geocode(records: Iterable[dict], gazetteer_path: Path | None = None,
            batch_size: int = 500) -> Iterator[dict]:
    """JSON-lines records {"id", "text", "spans"?, "url"?} -> {"id", "places": [place | None per span]}.

    Without spans the toponyms are found in the text and every found one is returned. A record's "url" (or
    "source", a site name) lets records of the same source inform each other (within one batch).
    """
    g = Geocoder(gazetteer_path)
    batch: list[dict] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= batch_size:
            yield from _geocode_batch(g, batch)
            batch = []
    if batch:
        yield from _geocode_batch(g, batch)


def _geocode_batch(g: Geocoder, batch: list[dict]) -> Iterator[dict]:
    rows: list[dict] = []
    for i, rec in enumerate(batch):
        rows += g.mentions_for(str(i), rec.get("text") or "", rec.get("spans"))
    sources = {str(i): rec.get("url") or rec.get("source") for i, rec in enumerate(batch)
               if rec.get("url") or rec.get("source")}
    res = g.resolve(rows, sources)
    by_doc: dict[str, dict[int, dict]] = {}
    for r in res.itertuples(index=False):
        place = None
        if r.name is not None and not pd.isna(r.name):
            place = {"start": int(r.start_char), "end": int(r.end_char), "name": r.name,
                     "geonameid": None if pd.isna(r.geonameid) else int(r.geonameid),
                     "iso3166_2": None if pd.isna(r.iso3166_2) else r.iso3166_2,
                     "country_code": None if pd.isna(r.country_code) else r.country_code,
                     "kind": r.kind, "latitude": _num(r.latitude), "longitude": _num(r.longitude),
                     "confidence": _num(r.confidence), "method": r.method}
        by_doc.setdefault(r.doc_id, {})[int(r.start_char)] = place
    for i, rec in enumerate(batch):
        found = by_doc.get(str(i), {})
        if rec.get("spans") is not None:
            places = [found.get(int(s)) for s, _ in rec["spans"]]
        else:
            places = [p for _, p in sorted(found.items()) if p is not None]
        yield {"id": rec.get("id"), "places": places}


def _num(x):
    return None if x is None or pd.isna(x) else float(x)
