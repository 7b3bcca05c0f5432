#!/usr/bin/env python3
"""Article-body extraction quality on the ScrapingHub benchmark: trafilatura alone vs newsfacts.clean.

The metric is the benchmark's own (scrapinghub/article-extraction-benchmark, evaluate.py): 4-token
shingles with multiplicity, tp/fp/fn normalised per page, precision and recall averaged over pages,
F1 from the averaged P and R. Tokens are `\\w+` matches, case-sensitive, as there.

Usage: python bench/eval_extraction.py [--data DIR] [--json] [--min-f1 X] [--worst N]
Exit status 1 when newsfacts' F1 is below --min-f1.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "flows"))

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "article-extraction-benchmark"
_TOKEN_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def _ngrams(text: str | None, n: int = 4) -> Counter:
    tokens = _TOKEN_RE.findall(text or "")
    out: Counter = Counter()
    for i in range(0, max(1, len(tokens) - n + 1)):
        shingle = tuple(tokens[i: i + n])
        if shingle:
            out[shingle] += 1
    return out


def shingle_tp_fp_fn(true: str | None, pred: str | None) -> tuple[float, float, float]:
    """Per-page tp/fp/fn over 4-token shingles, normalised to sum 1 (evaluate.string_shingle_matching)."""
    t, p = _ngrams(true), _ngrams(pred)
    tp = fp = fn = 0.0
    for key in set(t) | set(p):
        tc, pc = t.get(key, 0), p.get(key, 0)
        tp += min(tc, pc)
        fp += max(0, pc - tc)
        fn += max(0, tc - pc)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s > 0 else (tp, fp, fn)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def metrics(tp_fp_fns: list[tuple[float, float, float]]) -> dict[str, float]:
    """Macro P/R over pages (pages with nothing predicted are left out of P, as in evaluate.py)."""
    p = statistics.mean([_precision(*x) for x in tp_fp_fns if x[0] + x[1] > 0])
    r = statistics.mean([_recall(*x) for x in tp_fp_fns if x[0] + x[2] > 0])
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r)}


def load(data: Path) -> list[tuple[str, str, str, str]]:
    """(id, html, url, true body) per page, reading html as the benchmark does (gzip, UTF-8)."""
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        with gzip.open(data / "html" / f"{key}.html.gz", "rt", encoding="utf8") as f:
            pages.append((key, f.read(), truth[key].get("url", ""), truth[key].get("articleBody", "")))
    return pages


def run(pages, extract) -> tuple[dict[str, float], list[tuple[float, float, float]], float]:
    start = time.perf_counter()
    scores = [shingle_tp_fp_fn(true, extract(html, url)) for _, html, url, true in pages]
    return metrics(scores), scores, time.perf_counter() - start


def newsfacts_body(html: str, url: str) -> str:
    """The pipeline's own cleaning path (decode, repair, extract, rules), as `newsfacts clean` runs it."""
    from newsfacts.clean import clean_bytes
    from newsfacts.encoding import BadInput

    try:
        return clean_bytes(html.encode("utf-8"), "page.html", url)["body"]
    except BadInput:
        return ""


def evaluate(pages) -> tuple[dict[str, dict], dict[str, list]]:
    """Figures for trafilatura alone (as the benchmark runs it) and for newsfacts, side by side."""
    import trafilatura

    systems = {
        "trafilatura": lambda html, url: trafilatura.extract(html, include_comments=False),
        "newsfacts": newsfacts_body,
    }
    results, per_page = {}, {}
    for name, fn in systems.items():
        m, scores, secs = run(pages, fn)
        results[name] = {**m, "pages": len(pages), "seconds": round(secs, 2)}
        per_page[name] = scores
    return results, per_page


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--min-f1", type=float, default=None, help="exit 1 when newsfacts F1 is below this")
    ap.add_argument("--worst", type=int, default=0, help="list the N pages newsfacts loses most on")
    a = ap.parse_args()

    pages = load(a.data)
    results, per_page = evaluate(pages)
    if a.json:
        print(json.dumps(results, indent=1))
    else:
        print(f"{'system':<14}{'precision':>10}{'recall':>10}{'F1':>8}{'pages/s':>10}")
        for name, m in results.items():
            print(f"{name:<14}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>8.3f}"
                  f"{m['pages'] / max(m['seconds'], 1e-9):>10.1f}")
    if a.worst:
        def f1(x):
            p, r = _precision(*x), _recall(*x)
            return 2 * p * r / (p + r) if p + r else 0.0
        pairs = zip(pages, per_page["trafilatura"], per_page["newsfacts"], strict=True)
        rows = sorted((f1(n) - f1(t), f1(t), f1(n), _precision(*n), _recall(*n), k)
                      for (k, *_), t, n in pairs)
        for d, ft, fnf, p, r, k in rows[: a.worst]:
            print(f"{d:+.3f} traf {ft:.3f} nf {fnf:.3f} (P {p:.3f} R {r:.3f}) {k}", file=sys.stderr)
    if a.min_f1 is not None and results["newsfacts"]["f1"] < a.min_f1:
        print(f"newsfacts F1 {results['newsfacts']['f1']:.3f} is below the floor {a.min_f1}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
