"""Place resolution on TUD-Loc-2013, a corpus no part of newsfacts was trained or tuned on.

TUD-Loc-2013 (Katz and Schill, TU Dresden; CC BY-NC-SA 4.0, so it stays outside this repository): 152 web
pages (news, travel, encyclopaedic and company pages) with 3,850 location annotations, 3,484 of them with a
point chosen by hand, mostly GeoNames' point of the place (`geonames:<id>`), else Google's geocoder. Get it
from the snapshot of milangritta/Pragmatic-Guide-to-Geoparsing-Evaluation:

    git -C REPO show HEAD:data/Corpora/TUD-Loc2013.zip > tud.zip && unzip tud.zip
    .venv/bin/python bench/eval_tud_loc.py palladian_pk-tud-loc-2013-*/0-all

Scored as `../shared/tools/score_places.py` scores LGL and GeoVirus: every page goes through `geocode`
(what `newsfacts geocode` runs) without a URL, (1) given the gold spans: the share of annotations with a
point whose place lies within 161 km of it, overall and by annotation type; (2) end to end, newsfacts
finding the toponyms itself: a found place is right when its span overlaps a gold span and it lies within
161 km of that span's point. The model is the production one unless NEWSFACTS_PLACES_MODEL names another:
trained on LGL and GeoVirus only, it is cross-corpus here.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import re
import sys
import time
from collections import Counter
from pathlib import Path

TAG = re.compile(r"<([A-Z]+)[^>]*>(.*?)</[A-Z]+>", re.S)


def _eval_places():
    """bench/eval_places.py, whose end-to-end scoring and distance this uses (bench is no package)."""
    spec = importlib.util.spec_from_file_location("eval_places", Path(__file__).with_name("eval_places.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_tud(folder: Path) -> list[dict]:
    """Pages with their clean text and annotations (start, end, type, lat, lon; lat/lon None without a point).

    The annotated text marks each location with an XML-like tag (closing tags do not always repeat the
    opening type); `coordinates.csv` gives each annotation's point by page and offset in the text without
    tags (its running index repeats in places, so the offset is the key)."""
    points: dict[tuple[str, int], tuple[float, float]] = {}
    with open(folder / "coordinates.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter=";"):
            if not row["latitude"]:  # an annotation with no point
                continue
            points[(row["docId"], int(row["offset"]))] = (float(row["latitude"]), float(row["longitude"]))
    docs = []
    for path in sorted(folder.glob("text*.txt"), key=lambda p: int(re.sub(r"\D", "", p.stem))):
        marked = path.read_text(encoding="utf-8")
        text, spans, pos = [], [], 0
        for m in TAG.finditer(marked):
            text.append(marked[pos:m.start()])
            start = sum(map(len, text))
            text.append(m.group(2))
            point = points.get((path.name, start), (None, None))
            spans.append((start, start + len(m.group(2)), m.group(1), *point))
            pos = m.end()
        text.append(marked[pos:])
        docs.append({"id": path.name, "text": "".join(text), "toponyms": spans})
    return docs


def given_spans(docs: list[dict]) -> dict:
    from newsfacts.geocode import geocode

    km = _eval_places()._train_places().km
    t0 = time.perf_counter()
    outs = list(geocode({"id": d["id"], "text": d["text"], "spans": [[s, e] for s, e, *_ in d["toponyms"]]}
                        for d in docs))
    seconds = time.perf_counter() - t0
    n, near, by_type, right_by_type = 0, 0, Counter(), Counter()
    for d, out in zip(docs, outs, strict=True):
        for (_, _, kind, lat, lon), p in zip(d["toponyms"], out["places"], strict=True):
            if lat is None:
                continue
            n += 1
            by_type[kind] += 1
            ok = bool(p and p.get("latitude") is not None and km(p["latitude"], p["longitude"], lat, lon) <= 161)
            near += ok
            right_by_type[kind] += ok
    return {"toponyms": n, "within_161km": round(100 * near / n, 1),
            "by_type": {k: f"{100 * right_by_type[k] / v:.1f} % of {v}" for k, v in by_type.most_common()},
            "toponyms_per_s": round(sum(len(d["toponyms"]) for d in docs) / seconds)}


def end_to_end(docs: list[dict]) -> dict:
    """eval_places' end-to-end score over the annotations that have a point."""
    located = [{"text": d["text"], "toponyms": [(s, e, lat, lon) for s, e, _, lat, lon in d["toponyms"]
                                                if lat is not None]} for d in docs]
    return _eval_places().score_found(located)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="TUD-Loc-2013's 0-all folder (annotated texts, coordinates.csv)")
    ap.add_argument("--no-e2e", action="store_true")
    a = ap.parse_args()
    docs = read_tud(a.folder)
    print(f"TUD-Loc-2013: {len(docs)} pages, {sum(len(d['toponyms']) for d in docs)} annotations", flush=True)
    print(f"  given the gold spans: {given_spans(docs)}", flush=True)
    if not a.no_e2e:
        print(f"  end to end: {end_to_end(docs)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
