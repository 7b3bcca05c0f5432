"""Shared fixtures: real DuckDB files in tmp paths, the real gazetteer, a real Prefect harness."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSFACTS_SHARED", ROOT.parent / "shared"))
# Offline like production: no telemetry from the test Prefect server or from GX.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
SEEDS = ROOT / "seeds"
GOLD = SHARED / "gold" / "seeds.json"


@pytest.fixture(scope="session")
def gold() -> dict:
    return json.loads(GOLD.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def gazetteer_path() -> Path:
    """The real gazetteer, built once into data/ (reused across runs, rebuilt on version change)."""
    from newsfacts.config import Settings
    from newsfacts.gazetteer import ensure_gazetteer

    path = Settings().gazetteer
    ensure_gazetteer(path)
    return path


@pytest.fixture(scope="session")
def prefect_harness():
    """One real, temporary Prefect server for the whole session (it takes ~15 s to start)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        # Command-line runs in subprocesses report to this same server instead of each starting its own
        # (about 10 s each); tests of a new user's first run remove PREFECT_* from their environment.
        os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()
        try:
            yield
        finally:
            os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    return dest


@pytest.fixture(scope="session")
def seeds_warehouse(tmp_path_factory, prefect_harness, gazetteer_path) -> Path:
    """A published warehouse of the seeds plus one empty file (quarantined), built once by the real flow."""
    from newsfacts.flow import newsfacts_flow

    tmp = tmp_path_factory.mktemp("seeds_warehouse")
    src = tmp / "inbox"
    shutil.copytree(SEEDS, src)
    (src / "empty.txt").write_bytes(b"")
    wh = tmp / "newsfacts.duckdb"
    newsfacts_flow(source=str(src), warehouse_path=str(wh))
    return wh


CHROMIUM = Path(os.environ.get("NEWSFACTS_CHROMIUM", "/usr/bin/chromium"))
ENABLE_BROWSER = "`make browser` (Debian's chromium, as root) or set NEWSFACTS_CHROMIUM to a Chromium binary"


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright, one per session. Without Chromium the browser tests skip with
    the reason, except where NEWSFACTS_REQUIRE_BROWSER=1 (CI), where that is a failure."""
    if not CHROMIUM.exists():
        why = f"Chromium not found at {CHROMIUM}: {ENABLE_BROWSER} to run the browser tests"
        if os.environ.get("NEWSFACTS_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        # The flags keep Chromium off the network it cannot reach here (background updates, sync, QUIC).
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()
