"""`make eval`: every quality figure newsfacts reports, measured now, side by side with references.

1. the seeds gold (a real pipeline run on seeds/ into a scratch warehouse, scored by the shared scorer);
2. article-body extraction on the 181 benchmark pages (newsfacts vs trafilatura alone);
3. place resolution cross-corpus (each corpus with the ranker trained without it), then LGL in detail, and
   TUD-Loc-2013 when NEWSFACTS_TUD_LOC names its 0-all folder (it cannot be shared: CC BY-NC-SA);
4. actors on the shared development set Reuters-128 beside plain spaCy NER (shared scorer), and actor
   alias folding on tests/data/alias_cases.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def section(title: str, cmd: list[str]) -> int:
    print(f"\n== {title}\n$ {' '.join(cmd)}", flush=True)
    t = time.monotonic()
    rc = subprocess.run(cmd, cwd=ROOT).returncode
    print(f"(exit {rc}, {time.monotonic() - t:.0f} s)", flush=True)
    return rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    shared = Path(args.shared)
    py = sys.executable
    failures = 0
    with tempfile.TemporaryDirectory(prefix="newsfacts-eval-") as tmp:
        wh = Path(tmp) / "seeds.duckdb"
        failures += section("seeds: pipeline run", [str(Path(py).with_name("newsfacts")), "run", "--source",
                                                    str(ROOT / "seeds"), "--warehouse", str(wh)]) != 0
        failures += section("seeds: gold (all areas strict)", [py, str(shared / "tools/score_seeds.py"), str(wh),
                                                               "--strict", "clean", "locations", "actors",
                                                               "stories"]) != 0
    failures += section("article extraction benchmark (181 pages, shingle F1)",
                        [py, "bench/eval_extraction.py", "--data",
                         str(shared / "data/article-extraction-benchmark")]) != 0
    failures += section("places, cross-corpus first (GeoVirus, LGL; official scorer + end to end)",
                        [py, "bench/eval_places.py", "--shared", str(shared)]) != 0
    tud = os.environ.get("NEWSFACTS_TUD_LOC")
    if tud:
        failures += section("places on TUD-Loc-2013 (held out from training and every rule)",
                            [py, "bench/eval_tud_loc.py", tud]) != 0
    failures += section("LGL toponym resolution (production model: in-sample on LGL)",
                        [py, "bench/eval_lgl.py", "--lgl", str(shared / "data/lgl/lgl.xml")]) != 0
    failures += section("actors on Reuters-128 (development set: in-sample) beside plain spaCy NER",
                        [py, str(shared / "tools/score_actors.py"), str(shared / "data/reuters-128/reuters-128.jsonl"),
                         "--baseline-spacy", "--examples", "0"]) != 0
    failures += section("actor alias cases", [py, "bench/eval_actors.py"]) != 0
    failures += section("robustness: bad inputs, fuzz cases, faults", [py, "bench/eval_robustness.py"]) != 0
    print(f"\n{failures} evaluation step(s) failed" if failures else "\nall evaluation steps ran")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
