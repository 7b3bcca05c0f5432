"""Benchmark the whole pipeline on the 181 real article pages, against a bound measured in the same run.

The bound is what the pipeline cannot avoid: trafilatura extraction alone plus spaCy NER alone
(only the NER components) on the same texts. Figures are printed as documents/second and as the
ratio pipeline / bound, because this shared 2-core machine is noisy in absolute terms.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bound_seconds(pages: list[Path], bodies: list[str], model: str) -> dict[str, float]:
    """trafilatura alone on the pages and spaCy NER alone (tok2vec+ner) on the clean bodies."""
    import spacy
    import trafilatura

    t = time.monotonic()
    for p in pages:
        trafilatura.extract(gzip.decompress(p.read_bytes()).decode("utf-8", "replace"))
    extract_s = time.monotonic() - t
    nlp = spacy.load(model, disable=["tagger", "parser", "lemmatizer", "attribute_ruler", "senter"])
    t = time.monotonic()
    for _ in nlp.pipe(bodies, batch_size=64):
        pass
    ner_s = time.monotonic() - t
    return {"trafilatura": extract_s, "spacy_ner": ner_s, "bound": extract_s + ner_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    pages = sorted((Path(args.shared) / "data/article-extraction-benchmark/html").glob("*.html.gz"))
    if not pages:
        print(f"no benchmark pages under {args.shared}", file=sys.stderr)
        return 2
    from newsfacts.config import Settings
    from newsfacts.flow import newsfacts_flow

    tmp = Path(tempfile.mkdtemp(prefix="newsfacts-bench-"))
    try:
        inbox = tmp / "inbox"
        inbox.mkdir()
        for p in pages:
            shutil.copy(p, inbox / p.name)
        wh = tmp / "bench.duckdb"
        t = time.monotonic()
        summary = newsfacts_flow(source=str(inbox), warehouse_path=str(wh))
        wall = time.monotonic() - t
        peak = peak_rss_mb()
        import duckdb

        con = duckdb.connect(str(wh), read_only=True)
        bodies = [b for (b,) in con.execute("select body from documents where language = 'en'").fetchall()]
        words = sum(len(b.split()) for b in bodies)
        con.close()
        t = time.monotonic()
        newsfacts_flow(source=str(inbox), warehouse_path=str(wh))
        incremental = time.monotonic() - t
        bound = bound_seconds(pages, bodies, Settings().spacy_model)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    stages = summary["stage_seconds"]
    work = sum(v for k, v in stages.items() if k != "gazetteer")
    n = len(pages)
    fig = {
        "documents": n, "words": words, "wall_s": round(wall, 2), "flow_body_s": summary["seconds"],
        "startup_s": round(wall - summary["seconds"] + stages.get("gazetteer", 0), 2),
        "pipeline_s_excl_startup": round(work, 2), "docs_per_s": round(n / work, 1),
        "stage_docs_per_s": {k: round(n / v, 1) for k, v in stages.items() if v > 0 and k != "gazetteer"},
        "stage_s": stages, "bound_s": {k: round(v, 2) for k, v in bound.items()},
        "ratio_to_bound": round(work / bound["bound"], 2),
        "ratio_to_spacy_ner_alone": round(work / bound["spacy_ner"], 2),
        "incremental_rerun_wall_s": round(incremental, 2), "peak_rss_mb": round(peak, 0),
        "loaded": summary["loaded"], "quarantined": summary["quarantined"],
    }
    print(f"newsfacts bench: {n} real pages ({words} words of clean English text)")
    print(f"  end to end          {fig['docs_per_s']:>8} docs/s  ({fig['pipeline_s_excl_startup']} s, start-up "
          f"{fig['startup_s']} s excluded)")
    for k, v in fig["stage_docs_per_s"].items():
        print(f"  stage {k:<13} {v:>8} docs/s  ({stages[k]} s)")
    print(f"  bound: trafilatura alone {bound['trafilatura']:.2f} s + spaCy NER alone {bound['spacy_ner']:.2f} s"
          f" = {bound['bound']:.2f} s")
    print(f"  pipeline / bound    {fig['ratio_to_bound']:>8}x   "
          f"(pipeline / NER alone {fig['ratio_to_spacy_ner_alone']}x)")
    print(f"  incremental re-run  {fig['incremental_rerun_wall_s']:>8} s wall (unchanged inputs)")
    print(f"  peak memory         {fig['peak_rss_mb']:>8} MB")
    if args.json:
        print(json.dumps(fig, indent=1))
    return 0


if __name__ == "__main__":
    status = main()
    gc.collect()  # release cached DuckDB handles before shutdown (avoids spurious binding leak warnings)
    sys.exit(status)
