"""Faults: a run killed in any stage, a failing gate, a full disk never touch the published warehouse,
and the next run finishes the work without duplicates.

The real CLI runs in a subprocess (``newsfacts run --source S --warehouse W``). ``NEWSFACTS_FAULT=kill:<stage>``
makes the pipeline SIGKILL itself at that stage (see ``newsfacts.faults``); a full disk is a file size limit
(RLIMIT_FSIZE) set in the child, where CPython ignores SIGXFSZ so writes fail with EFBIG.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import duckdb
import pytest
from newsfacts.faults import STAGES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CLI = Path(sys.executable).with_name("newsfacts")
FIRST, SECOND = "000_9ca8ce40a0d588c5.txt", "003_cbbee4fbff1a1da0.txt"
CONTENT = ["raw_documents", "documents", "sentences", "entity_mentions", "toponym_mentions", "actor_mentions",
           "dim_actor", "fact_actor_mention", "dim_location", "fact_location_mention",
           "fact_actor_location_cooccurrence"]


def _run(source: Path, wh: Path, fault: str | None = None, expectations: Path | None = None,
         fsize: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("NEWSFACTS_FAULT", None)
    tag = env["NEWSFACTS_TEST_RUN_TAG"] = uuid.uuid4().hex
    if fault:
        env["NEWSFACTS_FAULT"] = fault
    if expectations:
        env["NEWSFACTS_EXPECTATIONS_DIR"] = str(expectations)

    def limit_file_size():
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    cmd = [str(CLI), "run", "--source", str(source), "--warehouse", str(wh)]
    # Own process group: a SIGKILLed run cannot stop its ephemeral Prefect server, so the test does.
    # Output goes to files, not pipes: a server child that outlives a killed run would hold a pipe open.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True, preexec_fn=limit_file_size,
                                start_new_session=True)
        try:
            proc.wait(timeout=900)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            _kill_tagged(tag)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())


def _kill_tagged(tag: str) -> None:
    """SIGKILL what a killed run left behind (its ephemeral Prefect server runs in a session of its own)."""
    marker = f"NEWSFACTS_TEST_RUN_TAG={tag}".encode()
    for proc_dir in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if marker in (proc_dir / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc_dir.name), signal.SIGKILL)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _counts(wh: Path) -> dict[str, int]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in CONTENT}
    finally:
        con.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, prefect_harness, gazetteer_path):
    """A published warehouse holding one seed, and a source folder that now holds two (runs report to the
    session's Prefect server)."""
    tmp = tmp_path_factory.mktemp("faults")
    src = tmp / "inbox"
    src.mkdir()
    shutil.copy(SEEDS / FIRST, src / FIRST)
    wh = tmp / "published" / "newsfacts.duckdb"
    first = _run(src, wh)
    assert first.returncode == 0, first.stderr[-3000:]
    shutil.copy(SEEDS / SECOND, src / SECOND)
    return dict(tmp=tmp, src=src, wh=wh, digest=_digest(wh), counts=_counts(wh), log={})


@pytest.mark.parametrize("stage", STAGES)
def test_kill_in_any_stage_leaves_the_published_warehouse_as_it_was(lab, stage):
    """Runs accumulate: each kill happens on top of whatever the previous killed runs left behind."""
    run = _run(lab["src"], lab["wh"], fault=f"kill:{stage}")
    lab["log"][f"kill:{stage}"] = run.returncode
    assert run.returncode == -signal.SIGKILL, run.stderr[-3000:]
    assert _digest(lab["wh"]) == lab["digest"]
    assert _counts(lab["wh"]) == lab["counts"]
    assert _unstored(lab["wh"]) == []


def _unstored(wh: Path) -> list[str]:
    """Hashes the working database's committed rows name that the raw store lacks (must be none)."""
    from newsfacts.config import Settings
    from newsfacts.rawstore import RawStore

    settings = Settings().with_overrides(warehouse=str(wh))
    con = duckdb.connect(str(settings.working_db), read_only=True)
    try:
        hashes = [h for (h,) in con.execute("select content_hash from raw_documents union select content_hash "
                                            "from quarantine where content_hash is not null").fetchall()]
    finally:
        con.close()
    return RawStore(settings.raw_store).missing(hashes)


def test_an_exception_in_a_stage_fails_plainly_and_publishes_nothing(lab):
    """Transform runs on every run that has work to publish (earlier kills left committed, unpublished work)."""
    run = _run(lab["src"], lab["wh"], fault="raise:transform")
    assert run.returncode == 1
    assert "injected fault at stage transform" in run.stderr and "nothing published" in run.stderr
    assert _digest(lab["wh"]) == lab["digest"]


def test_a_failing_gate_never_publishes(lab):
    suites = lab["tmp"] / "strict-expectations"
    shutil.copytree(ROOT / "expectations", suites, dirs_exist_ok=True)
    suite = json.loads((suites / "input_files.json").read_text())  # the accounting gate runs on every run
    suite["expectations"].append({"type": "expect_column_values_to_be_in_set",
                                  "kwargs": {"column": "status", "value_set": ["impossible"]}})
    (suites / "input_files.json").write_text(json.dumps(suite, indent=2))
    run = _run(lab["src"], lab["wh"], expectations=suites)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "nothing published" in run.stderr and "input_files" in run.stderr
    assert _digest(lab["wh"]) == lab["digest"]


def test_a_full_disk_fails_cleanly_and_keeps_the_previous_warehouse(lab):
    size = lab["wh"].stat().st_size
    run = _run(lab["src"], lab["wh"], fsize=size // 2)
    assert run.returncode == 1, run.stdout[-2000:]
    # The limit applies to every file the run writes; Prefect's own state database is usually the first to hit
    # it ("disk I/O error"), the working DuckDB file otherwise ("File too large").
    assert "run failed, nothing published (the previous warehouse is unchanged)" in run.stderr
    assert any(word in run.stderr for word in ("File too large", "No space", "disk I/O error", "EFBIG"))
    assert _digest(lab["wh"]) == lab["digest"]
    assert not list(lab["wh"].parent.glob(".*.publishing"))


def test_the_next_run_completes_the_work_without_duplicates(lab):
    run = _run(lab["src"], lab["wh"])
    assert run.returncode == 0, run.stderr[-3000:]
    reference_wh = lab["tmp"] / "reference" / "newsfacts.duckdb"
    reference = _run(lab["src"], reference_wh)
    assert reference.returncode == 0, reference.stderr[-3000:]
    recovered = _counts(lab["wh"])
    assert recovered == _counts(reference_wh)
    assert recovered["documents"] == 2
    con = duckdb.connect(str(lab["wh"]), read_only=True)
    try:
        assert con.execute("select count(*) - count(distinct doc_id) from documents").fetchone()[0] == 0
        assert con.execute("select count(*) from dq_results where not success and run_id = (select run_id from "
                           "pipeline_runs where status = 'published' order by started_at desc limit 1)"
                           ).fetchone()[0] == 0
    finally:
        con.close()
