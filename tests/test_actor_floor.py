"""Quality floor for actors on the shared development set Reuters-128 (127 distinct Reuters economic
articles, entity-linked gold), scored by the shared scorer ../shared/tools/score_actors.py.

The texts go through the real flow (Prefect harness, real DuckDB, real GX) into a scratch warehouse;
the scorer then reads it (--no-run). Measured 2026-12-03 (docs/actors.md): recall 0.969, precision
0.910, type accuracy 0.972, within-document splits 0.051. These are development-set figures (the actor
rules were written while looking at this corpus), so the floors only guard against regressions; they
sit a little below the measured values.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

from tests.conftest import SHARED

GOLD = SHARED / "data" / "reuters-128" / "reuters-128.jsonl"
SCORER = SHARED / "tools" / "score_actors.py"
FLOORS = {"recall": 0.955, "precision": 0.895, "type_acc": 0.955}
MAX_SPLITS = 0.07


def _scorer():
    spec = importlib.util.spec_from_file_location("score_actors", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_reuters_128_actor_floor(tmp_path, prefect_harness, gazetteer_path):
    if not GOLD.exists() or not SCORER.exists():
        pytest.skip(f"shared Reuters-128 or scorer not found under {SHARED}")
    from newsfacts.flow import newsfacts_flow

    gold, _ = _scorer().load_gold([str(GOLD)])
    src = tmp_path / "in"  # the scorer's own layout, so --no-run maps documents by file name
    src.mkdir()
    for doc in gold:
        (src / f"doc{doc['n']:04d}.txt").write_text(doc["text"], encoding="utf-8")
    newsfacts_flow(source=str(src), warehouse_path=str(tmp_path / "wh.duckdb"))
    mins = [a for k, v in FLOORS.items() for a in ("--min", f"{k}={v}")]
    run = subprocess.run([sys.executable, str(SCORER), str(GOLD), "--keep", str(tmp_path), "--no-run",
                          "--examples", "0", *mins], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    splits = float(re.search(r"units split within a document\s+([\d.]+)", run.stdout).group(1))
    assert splits <= MAX_SPLITS, run.stdout
