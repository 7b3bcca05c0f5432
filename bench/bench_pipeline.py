"""Benchmark the whole pipeline, gates included, on corpora of real news pages, against a bound measured
in the same run on the same texts.

Corpora: the 181 real pages of the extraction benchmark, and larger corpora of unique pages built from
them by ``bench/make_corpus.py`` (cached under ``data/bench``). Each corpus runs in a fresh worker
process that

1. starts up as ``newsfacts run`` does: Prefect's temporary server first, in its own process, then, while
   it comes up, imports, the gazetteer and toponym lookup, the spaCy model, the Great Expectations context
   and the date parser (each timed), then waits for the server;
2. runs the flow on the corpus into a scratch warehouse (the pipeline time);
3. runs it again over the unchanged corpus (the incremental time), then on 100 new documents of the same
   kind (an inbox's next batch) into the same warehouse: wall time, its stage times with transform and
   publishing apart, and the published file's size per document; then stops the server (shutdown);
4. measures the bound with the same number of processes (one): trafilatura alone on every page,
   then spaCy NER alone (only the ``ner`` component) on the English bodies the pipeline produced.

Around the worker, this process times trafilatura and NER on the corpus' first 100 pages, before and
after: the machine's speed drifts through a long run, and the bound is measured at its end.

Two ratios: the pipeline against the bound, and start-up, pipeline and shutdown together against it.

Before the corpora, a fresh process builds the gazetteer from the packaged data (time, peak memory over
the idle process) and another loads the toponym lookup from it (time, resident memory it adds);
``--no-gazetteer`` skips this.

This process samples the resident memory of the worker's whole process tree (the worker and the
Prefect server it starts) and reports the peak. Figures are docs/s and ratios measured in one run,
because this shared 2-core machine is noisy in absolute terms.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
SAMPLE_EVERY_S = 0.2


def _phase(name: str) -> None:
    print(f"@@phase {name}", flush=True)


def bound_seconds(source: Path, warehouse: Path, model: str, every: int = 1, only_source: bool = False) -> dict:
    """trafilatura alone on the pages, spaCy NER alone on the English bodies (every ``every``-th of each);
    with ``only_source``, the bodies of the documents read from ``source`` only (pages added to a larger
    warehouse)."""
    import duckdb
    import spacy
    import trafilatura

    pages = sorted(p for p in source.iterdir() if not p.name.startswith("."))[::every]
    t = time.monotonic()
    for p in pages:
        trafilatura.extract(gzip.decompress(p.read_bytes()).decode("utf-8", "replace"))
    extract_s = time.monotonic() - t
    nlp = spacy.load(model)
    nlp.select_pipes(enable=["ner"])
    con = duckdb.connect(str(warehouse), read_only=True)
    cur = con.execute("select body from (select body, row_number() over (order by doc_id) - 1 as i from documents "
                      "where language = 'en' and (not ? or starts_with(source_uri, ?))) "
                      f"where i % {int(every)} = 0", [only_source, str(source)])
    words = docs = 0
    ner_s = 0.0
    while chunk := [b for (b,) in cur.fetchmany(500)]:
        words += sum(len(b.split()) for b in chunk)
        docs += len(chunk)
        t = time.monotonic()
        for _ in nlp.pipe(chunk, batch_size=64):
            pass
        ner_s += time.monotonic() - t
    con.close()
    scale = 1.0 / (len(pages) / len(list(source.glob("*.html.gz")))) if every > 1 else 1.0
    return {"trafilatura": extract_s * scale, "spacy_ner": ner_s * scale, "bound": (extract_s + ner_s) * scale,
            "sampled_every": every, "english_docs_sampled": docs, "english_words_sampled": words}


CALIBRATION_PAGES = 100


def calibration_s(source: Path) -> float:
    """Seconds for trafilatura, then spaCy NER on its text, over the corpus' first pages.

    Measured before and after the pipeline (in this process, while the worker is not running): the bound is
    measured after the pipeline, so when the machine's speed drifts during a long run (it does, by up to a
    third here), the two calibrations show by how much and in which direction.
    """
    import spacy
    import trafilatura
    from newsfacts.config import Settings

    nlp = spacy.load(Settings().spacy_model)
    nlp.select_pipes(enable=["ner"])
    pages = sorted(p for p in source.iterdir() if p.name.endswith(".html.gz"))[:CALIBRATION_PAGES]
    html = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in pages]
    t = time.monotonic()
    texts = [trafilatura.extract(h) or "" for h in html]
    for _ in nlp.pipe(texts, batch_size=64):
        pass
    return time.monotonic() - t


ADDED_DOCS = 100


def added_documents(source: Path, folder: Path, n: int, shared: Path) -> Path:
    """``n`` new documents of the corpus' kind, numbered after its last one."""
    from make_corpus import benchmark_pages

    params = json.loads((source / ".complete.json").read_text())
    first = params["documents"] + len(benchmark_pages(shared))  # past every page's first copy: new text
    return new_documents(folder, first, n, shared, params["seed"], params.get("kind", "unique"))


def new_documents(folder: Path, first: int, n: int, shared: Path, seed: int | None = None,
                  kind: str = "unique") -> Path:
    """Documents ``first`` to ``first + n - 1`` of a bench corpus, written to ``folder`` (make_corpus' builder)."""
    from make_corpus import SEED, benchmark_pages, document, sentence_pool

    pages, pool = benchmark_pages(shared), sentence_pool(shared)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + n):
        name, data = document(i, pages, pool, SEED if seed is None else seed, kind)
        (folder / name).write_bytes(data)
    return folder


def load_for_run(settings) -> dict[str, float]:
    """What a run loads before its first document, each part timed: the gazetteer and toponym lookup, the
    spaCy model, GX's context, the date parser's tables."""
    from newsfacts import clean, entities, gates, gazetteer, ner

    steps = {"gazetteer": lambda: (gazetteer.ensure_gazetteer(settings.gazetteer),
                                   entities._lookup(str(settings.gazetteer))),
             "spacy_model": lambda: ner.load_model(settings.spacy_model),
             "great_expectations": lambda: gates._context(str(settings.gx_root)),
             "date_parser": clean.warm_up}
    seconds = {}
    for part, step in steps.items():
        t = time.monotonic()
        step()
        seconds[part] = time.monotonic() - t
    return seconds


def worker(source: Path, warehouse: Path, bound_every: int, started: float, shared: Path) -> dict:
    """One corpus in this process: start-up, first run, incremental run, shutdown, bound (see the module
    docstring). ``started``: when the worker's interpreter started."""
    _phase("startup")
    startup: dict[str, float] = {}
    t = time.monotonic()
    startup["interpreter"] = t - started
    from newsfacts.api import prefect_api
    from newsfacts.config import Settings

    settings = Settings().with_overrides(source=str(source), warehouse=str(warehouse))
    # As `newsfacts run` does it: Prefect's temporary server starts first, in its own process, and comes up
    # while this process imports and loads the rest; the parts are timed one after the other meanwhile.
    api = prefect_api(settings)
    api_ready = api.__enter__()
    startup["prefect_server_spawn"] = time.monotonic() - t
    t = time.monotonic()
    from newsfacts import clean, entities, gates, gazetteer, ner  # noqa: F401 - timed as imports
    from newsfacts.flow import newsfacts_flow
    startup["imports"] = time.monotonic() - t
    startup.update(load_for_run(settings))
    t = time.monotonic()
    api_ready()
    startup["prefect_server_wait"] = time.monotonic() - t
    startup["total"] = time.monotonic() - started

    _phase("pipeline")
    t = time.monotonic()
    summary = newsfacts_flow(source=str(source), warehouse_path=str(warehouse))
    pipeline_s = time.monotonic() - t
    _phase("incremental")
    t = time.monotonic()
    again = newsfacts_flow(source=str(source), warehouse_path=str(warehouse))
    incremental_s = time.monotonic() - t
    added = None
    if (source / ".complete.json").exists():
        _phase("add")
        extra = added_documents(source, warehouse.parent / "added", ADDED_DOCS, shared)
        t = time.monotonic()
        more = newsfacts_flow(source=str(extra), warehouse_path=str(warehouse))
        added = {"documents": ADDED_DOCS, "loaded": more["loaded"], "wall_s": time.monotonic() - t,
                 "stage_s": more["stage_seconds"], "warehouse_mb": settings.warehouse.stat().st_size / 2**20,
                 "warehouse_documents": more["documents"]}
    t = time.monotonic()
    api.__exit__(None, None, None)
    shutdown_s = time.monotonic() - t
    _phase("bound")
    bound = bound_seconds(source, warehouse, settings.spacy_model, bound_every)
    return {"startup_s": startup, "pipeline_s": pipeline_s, "incremental_s": incremental_s, "shutdown_s": shutdown_s,
            "bound": bound, "stage_s": summary["stage_seconds"], "incremental_stage_s": again["stage_seconds"],
            "inputs": summary["inputs"], "loaded": summary["loaded"], "quarantined": summary["quarantined"],
            "documents": summary["documents"], "incremental_unchanged": again["unchanged"], "added": added}


def gazetteer_worker(path: Path) -> dict:
    """Build the gazetteer from the packaged data into ``path``; then, in a fresh process, load the toponym
    lookup from it (a process that just built the gazetteer keeps the build's freed memory)."""
    from newsfacts import gazetteer

    _phase("gazetteer-build")
    t = time.monotonic()
    gazetteer.ensure_gazetteer(path)
    build_s = time.monotonic() - t
    probe = ("import json, time, psutil; from newsfacts import entities; me = psutil.Process(); "
             f"b = me.memory_info().rss; t = time.monotonic(); entities._lookup({str(path)!r}); "
             "print(json.dumps([time.monotonic() - t, (me.memory_info().rss - b) / 2**20]))")
    load_s, added_mb = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                                 check=True).stdout)
    return {"build_s": round(build_s, 1), "lookup_load_s": round(load_s, 1), "lookup_resident_mb": round(added_mb),
            "file_mb": round(path.stat().st_size / 2**20)}


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run_corpus(source: Path | None, bound_every: int, keep: Path | None = None, shared: Path | None = None) -> dict:
    """Run :func:`worker` (or, without a source, :func:`gazetteer_worker`) in a child process, sampling its
    process tree's memory per phase."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="newsfacts-bench-", dir=keep))
    log = tmp / "worker.log"
    # Before the worker's command line: it carries the start time its start-up is measured from.
    calibration = {"before_s": calibration_s(source)} if source is not None else None
    if source is None:
        cmd = [sys.executable, __file__, "--worker", "--warehouse", str(tmp / "gazetteer.duckdb")]
    else:
        cmd = [sys.executable, __file__, "--worker", "--source", str(source), "--warehouse",
               str(tmp / "bench.duckdb"), "--bound-every", str(bound_every), "--started", str(time.monotonic()),
               "--shared", str(shared)]
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "False"}  # offline: no telemetry
    peaks: dict[str, int] = {}
    state = {"phase": "startup", "result": None}
    with open(log, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)

        def sample() -> None:
            while proc.poll() is None:
                rss = _tree_rss(proc.pid)
                peaks[state["phase"]] = max(peaks.get(state["phase"], 0), rss)
                time.sleep(SAMPLE_EVERY_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        for line in proc.stdout:
            if line.startswith("@@phase "):
                state["phase"] = line.split(None, 1)[1].strip()
            elif line.startswith("@@result "):
                state["result"] = json.loads(line.split(None, 1)[1])
        proc.wait()
        sampler.join()
    if proc.returncode or state["result"] is None:
        raise RuntimeError(f"bench worker failed ({proc.returncode}) on {source}; log: {log}\n"
                           + log.read_text()[-3000:])
    if calibration is not None:
        calibration["after_s"] = calibration_s(source)
        state["result"]["calibration"] = calibration
    if keep is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return {**state["result"], "peak_rss_mb": {k: round(v / 2**20) for k, v in peaks.items()}}


def figures(n: int, r: dict) -> dict:
    stages = {k: v for k, v in r["stage_s"].items() if k != "gazetteer"}
    bound = r["bound"]
    return {
        "documents": n, "loaded": r["loaded"], "quarantined": r["quarantined"],
        "english_words": bound["english_words_sampled"] * bound["sampled_every"],
        "pipeline_s": round(r["pipeline_s"], 1), "docs_per_s": round(n / r["pipeline_s"], 2),
        "stage_s": stages, "stage_docs_per_s": {k: round(n / v, 1) for k, v in stages.items() if v > 0},
        "bound_s": {k: round(bound[k], 1) for k in ("trafilatura", "spacy_ner", "bound")},
        "bound_sampled_every": bound["sampled_every"],
        "ratio_to_bound": round(r["pipeline_s"] / bound["bound"], 2),
        "ratio_to_bound_with_startup": round((r["startup_s"]["total"] + r["pipeline_s"] + r["shutdown_s"])
                                             / bound["bound"], 2),
        "shutdown_s": round(r["shutdown_s"], 1),
        "incremental_s": round(r["incremental_s"], 1), "incremental_stage_s": r["incremental_stage_s"],
        "startup_s": {k: round(v, 1) for k, v in r["startup_s"].items()},
        "added": r.get("added"),
        # The pipeline's peak: start-up, first run and incremental run. The bound phase runs afterwards in the
        # same process with a second spaCy pipeline loaded, so it is reported by phase, not as the pipeline's.
        "peak_rss_mb": max(v for k, v in r["peak_rss_mb"].items() if k != "bound"),
        "peak_rss_mb_by_phase": r["peak_rss_mb"],
        "processes": 1,
        "calibration_s": {k: round(v, 2) for k, v in r.get("calibration", {}).items()},
    }


def _added_lines(a: dict | None) -> list[str]:
    if not a:
        return []
    st = a["stage_s"]
    return [f"  {a['documents']} new documents  {round(a['wall_s'], 1):>8} s (start-up excluded; transform "
            f"{st.get('transform', 0)} s, publish {st.get('publish', 0)} s); published file "
            f"{round(a['warehouse_mb'], 1)} MB, {round(a['warehouse_mb'] * 1024 / a['warehouse_documents'], 1)} KB"
            f" per document"]


def report(f: dict) -> list[str]:
    b = f["bound_s"]
    sampled = f" (estimated from every {f['bound_sampled_every']}th page)" if f["bound_sampled_every"] > 1 else ""
    su = f["startup_s"]
    return [
        f"newsfacts bench: {f['documents']} pages{' of near-identical editions' if f.get('kind') == 'editions' else ''}"
        f" ({f['loaded']} loaded, {f['quarantined']} quarantined, "
        f"{f['english_words']} words of clean English text), 1 process",
        f"  end to end          {f['docs_per_s']:>8} docs/s  ({f['pipeline_s']} s, start-up excluded)",
        *(f"  stage {k:<13} {v:>8} docs/s  ({f['stage_s'][k]} s)" for k, v in f["stage_docs_per_s"].items()),
        f"  bound{sampled}: trafilatura alone {b['trafilatura']} s + spaCy NER alone {b['spacy_ner']} s"
        f" = {b['bound']} s",
        f"  pipeline / bound    {f['ratio_to_bound']:>8}x (start-up and shutdown included:"
        f" {f['ratio_to_bound_with_startup']}x)",
        f"  incremental re-run  {f['incremental_s']:>8} s (unchanged inputs, start-up excluded)",
        *_added_lines(f.get("added")),
        f"  start-up            {su['total']:>8} s wall (interpreter {su['interpreter']}, imports {su['imports']},"
        f" gazetteer {su['gazetteer']}, spaCy {su['spacy_model']}, GX {su['great_expectations']}, date parser"
        f" {su['date_parser']}, while Prefect's server starts; then waiting for it {su['prefect_server_wait']})",
        f"  shutdown            {f['shutdown_s']:>8} s (Prefect's server stopped)",
        f"  peak memory         {f['peak_rss_mb']:>8} MB (pipeline, whole process tree; by phase "
        + ", ".join(f"{k} {v}" for k, v in f["peak_rss_mb_by_phase"].items()) + ")",
        *_calibration_lines(f.get("calibration_s")),
    ]


def _calibration_lines(c: dict | None) -> list[str]:
    if not c:
        return []
    return [f"  machine speed       {c['after_s'] / c['before_s']:>8.2f}x (trafilatura and NER on the first "
            f"{CALIBRATION_PAGES} pages: {c['before_s']} s before the pipeline, {c['after_s']} s after; above 1: "
            f"the machine was slower by the time the bound was measured)"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--sizes", default="181,1000", help="corpus sizes, comma-separated (181 = the real pages)")
    ap.add_argument("--edition-sizes", default="", help="sizes of corpora of near-identical editions (wire news), "
                    "comma-separated")
    ap.add_argument("--bound-every", type=int, default=0,
                    help="measure the bound on every k-th page (default: all pages up to 1,000, else every 10th)")
    ap.add_argument("--keep", help="keep the scratch warehouses under this folder")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--no-gazetteer", action="store_true", help="skip timing a gazetteer build")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--source", help=argparse.SUPPRESS)
    ap.add_argument("--warehouse", help=argparse.SUPPRESS)
    ap.add_argument("--started", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        result = (worker(Path(args.source), Path(args.warehouse), max(1, args.bound_every), args.started,
                         Path(args.shared))
                  if args.source
                  else gazetteer_worker(Path(args.warehouse)))
        print("@@result " + json.dumps(result), flush=True)
        return 0
    from make_corpus import ensure_corpus

    all_figures = []
    if not args.no_gazetteer:
        gaz = run_corpus(None, 1, Path(args.keep) if args.keep else None)
        rss = gaz["peak_rss_mb"]
        gaz["build_peak_added_mb"] = rss.get("gazetteer-build", 0) - rss.get("startup", 0)
        all_figures.append({"gazetteer": gaz})
        print(f"gazetteer build from packaged data: {gaz['build_s']} s ({gaz['file_mb']} MB file); peak memory "
              f"{rss.get('gazetteer-build')} MB, {gaz['build_peak_added_mb']:+} MB over the idle process; toponym "
              f"lookup {gaz['lookup_load_s']} s to load, {gaz['lookup_resident_mb']} MB resident", flush=True)
    corpora = [(int(s), "unique") for s in args.sizes.split(",") if s]
    corpora += [(int(s), "editions") for s in args.edition_sizes.split(",") if s]
    for n, kind in corpora:
        source = ensure_corpus(Path(args.shared), n, kind=kind)
        every = args.bound_every or (1 if n <= 1000 else 10)
        fig = figures(n, run_corpus(source, every, Path(args.keep) if args.keep else None, Path(args.shared))
                      ) | {"kind": kind}
        all_figures.append(fig)
        print("\n".join(report(fig)), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(all_figures, indent=1))
    return 0


if __name__ == "__main__":
    status = main()
    gc.collect()  # release cached DuckDB handles before shutdown (avoids spurious binding leak warnings)
    sys.exit(status)
