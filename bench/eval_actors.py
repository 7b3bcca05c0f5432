"""Actor alias evaluation: merge precision/recall on tests/data/alias_cases.json.

Each case is two small documents; both go through ``actors.find_actor_mentions`` and the real
actor SQL models, and the pair counts as merged when both mentions get the same ``actor_id``.
(The seeds gold is scored on a real pipeline run by ``bench/eval_all.py``.)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
from newsfacts import actors, warehouse

ROOT = Path(__file__).resolve().parents[1]
SQL = ROOT / "sql"
ALIAS_CASES = ROOT / "tests" / "data" / "alias_cases.json"
ACTOR_MODELS = ("int_actor_", "int_place_sentences", "dim_actor", "fact_actor_", "dropped_actor_", "actor_counts",
                "location_counts")


def load_df(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Bulk-create a stage table from rows through a DataFrame; columns the rows lack (lineage, …)
    are added from the real schema as NULLs, so the SQL models see the table they expect."""
    df = pd.DataFrame(rows)
    con.register("_rows", df)
    con.execute(f"create or replace table {table} as select * from _rows")
    con.unregister("_rows")
    for name, kind in _schema_columns(table):
        if name not in df.columns:
            con.execute(f"alter table {table} add column {name} {kind}")


def _schema_columns(table: str) -> list[tuple[str, str]]:
    ref = duckdb.connect()
    try:
        ref.execute(warehouse.SCHEMA.read_text())
        return [(r[0], r[1]) for r in ref.execute(f"describe {table}").fetchall()]
    except duckdb.CatalogException:
        return []
    finally:
        ref.close()


def run_actor_models(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL) -> list[str]:
    """Run only the actor/story models (the others belong to other stages) in dependency order; the toponym
    finder's table, which the co-occurrence sentences read, is created empty when the caller loaded none."""
    con.execute("create table if not exists toponym_mentions (doc_id varchar, sentence_idx int)")
    with tempfile.TemporaryDirectory() as tmp:
        for layer in warehouse.LAYERS:
            (Path(tmp) / layer).mkdir()
            for p in (sql_dir / layer).glob("*.sql"):
                if p.stem.startswith(ACTOR_MODELS):
                    (Path(tmp) / layer / p.name).write_text(p.read_text())
        return warehouse.run_models(con, Path(tmp))


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
        places = [(m.start(), m.end()) for surface in case.get(f"places_{side}", [])
                  for m in re.finditer(re.escape(surface), body)]  # what the toponym finder would pass
        mentions += [{"doc_id": doc_id, **a} for a in actors.find_actor_mentions(body, ents, sents, places)]
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
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args()
    r = alias_eval()
    if a.json:
        print(json.dumps({k: v for k, v in r.items() if k != "failures"}))
        return 0
    print(f"alias cases {r['cases']} ({r['same']} same, {r['different']} different): "
          f"merge precision {r['precision']:.3f}, recall {r['recall']:.3f} "
          f"(tp {r['tp']}, fp {r['fp']}, fn {r['fn']}, tn {r['tn']})")
    for f in r["failures"]:
        print("  FAIL", *f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
