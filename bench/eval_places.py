"""Place resolution figures, cross-corpus first: each corpus scored with the ranker trained without it.

1. given the gold spans, through the official scorer (`../shared/tools/score_places.py`, which runs
   `newsfacts geocode` one article a line without URLs), with NEWSFACTS_PLACES_MODEL set to the model
   trained without that corpus (cross-corpus), then with the production model (trained on both: in-sample);
2. end to end, with the cross-corpus model: `newsfacts geocode` finds the toponyms itself; a found place is
   right when its span overlaps a gold span and it lies within 161 km of that gold point.
   Precision = right found places / found places; recall = gold toponyms with a right found place / gold.

Usage: python bench/eval_places.py [--shared ../shared] [--no-e2e]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "flows" / "newsfacts" / "models"


def _train_places():
    spec = importlib.util.spec_from_file_location("train_places", ROOT / "bench" / "train_places.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def official(shared: Path, corpus: str, model: Path) -> str:
    """The official scorer's line for `corpus` with `model`."""
    tp = _train_places()
    cmd = [sys.executable, str(shared / "tools" / "score_places.py"), corpus, str(shared / tp.CORPORA[corpus][0]),
           "--cli", str(Path(sys.executable).with_name("newsfacts"))]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, NEWSFACTS_PLACES_MODEL=str(model)))
    return (r.stdout.strip().splitlines() or [r.stderr.strip()[-300:]])[-1]


def end_to_end(shared: Path, corpus: str, model: Path) -> dict:
    """Precision, recall and F1 of found places (span overlap and within 161 km), with `model`."""
    os.environ["NEWSFACTS_PLACES_MODEL"] = str(model)
    tp = _train_places()
    return score_found(tp.CORPORA[corpus][1](shared / tp.CORPORA[corpus][0]))


def score_found(docs: list[dict]) -> dict:
    """newsfacts finds and resolves the toponyms of `docs` ({"text", "toponyms": [(start, end, lat, lon)]});
    a found place is right when its span overlaps a gold span and it lies within 161 km of that gold point."""
    from newsfacts.geocode import geocode

    tp = _train_places()
    t0 = time.perf_counter()
    outs = list(geocode({"id": str(i), "text": d["text"]} for i, d in enumerate(docs)))
    right_found = found = right_gold = gold = 0
    for d, out in zip(docs, outs, strict=True):
        places = [p for p in out["places"] if p and p.get("latitude") is not None]
        found += len(places)
        gold += len(d["toponyms"])

        def right(p, g):
            s, e, lat, lon = g
            return p["start"] < e and p["end"] > s and lat is not None and \
                tp.km(p["latitude"], p["longitude"], lat, lon) <= 161

        right_found += sum(any(right(p, g) for g in d["toponyms"]) for p in places)
        right_gold += sum(any(right(p, g) for p in places) for g in d["toponyms"])
    prec = right_found / found if found else 0.0
    rec = right_gold / gold if gold else 0.0
    return {"precision": round(100 * prec, 1), "recall": round(100 * rec, 1),
            "f1": round(2 * prec * rec / (prec + rec), 3) if prec + rec else 0.0, "found": found, "gold": gold,
            "seconds": round(time.perf_counter() - t0)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--no-e2e", action="store_true")
    a = ap.parse_args()
    print("given the gold spans (official scorer):")
    for corpus in ("geovirus", "lgl"):
        print(f"  cross-corpus (model trained without {corpus}): "
              f"{official(a.shared, corpus, MODELS / f'places_ranker.without_{corpus}.json')}", flush=True)
    for corpus in ("geovirus", "lgl"):
        print(f"  in-sample (production model, trained on both): "
              f"{official(a.shared, corpus, MODELS / 'places_ranker.json')}", flush=True)
    if not a.no_e2e:
        print("end to end (toponyms found by newsfacts, right = span overlap and within 161 km), cross-corpus:")
        for corpus in ("geovirus", "lgl"):
            print(f"  {corpus}: {end_to_end(a.shared, corpus, MODELS / f'places_ranker.without_{corpus}.json')}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
