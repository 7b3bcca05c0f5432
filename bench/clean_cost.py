"""Cleaning against trafilatura alone, in one process, on the same pages: the ratio and where cleaning's time goes.

The two sides alternate over chunks of pages (trafilatura first on even chunks, cleaning first on odd ones),
each timed in process CPU time, for several rounds; each round clears the caches (ours and the libraries')
so no round reuses an earlier one's results. Reported: each round's ratio and their median.

- trafilatura alone: what ``bench/bench_pipeline.py`` times as the bound, ``trafilatura.extract(html)`` in
  its default mode on each page, gunzip and decoding included;
- cleaning: ``clean.clean_batch`` on the chunk's raw rows (the gzipped page as ingest stores it), what the
  flow's clean stage calls.

Then, unless ``--no-breakdown``, one more pass of cleaning over every page with each component wrapped in a
CPU-time counter (inclusive times: the metadata line includes its date and author lines).

    .venv/bin/python bench/clean_cost.py [--pages DIR] [--chunk 5] [--rounds 5] [--limit N]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import hashlib
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "flows"))

DEFAULT_PAGES = ROOT.parent / "shared" / "data" / "article-extraction-benchmark" / "html"
CACHED_MODULES = ("newsfacts", "trafilatura", "htmldate", "courlan", "justext", "py3langid", "ftfy", "dateparser")


def load_rows(folder: Path, limit: int | None) -> list[dict]:
    pages = sorted(folder.glob("*.html.gz"))[:limit]
    return [{"raw": p.read_bytes(), "source_uri": str(p), "content_hash": hashlib.sha256(p.read_bytes()).hexdigest()}
            for p in pages]


def clear_caches() -> None:
    """Empty the functools result caches of the modules cleaning and trafilatura use. Caches without a size
    limit or of at most a few entries hold set-ups built once per process (the date parser, compiled
    rules and expressions), as the models are, and stay."""
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(CACHED_MODULES):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_info", None)) and (value.cache_info().maxsize or 0) > 4:
                value.cache_clear()


def trafilatura_alone(rows: list[dict]) -> None:
    import trafilatura

    for row in rows:
        trafilatura.extract(gzip.decompress(row["raw"]).decode("utf-8", "replace"))


def cleaning(rows: list[dict]) -> None:
    from newsfacts import clean

    clean.clean_batch(rows, "bench")


def one_round(rows: list[dict], chunk: int) -> tuple[float, float]:
    clear_caches()
    spent = {trafilatura_alone: 0.0, cleaning: 0.0}
    for n, i in enumerate(range(0, len(rows), chunk)):
        part = rows[i: i + chunk]
        for side in ((trafilatura_alone, cleaning) if n % 2 == 0 else (cleaning, trafilatura_alone)):
            t = time.process_time()
            side(part)
            spent[side] += time.process_time() - t
    return spent[trafilatura_alone], spent[cleaning]


class Timers:
    """CPU time and calls per wrapped function; a wrapped function called inside another counts in both."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._undo: list[tuple[object, str, object]] = []

    def wrap(self, owner, attr: str, label: str | None = None, split=None) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            name = split(label or attr, args, kwargs) if split else (label or attr)
            t = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.process_time() - t
                self.calls[name] += 1

        self._undo.append((owner, attr, original))
        setattr(owner, attr, timed)

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()


def breakdown(rows: list[dict]) -> tuple[float, Timers]:
    import trafilatura
    import trafilatura.metadata
    from newsfacts import clean, encoding

    clear_caches()  # before wrapping: a wrapper hides its function's cache_clear
    timers = Timers()
    mode = lambda label, args, kwargs: f"{label} ({'precision' if kwargs.get('favor_precision') else 'default'})"  # noqa: E731
    timers.wrap(clean, "read_payload", "gunzip")
    timers.wrap(clean, "sniff_media_type", "sniff")
    timers.wrap(clean, "decode", "decode")
    timers.wrap(trafilatura.utils, "load_html", "parse (load_html)")
    timers.wrap(clean, "_page_metadata", "metadata")
    for attr in ("examine_meta", "extract_meta_json", "extract_title", "extract_author", "extract_url",
                 "extract_sitename", "find_date"):
        timers.wrap(trafilatura.metadata, attr, f"  metadata: {attr}")
    timers.wrap(clean, "_extract_author", "  metadata: author (_extract_author)")
    timers.wrap(trafilatura, "bare_extraction", "bare_extraction", split=mode)
    timers.wrap(clean, "_content_words", "content-word count")
    timers.wrap(clean, "_repair", "encoding repair (after extraction)")
    timers.wrap(encoding, "repair", "  ftfy repair, any caller")
    timers.wrap(clean, "_html_body", "rules (_html_body)")
    timers.wrap(clean, "_classify", "language id (classify)")
    timers.wrap(clean, "residual_damage", "residual damage check")
    t = time.process_time()
    try:
        cleaning(rows)
    finally:
        total = time.process_time() - t
        timers.restore()
    return total, timers


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=Path, default=DEFAULT_PAGES,
                    help="a folder of .html.gz pages (default: the extraction benchmark's 181; data/bench/corpus-1000 "
                         "is make bench's corpus)")
    ap.add_argument("--chunk", type=int, default=5, help="pages per chunk, alternating sides (default 5)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="the first N pages only")
    ap.add_argument("--no-breakdown", action="store_true")
    a = ap.parse_args()

    from newsfacts import clean

    rows = load_rows(a.pages, a.limit)
    clean.warm_up()  # the date parser's tables, as the flow builds them at start-up
    trafilatura_alone(rows[:3])
    cleaning(rows[:3])
    ratios, traf_s, ours_s = [], [], []
    print(f"{len(rows)} pages, chunks of {a.chunk}, {a.rounds} rounds, process CPU time")
    for r in range(a.rounds):
        traf, ours = one_round(rows, a.chunk)
        ratios.append(ours / traf)
        traf_s.append(traf)
        ours_s.append(ours)
        print(f"round {r + 1}: trafilatura alone {traf:6.2f} s, cleaning {ours:6.2f} s, ratio {ours / traf:.3f}",
              flush=True)
    print(f"median ratio {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"all rounds together {sum(ours_s) / sum(traf_s):.3f}")
    if not a.no_breakdown:
        total, timers = breakdown(rows)
        print(f"\nbreakdown, one pass of cleaning with timers: {total:.2f} s CPU (inclusive times)")
        for name, secs in sorted(timers.seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<44}{secs:7.2f} s {100 * secs / total:5.1f} %  {timers.calls[name]:5d} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
