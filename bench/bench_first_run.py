"""A new user's first run, repeated: `newsfacts run` on the seeds, each time with a new, empty Prefect home
and a new warehouse folder, then one warm run on the last of them.

usage: .venv/bin/python bench/bench_first_run.py [--tries 10] [--fresh-gazetteer]

Prints one line per try (exit code, wall seconds; the output of each is kept in data/bench/first-run/) and a
summary; exits 1 unless every first run succeeded.
--fresh-gazetteer builds the gazetteer from scratch in the first try too (what a fresh clone pays once).
Wall times on this shared 2-core machine are noisy: the success count is the figure, times are context.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("newsfacts")


LOGS = ROOT / "data" / "bench" / "first-run"


def run(env: dict, name: str) -> tuple[int, float, str]:
    """One `newsfacts run`; its whole output is kept in data/bench/first-run/<name>.log."""
    started = time.monotonic()
    out = subprocess.run([str(CLI), "run", "--source", str(ROOT / "seeds")], env=env, capture_output=True, text=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{name}.log"
    log.write_text(out.stdout + out.stderr)
    said = [ln for ln in (out.stderr + out.stdout).splitlines() if ln.startswith(("newsfacts:", "RuntimeError"))]
    return out.returncode, time.monotonic() - started, f"{' / '.join(said[-2:])} (log: {log})"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tries", type=int, default=10)
    ap.add_argument("--fresh-gazetteer", action="store_true")
    a = ap.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    results, env = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.tries):
            folder = Path(tmp) / f"try{i}"
            env = {**base, "PREFECT_HOME": str(folder / "prefect-home"),
                   "NEWSFACTS_WAREHOUSE": str(folder / "newsfacts.duckdb")}
            if a.fresh_gazetteer and i == 0:
                env["NEWSFACTS_GAZETTEER"] = str(folder / "gazetteer.duckdb")
            code, seconds, tail = run(env, f"try{i + 1}")
            results.append((code, seconds))
            print(f"first run {i + 1:2d}/{a.tries}: exit {code}, {seconds:5.1f} s wall"
                  + ("" if code == 0 else f"\n    {tail}"), flush=True)
        code, warm, tail = run(env, "warm")
        print(f"warm run (same home, nothing new): exit {code}, {warm:.1f} s wall" + ("" if code == 0 else tail))
    ok = sum(c == 0 for c, _ in results)
    times = [s for _, s in results]
    print(f"first runs: {ok}/{len(results)} succeeded; wall median {statistics.median(times):.1f} s, "
          f"max {max(times):.1f} s; warm {warm:.1f} s")
    return 0 if ok == len(results) and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
