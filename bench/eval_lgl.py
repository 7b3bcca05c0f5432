"""Evaluate toponym resolution on LGL (588 US local news articles, 5,088 gold toponyms).

Given the gold spans: % within 161 km, % correct country, % exact GeoNames id, over the gold toponyms
that carry coordinates (those without a gaztag are counted and skipped). An unresolved toponym counts as
wrong on every measure. Correct country means the predicted country code equals the gold place's; a gold
place that lies in no country (a continent, a sea) is right only when the answer lies in none either.
End to end (finding toponyms ourselves with spaCy + the gazetteer matcher): precision/recall of spans
(any overlap counts). Also resolution speed (mentions/s through the SQL models, gazetteer already built).

Each article's URL is passed as its source, as the pipeline passes a page's URL: the other articles of the
same paper say where its bare names lie.

The production place ranker is trained on all of LGL (and GeoVirus), so these figures are in-sample; the
dev/held-out halves only show the gap left by curated names written while reading LGL. The cross-corpus
figures (a ranker trained without LGL, NEWSFACTS_PLACES_MODEL=flows/newsfacts/models/places_ranker.without_lgl.json)
come from bench/eval_places.py; see docs/places.md.

Usage: python bench/eval_lgl.py [--lgl PATH] [--json] [--no-e2e] [--limit N] [--half all|dev|heldout]
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
        docs.append(dict(id=art.get("docid"), text=art.findtext("text") or "", toponyms=tops,
                         url=art.findtext("url") or art.findtext("domain")))
        if limit and len(docs) >= limit:
            break
    return docs


def half_of(doc: dict) -> str:
    """'dev' for even article ids (tuning), 'heldout' for odd ones (reported, never tuned on)."""
    return "dev" if int(doc["id"]) % 2 == 0 else "heldout"


def evaluate(docs: list[dict], e2e: bool = True) -> dict:
    """Metrics over all `docs`, plus the same metrics per half under "halves"."""
    g = Geocoder()
    country_of = dict(g.con.execute(
        "select geonameid, country_code from gaz.place where kind = 'country'").fetchall())
    rows = []
    for i, d in enumerate(docs):
        rows += g.mentions_for(str(i), d["text"], [(t["start"], t["end"]) for t in d["toponyms"]])
    t0 = time.perf_counter()
    res = g.resolve(rows, {str(i): d["url"] for i, d in enumerate(docs) if d.get("url")})
    secs = time.perf_counter() - t0
    pred = {(r.doc_id, int(r.start_char)): r for r in res.itertuples(index=False)}

    scored = [(half_of(d), _score(t, pred.get((str(i), t["start"])), country_of))
               for i, d in enumerate(docs) for t in d["toponyms"]]
    out = _metrics([r for _, r in scored])
    out.update({"articles": len(docs), "resolution_mentions_per_s": round(len(rows) / secs),
                "resolution_seconds": round(secs, 2)})
    out["halves"] = {h: dict(_metrics([r for hh, r in scored if hh == h]),
                             articles=sum(half_of(d) == h for d in docs)) for h in ("dev", "heldout")}
    if e2e:
        out.update(_end_to_end(g, docs))
    return out


def _score(t: dict, p, country_of: dict) -> dict:
    """One gold toponym against its prediction (gold False when LGL gives it no coordinates)."""
    gold = t["gold"]
    if gold is None:
        return {"gold": False}
    if p is None or pd.isna(p.latitude):
        return {"gold": True, "resolved": False, "error": "unresolved"}
    dist = km(float(p.latitude), float(p.longitude), gold["lat"], gold["lon"])
    pcc = None if pd.isna(p.country_code) else p.country_code
    gcc = country_of.get(gold["country_id"]) if gold["country_id"] else None
    return {"gold": True, "resolved": True, "enclosing": p.method == "enclosing", "within": dist <= 161,
            "same_id": not pd.isna(p.geonameid) and int(p.geonameid) == gold["geonameid"],
            "country": pcc == gcc if gold["country_id"] is None or gcc is not None else False,
            "error": None if dist <= 161 else f"{gold['fcode']}->{p.kind}"}


def _metrics(scored: list[dict]) -> dict:
    gold = [r for r in scored if r["gold"]]
    n = max(len(gold), 1)
    errors: dict[str, int] = {}
    for r in gold:
        if r["error"]:
            errors[r["error"]] = errors.get(r["error"], 0) + 1

    def pct(key):
        return round(100 * sum(bool(r.get(key)) for r in gold) / n, 1)

    return {
        "toponyms": len(scored), "with_coordinates": len(gold), "resolved": sum(r["resolved"] for r in gold),
        "within_161km": pct("within"),
        "within_161km_or_same_id": round(100 * sum(bool(r.get("within") or r.get("same_id")) for r in gold)
                                         / n, 1),
        "correct_country": pct("country"),
        # the same with a name placed only at its document's region ('enclosing') counted as unresolved
        "correct_country_named_only": round(100 * sum(bool(r.get("country")) and not r.get("enclosing")
                                                      for r in gold) / n, 1),
        "placed_at_enclosing_region": sum(bool(r.get("enclosing")) for r in gold),
        "exact_geonameid": pct("same_id"),
        "wrong_country": {"unresolved": sum(not r["resolved"] for r in gold),
                          "resolved": sum(r["resolved"] and not r["country"] for r in gold)},
        "top_errors": dict(sorted(errors.items(), key=lambda kv: -kv[1])[:10]),
    }


def _end_to_end(g: Geocoder, docs: list[dict]) -> dict:
    t0 = time.perf_counter()
    rows = []
    for i, d in enumerate(docs):
        rows += g.mentions_for(str(i), d["text"], None)
    found_secs = time.perf_counter() - t0
    res = g.resolve(rows, {str(i): d["url"] for i, d in enumerate(docs) if d.get("url")})
    found = {}
    for r in res.itertuples(index=False):
        if not pd.isna(r.name):
            found.setdefault(r.doc_id, []).append((int(r.start_char), int(r.end_char)))
    counts = {h: [0, 0, 0, 0] for h in ("all", "dev", "heldout")}  # tp_pred, n_pred, tp_gold, n_gold
    for i, d in enumerate(docs):
        pred = found.get(str(i), [])
        gold = [(t["start"], t["end"]) for t in d["toponyms"]]
        for h in ("all", half_of(d)):
            c = counts[h]
            c[0] += sum(any(s < ge and e > gs for gs, ge in gold) for s, e in pred)
            c[1] += len(pred)
            c[2] += sum(any(s < ge and e > gs for s, e in pred) for gs, ge in gold)
            c[3] += len(gold)
    out = {}
    for h, (tp_pred, n_pred, tp_gold, n_gold) in counts.items():
        prec = tp_pred / n_pred if n_pred else 0.0
        rec = tp_gold / n_gold if n_gold else 0.0
        out[h] = {"e2e_precision": round(100 * prec, 1), "e2e_recall": round(100 * rec, 1),
                  "e2e_f1": round(200 * prec * rec / (prec + rec), 1) if prec + rec else 0.0, "e2e_found": n_pred}
    res_all = out.pop("all")
    return dict(res_all, e2e_halves=out, e2e_ner_and_matching_seconds=round(found_secs, 1))


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
    cols = [("all", out), ("dev", out["halves"]["dev"]), ("held-out", out["halves"]["heldout"])]
    print(f"{'LGL, given the gold spans':<34}" + "".join(f"{c:>11}" for c, _ in cols) + f"{'Mordecai 3':>12}")
    print(f"{'articles':<34}" + "".join(f"{m['articles']:>11}" for _, m in cols))
    print(f"{'toponyms with coordinates':<34}" + "".join(f"{m['with_coordinates']:>11}" for _, m in cols))
    for k, ref in (("within_161km", MORDECAI3["within_161km"]), ("within_161km_or_same_id", None),
                   ("correct_country", MORDECAI3["country"]), ("correct_country_named_only", None),
                   ("exact_geonameid", MORDECAI3["exact_id"])):
        print(f"{k:<34}" + "".join(f"{m[k]:>10.1f}%" for _, m in cols) + f"{(f'{ref:.1f}%' if ref else ''):>12}")
    for label, count in (("unresolved (counted wrong)", lambda m: m["wrong_country"]["unresolved"]),
                         ("placed at the enclosing region", lambda m: m["placed_at_enclosing_region"]),
                         ("resolved to a wrong country", lambda m: m["wrong_country"]["resolved"])):
        print(f"{label:<34}" + "".join(f"{count(m):>11}" for _, m in cols))
    if "e2e_f1" in out:
        e2e = [out] + [out["e2e_halves"][h] for h in ("dev", "heldout")]
        print("end to end (finding the toponyms ourselves), span overlap:")
        for k in ("e2e_precision", "e2e_recall", "e2e_f1"):
            print(f"{k:<34}" + "".join(f"{m[k]:>10.1f}%" for m in e2e))
    print(f"{'resolution mentions/s':<34}{out['resolution_mentions_per_s']:>11}")
    print("top errors, all (gold feature code -> predicted kind):", out["top_errors"])


if __name__ == "__main__":
    main()
