"""The HTML report, rendered in headless Chromium with the network off."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from newsfacts import report

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
ARTIFACTS = Path(os.environ.get("NEWSFACTS_TEST_ARTIFACTS", ROOT / "tests" / "artifacts"))


def test_report_command_writes_one_self_contained_file(seeds_warehouse, tmp_path):
    out = tmp_path / "r.html"
    run = subprocess.run([sys.executable, "-m", "newsfacts.cli", "report", "--warehouse", str(seeds_warehouse),
                          "--output", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    page = out.read_text(encoding="utf-8")
    # Nothing that could fetch: no external URLs in src/href, no @import or url(), a CSP that forbids requests.
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#|data:)""", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page
    bad = subprocess.run([sys.executable, "-m", "newsfacts.cli", "report", "--warehouse", str(seeds_warehouse),
                          "--since", "yesterday"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_since_filters_documents(seeds_warehouse):
    con = duckdb.connect(str(seeds_warehouse), read_only=True)
    try:
        everything = report.render(con)
        future = report.render(con, since="2999-01-01")
    finally:
        con.close()
    assert everything.count('class="marker"') > 0
    assert future.count('class="marker"') == 0 and "documents dated 2999-01-01 or later" in future


def test_counts_cover_every_story_and_namesakes_stay_apart(seeds_warehouse, tmp_path, monkeypatch):
    """The report reads editions only for the stories it lists, yet counts every story; mentions are counted
    per actor id, so two actors who share a name are two rows, not one row with both counts."""
    wh = tmp_path / "copy.duckdb"
    wh.write_bytes(seeds_warehouse.read_bytes())
    con = duckdb.connect(str(wh))
    try:
        stories = con.execute("select count(distinct coalesce(story_id, doc_id)) from documents").fetchone()[0]
        actor_id, name, doc_id = con.execute(
            "select a.actor_id, a.name, min(m.doc_id) from dim_actor as a inner join fact_actor_mention as m "
            "using (actor_id) group by all having count(distinct m.doc_id) > 1 order by a.actor_id limit 1"
        ).fetchone()
        con.execute("insert into dim_actor select * replace (actor_id || '-namesake' as actor_id) from dim_actor "
                    "where actor_id = $1", [actor_id])
        con.execute("update fact_actor_mention set actor_id = actor_id || '-namesake' "
                    "where actor_id = $1 and doc_id = $2", [actor_id, doc_id])
        monkeypatch.setattr(report, "LIST_LIMIT", 1)
        page = report.render(con)
    finally:
        con.close()
    assert stories > 1 and f"<b>{stories:,}</b><span>stories</span>" in page
    assert page.count('<details class="story"') == 1
    top_actors = page.split('<div id="top-actors">', 1)[1].split("</div>\n", 1)[0]
    assert top_actors.count(f"<td>{report._e(name)}</td>") == 2


def test_report_renders_offline_in_chromium_with_one_marker_per_place(seeds_warehouse, tmp_path, browser):
    out = report.write(seeds_warehouse, tmp_path / "report.html")
    con = duckdb.connect(str(seeds_warehouse), read_only=True)
    places = {r[0] for r in con.execute("select location_id from dim_location").fetchall()}
    quarantined = con.execute("select source_uri from quarantine").fetchall()
    unresolved = con.execute(
        "select count(*) from (select distinct surface, reason from unresolved_toponym union all "
        "select distinct surface, location_id from fact_location_mention where method = 'enclosing')").fetchone()[0]
    con.close()
    assert places and quarantined, "the seeds fixture resolves places and quarantines one empty file"
    blocked, failed, errors = [], [], []
    context = browser.new_context(viewport={"width": 1300, "height": 900}, offline=True)

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    markers = page.locator("#map circle.marker")
    shown = {markers.nth(i).get_attribute("data-location-id") for i in range(markers.count())}
    assert markers.count() == len(places) and shown == places
    assert page.locator("#map path.land").count() > 150, "the basemap draws the world's countries"
    assert page.locator("#map path.land.hit").count() >= 1
    radius = [float(markers.nth(i).get_attribute("r")) for i in range(markers.count())]
    assert max(radius) > min(radius), "markers are sized by mentions"
    # the zoom button rescales the view and the markers with it, in the page's own script
    before = page.locator("#map").get_attribute("viewBox")
    page.click("#zoom-in")
    assert page.locator("#map").get_attribute("viewBox") != before
    page.click("#zoom-reset")
    assert page.locator("#top-actors tbody tr").count() > 0
    assert page.locator("#top-places tbody tr").count() > 0
    assert page.locator("#timeline rect").count() >= 2
    assert page.locator("#stories details.story").count() >= 1
    assert page.locator("#unresolved tbody tr").count() == min(unresolved, report.LIST_LIMIT)
    assert "empty.txt" in page.locator("#quarantine").inner_text()
    assert "all passed" in page.locator("#quality").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    context.close()
    print(f"report screenshot: {shot}")
    assert shot.stat().st_size > 10_000
    assert blocked == [] and failed == [] and errors == []
