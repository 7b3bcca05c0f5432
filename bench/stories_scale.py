"""Story grouping's cost at two warehouse sizes, through the stage's own functions (no flow, no NER).

Synthetic near-duplicate editions, as wire news makes them and as ``make_corpus.py`` builds the bench corpus:
``BASES`` distinct articles of random words, each published as N / BASES editions with one unique line added,
so a story's editions grow with the corpus. The documents go into a real DuckDB file; ``loads.group_stories``
groups them batch by batch (500, the default batch size), as the flow does. Prints seconds per size, per
document, and the ratio of the per-document costs (1.0 = linear).

    .venv/bin/python bench/stories_scale.py 2000 8000
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "flows"))

from newsfacts import loads, warehouse  # noqa: E402

BASES = 181
BATCH = 500


def corpus(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(doc_id, body) of ``n`` editions of ``BASES`` stories, shuffled as arrival order would be."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20_000)]
    bases = ["\n".join(" ".join(rng.choices(vocab, k=rng.randint(40, 70))) for _ in range(rng.randint(5, 12)))
             for _ in range(BASES)]
    docs = []
    for i in range(n):
        base = bases[i % BASES]
        line = " ".join(rng.choices(vocab, k=12)) + f" edition {i}."
        docs.append((f"{i:016x}", f"{line}\n{base}"))
    rng.shuffle(docs)
    return docs


def run(n: int) -> tuple[float, int]:
    docs = corpus(n)
    with tempfile.TemporaryDirectory() as tmp:
        con = warehouse.connect(Path(tmp) / "w.duckdb")
        now = datetime(2026, 1, 1)
        frame = pd.DataFrame([dict(doc_id=d, content_hash=d * 4, source_uri=f"/in/{j:06d}.txt", body=b,
                                   story_id=d, cleaned_at=now, run_id="bench", pipeline_version="bench")
                              for j, (d, b) in enumerate(docs)])
        warehouse.append_rows(con, "documents", frame)
        started, cpu = time.perf_counter(), time.process_time()
        joined = 0
        for i in range(0, n, BATCH):
            con.execute("begin")
            joined += loads.group_stories(con, [d for d, _ in docs[i:i + BATCH]])
            con.execute("commit")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        stories = con.execute("select count(distinct story_id) from documents").fetchone()[0]
        con.close()
    print(f"{n:>6} documents: stories {seconds:7.1f} s wall ({cpu:.1f} s CPU), {1000 * seconds / n:6.2f} ms/document, "
          f"{joined} joined an earlier edition, {stories} stories (expected {min(n, BASES)})", flush=True)
    return seconds, cpu


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [2000, 8000]
    costs = [run(n) for n in sizes]
    for i, what in enumerate(("wall", "CPU")):
        ratio = (costs[-1][i] / sizes[-1]) / (costs[0][i] / sizes[0])
        print(f"per-document {what} time at {sizes[-1]} / at {sizes[0]}: {ratio:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
