"""``newsfacts serve`` end to end: a real Prefect server on a free loopback port, the served
deployments, a schedule that fires on its own, and a backfill started from the UI in headless Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from newsfacts.api import free_port

from tests.conftest import ROOT, SEEDS

pytestmark = pytest.mark.slow
ARTIFACTS = ROOT / "tests" / "artifacts"


def api(base: str, path: str, body: dict | None = None) -> tuple[int, object]:
    """One API call. A 503 is the server's answer to an error it marks retryable (its database busy while a
    scheduled run writes, say); Prefect's own client retries it with backoff, and so does this one."""
    for wait in (1, 2, 4, 8, None):
        req = urllib.request.Request(f"{base}{path}", data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"},
                                     method="GET" if body is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback test server
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, json.loads(exc.read() or b"null")
        if status != 503 or wait is None:
            return status, payload
        time.sleep(wait)
    raise AssertionError("unreachable")


def _up(base: str) -> bool:
    try:
        return api(base, "/health")[0] == 200
    except OSError:
        return False


def runs_of(base: str, deployment_id: str) -> list[dict]:
    return api(base, "/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}})[1]


def wait_for(predicate, timeout: float, what: str, poll: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def doc_count(wh: Path) -> int:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute("select count(*) from documents").fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, gazetteer_path):
    tmp = tmp_path_factory.mktemp("serve")
    inbox, extra, outside = tmp / "inbox", tmp / "extra", tmp / "outside"
    for folder in (inbox, extra, outside):
        folder.mkdir()
    seeds = sorted(SEEDS.glob("*"))
    for p in seeds[:2]:
        shutil.copy(p, inbox / p.name)
    shutil.copy(seeds[-1], extra / seeds[-1].name)
    shutil.copy(seeds[2], outside / seeds[2].name)
    port = free_port()
    wh = tmp / "warehouse" / "newsfacts.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # The allowed roots name only `extra`: the scheduled inbox must stay allowed all the same.
    env.update(NEWSFACTS_WAREHOUSE=str(wh), NEWSFACTS_INBOX=str(inbox), NEWSFACTS_LOCK_WAIT="600",
               NEWSFACTS_SOURCE_ROOTS=str(extra), NEWSFACTS_PREFECT_PORT=str(port),
               NEWSFACTS_GAZETTEER=str(gazetteer_path), PREFECT_HOME=str(tmp / "prefect-home"))
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115 - closed in teardown
    proc = subprocess.Popen([str(Path(sys.executable).with_name("newsfacts")), "serve", "--cron", "* * * * *"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/api"
    try:
        def served_deployments():
            if proc.poll() is not None:
                pytest.fail(f"newsfacts serve exited: {(tmp / 'serve.log').read_text()[-3000:]}")
            status, deps = api(base, "/deployments/filter", {}) if _up(base) else (0, [])
            return deps if status == 200 and len(deps) == 2 else None

        deps = wait_for(served_deployments, 240, "the two deployments to be served")
        yield dict(base=base, ui=f"http://127.0.0.1:{port}", wh=wh, extra=extra, outside=outside, proc=proc,
                   log=tmp / "serve.log", deployments={d["name"]: d["id"] for d in deps})
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_server_binds_to_loopback_only(served):
    """Every socket listening on the server's port is bound to 127.0.0.1 (read from /proc/net/tcp*)."""
    port = int(served["ui"].rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                listening.append(addr)
    assert listening and all(a == "0100007F" for a in listening), listening


def test_the_one_minute_schedule_fires_on_its_own_and_completes(served):
    dep = served["deployments"]["scheduled-inbox"]
    done = wait_for(lambda: [r for r in runs_of(served["base"], dep) if r["state_type"] == "COMPLETED"], 240,
                    "a scheduled run to complete")
    assert done[0]["name"].startswith("newsfacts")
    assert doc_count(served["wh"]) == 2


def test_a_wrong_parameter_type_is_refused_with_a_clear_message(served):
    dep = served["deployments"]["backfill"]
    status, body = api(served["base"], f"/deployments/{dep}/create_flow_run", {"parameters": {"force": "often"}})
    assert status in (409, 422) and "force" in json.dumps(body) and "boolean" in json.dumps(body)


def test_a_malformed_date_is_refused_before_the_run_exists(served):
    dep = served["deployments"]["backfill"]
    before = len(runs_of(served["base"], dep))
    status, body = api(served["base"], f"/deployments/{dep}/create_flow_run",
                       {"parameters": {"ingested_from": "last-week"}})
    assert status == 409 and "ingested_from" in json.dumps(body) and "last-week" in json.dumps(body)
    assert len(runs_of(served["base"], dep)) == before


def test_a_source_outside_the_allowed_folders_fails_the_run_and_changes_nothing(served):
    dep = served["deployments"]["backfill"]
    status, run = api(served["base"], f"/deployments/{dep}/create_flow_run",
                      {"parameters": {"source": str(served["outside"])}})
    assert status == 201, run
    final = wait_for(lambda: (r := api(served["base"], f"/flow_runs/{run['id']}")[1])["state_type"] in (
        "FAILED", "COMPLETED", "CRASHED") and r, 300, "the refused run to end")
    assert final["state_type"] == "FAILED"
    assert "outside the allowed source folders" in (final["state"]["message"] or "")
    logs = wait_for(lambda: [e["message"] for e in api(served["base"], "/logs/filter", {"logs": {"flow_run_id": {
        "any_": [run["id"]]}}})[1] if "Finished in state Failed" in e["message"]] and api(
        served["base"], "/logs/filter", {"logs": {"flow_run_id": {"any_": [run["id"]]}}})[1], 60, "the run's logs")
    assert not any("Traceback" in e["message"] for e in logs), "a refusal is one line, not a traceback"


def left_the_form(page, serve_log: Path, timeout_s: float = 180) -> None:
    """Wait for the UI to leave the run form after Submit, which it does once the server has created the run.
    The server's SQLite waits up to 60 s for a lock (its busy timeout) while a scheduled run writes, so a loaded
    machine can hold the create call that long; a failure says what the page and the server showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_url(lambda url: "/run?" not in url and not url.endswith("/run"), timeout=timeout_s * 1000)
    except PlaywrightTimeout:
        page.screenshot(path=str(ARTIFACTS / "backfill-submit-stuck.png"), full_page=True)
        shown = page.locator("[data-sonner-toast], [role=alert], [role=status]").all_inner_texts()
        raise AssertionError(f"the UI stayed on {page.url} {timeout_s:.0f} s after Submit; it showed {shown}; "
                             f"server log ends:\n{serve_log.read_text()[-3000:]}") from None


def test_backfill_from_the_ui_custom_run(served, browser):
    """What a new user does: open the UI (the one a fresh browser gets), go to the backfill deployment,
    Run → Custom run, type a folder and pick a date in the date field, submit, and see the run complete."""
    ARTIFACTS.mkdir(exist_ok=True)
    wait_for(lambda: doc_count(served["wh"]) >= 2 if served["wh"].exists() else False, 300, "the first publish")
    dep = served["deployments"]["backfill"]
    before = {r["id"] for r in runs_of(served["base"], dep)}
    today = datetime.now(UTC).date().isoformat()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(served["ui"] + "/")
    page.get_by_role("link", name="Deployments").first.click()
    assert "/v2/" in page.url, f"a fresh browser gets the V2 UI, not {page.url}"
    page.get_by_role("link", name="backfill").first.click()
    page.get_by_role("button", name="Run").first.click()
    page.get_by_text("Custom run", exact=True).click()
    form = page.locator("main")
    form.get_by_label("ingested_from (Optional)").wait_for()
    # Parameters render as typed fields with plain-text help (no "None" tabs, no literal backticks).
    text = form.inner_text()
    assert "Property is type" not in text and "`" not in text, text
    assert "Folder or glob of news files, e.g. 2026-11-*/*.html" in text
    page.get_by_label("source (Optional)").fill(str(served["extra"]))
    page.get_by_label("ingested_from (Optional)").click()
    page.get_by_label("Date (yyyy-MM-dd)").fill(today)
    page.keyboard.press("Escape")
    page.screenshot(path=str(ARTIFACTS / "backfill-custom-run.png"), full_page=True)
    page.get_by_role("button", name="Submit").click()
    left_the_form(page, served["log"])
    page.screenshot(path=str(ARTIFACTS / "backfill-run-page.png"))
    page.close()
    new = wait_for(lambda: [r for r in runs_of(served["base"], dep) if r["id"] not in before], 60, "the UI's run")
    run_id = new[0]["id"]
    final = wait_for(lambda: (r := api(served["base"], f"/flow_runs/{run_id}")[1])["state_type"] in (
        "COMPLETED", "FAILED", "CRASHED") and r, 400, "the backfill run to end")
    assert final["state_type"] == "COMPLETED", final["state"]
    assert final["parameters"]["source"] == str(served["extra"]) and final["parameters"]["ingested_from"] == today
    assert "newsfacts" in final["name"] and str(served["extra"]) in final["name"]
    assert f"ingested from {today}" in final["name"]
    assert doc_count(served["wh"]) == 3
    artifacts = api(served["base"], "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})[1]
    kinds = {a["key"]: a for a in artifacts}
    assert {"newsfacts-run-summary", "newsfacts-run-report"} <= set(kinds)
    summary = {row["figure"]: row["value"] for row in json.loads(kinds["newsfacts-run-summary"]["data"])}
    # The new file is loaded; the two stored documents ingested today are cleaned again (the date range).
    assert summary["loaded"] == 1 and summary["re-cleaned"] == 2 and summary["published"] is True
    assert "Data Docs" in kinds["newsfacts-run-report"]["data"] and "report" in kinds["newsfacts-run-report"]["data"]


def test_stopping_serve_is_quiet(served):
    """Runs last in this module: stop `newsfacts serve` as an operator does and read its log."""
    served["proc"].send_signal(signal.SIGTERM)
    served["proc"].wait(timeout=60)
    log = served["log"].read_text()
    assert "never awaited" not in log and "Traceback" not in log, log[-3000:]
    assert "All deployments have been paused" in log
