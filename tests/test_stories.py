"""Stories: syndicated editions group, unrelated articles do not, signatures persist between runs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from newsfacts import stories

GOLD = Path("/work/shared/gold/seeds.json")


def _seed_bodies() -> list[tuple[str, str]]:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    return [(k[:3], "\n".join(v.get("body_lines_repaired") or v["body_lines"]))
            for k, v in sorted(gold.items()) if not k.startswith("_")]


needs_gold = pytest.mark.skipif(not GOLD.exists(), reason="shared gold not available")


@needs_gold
def test_seed_editions_group_and_nothing_else():
    rows = {r["doc_id"]: r for r in stories.assign_stories(_seed_bodies())}
    assert {d: r["story_id"] for d, r in rows.items()} == {
        "000": "000", "001": "001", "002": "001", "003": "003", "004": "004"}
    assert 0.2 < rows["002"]["similarity"] < 0.3
    assert rows["001"]["similarity"] is None


@needs_gold
def test_new_batch_matches_stored_signatures(tmp_path):
    bodies = _seed_bodies()
    first, later = [b for b in bodies if b[0] != "002"], [b for b in bodies if b[0] == "002"]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    run1 = stories.assign_stories(first)
    con.register("sigs", pd.DataFrame([s for r in run1 for s in r["signature"]]))
    con.execute("create table story_signatures as select * from sigs")
    con.register("docs", pd.DataFrame([{"doc_id": d, "body": b, "story_id": r["story_id"]}
                                       for (d, b), r in zip(first, run1, strict=True)]))
    con.execute("create table documents as select * from docs")
    con.close()

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.register("new_sigs", pd.DataFrame([s for d, b in later for s in stories.signature_rows(d, b)]))
    hits = con.execute("select s.doc_id, s.band, s.hash from story_signatures s "
                       "join new_sigs n using (band, hash)").fetchall()
    assert {h[0] for h in hits} == {"001"}
    story_of = dict(con.execute("select doc_id, story_id from documents").fetchall())

    def fetch(ids):
        return dict(con.execute("select doc_id, body from documents where doc_id in (select unnest($1))",
                                [ids]).fetchall())

    (row,) = stories.assign_stories(later, existing=hits, existing_story=story_of, fetch_bodies=fetch)
    assert row["story_id"] == "001" and row["matched_doc_id"] == "001"
    assert (con.execute("select count(*) from story_signatures").fetchone()[0]) == 4 * stories.BANDS
    con.close()


def test_unrelated_short_texts_stay_apart():
    a = "The central bank raised interest rates by half a point on Thursday, citing inflation.\n" * 3
    b = "Heavy rain flooded the valley overnight and hundreds of residents were evacuated by boat.\n" * 3
    rows = stories.assign_stories([("a", a), ("b", b)])
    assert [r["story_id"] for r in rows] == ["a", "b"]


@needs_gold
def test_shared_boilerplate_cannot_flood_the_candidates():
    """Earlier documents that collide with a new one in a band or two (shared boilerplate does that) are
    many; only the likeliest MAX_CANDIDATES are confirmed, and the real edition (most shared bands) wins."""
    bodies = dict(_seed_bodies())
    new_bands = stories.band_hashes(bodies["002"])
    crowd = {f"x{i:03d}": f"Local council number {i} approved a new budget for roads and parks after a long "
                          f"debate among members about schools and taxes in district {i}."
             for i in range(3 * stories.MAX_CANDIDATES)}
    existing = [(d, i % stories.BANDS, new_bands[i % stories.BANDS]) for i, d in enumerate(crowd)]
    existing += [("001", b, h) for b, h in enumerate(stories.band_hashes(bodies["001"]))]
    fetched: list[str] = []

    def fetch(ids):
        fetched.extend(ids)
        return {i: crowd.get(i) or bodies[i] for i in ids}

    new = stories.assign_stories([("002", bodies["002"])], existing=existing, fetch_bodies=fetch)
    assert new[0]["story_id"] == "001"
    assert fetched[0] == "001" and len(fetched) == stories.MAX_CANDIDATES


def test_many_editions_keep_buckets_bounded_and_one_story(tmp_path):
    """Sixty editions of one article (one unique line each), grouped over three batches through the warehouse:
    one story, and no LSH bucket ever holds more than BUCKET_CAP documents, so the next edition's candidates
    stay bounded however many editions came before."""
    from datetime import datetime

    from newsfacts import loads, warehouse

    paragraphs = [" ".join(f"word{p}x{i}" for i in range(40)) for p in range(6)]
    docs = [(f"{i:016x}", f"Edition line {i} says something new today.\n" + "\n".join(paragraphs))
            for i in range(60)]
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.append_rows(con, "documents", pd.DataFrame([
        dict(doc_id=d, content_hash=d * 4, source_uri=f"/in/{j:03d}.txt", body=b, story_id=d,
             cleaned_at=datetime(2026, 1, 1), run_id="r", pipeline_version="t") for j, (d, b) in enumerate(docs)]))
    for part in range(0, 60, 20):
        loads.group_stories(con, [d for d, _ in docs[part:part + 20]])
    assert con.execute("select count(distinct story_id) from documents").fetchone()[0] == 1
    assert con.execute("select max(n) from (select count(*) n from story_signatures group by band, hash)"
                       ).fetchone()[0] <= stories.BUCKET_CAP
    con.close()


_words = st.lists(st.sampled_from(["a", "b", "c", "D", "é", "İ", "naïve", "x1", "ß"]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_words, _words)
def test_hashed_jaccard_equals_the_shingle_set_jaccard(a, b):
    """Comparisons use sorted shingle hashes; they give the Jaccard of the shingle strings themselves."""
    x, y = " ".join(a), " ".join(b)
    sx, sy = stories.shingles(x), stories.shingles(y)
    expected = len(sx & sy) / len(sx | sy) if sx and sy else 0.0
    assert stories._jaccard_sorted(stories._gram_hashes(x), stories._gram_hashes(y)) == expected


@needs_gold
def test_story_does_not_depend_on_the_order_stored_signatures_arrive():
    """A parallel join returns stored signatures in any order; the stories assigned must not change with it."""
    bodies = dict(_seed_bodies())
    new_bands = stories.band_hashes(bodies["002"])
    crowd = {f"x{i:03d}": f"Council {i} approved a budget for roads and parks after a debate on schools in {i}."
             for i in range(3 * stories.MAX_CANDIDATES)}
    # Three crowd documents per bucket, each sharing one band with the new document: 60 tied candidates.
    existing = [(d, i // 3, new_bands[i // 3]) for i, d in enumerate(crowd)]
    existing += [("001", b, h) for b, h in enumerate(stories.band_hashes(bodies["001"]))]
    runs = []
    for seed in range(5):
        shuffled = existing[:]
        random.Random(seed).shuffle(shuffled)
        compared: list[str] = []

        def fetch(ids, compared=compared):
            compared.extend(ids)
            return {i: crowd.get(i) or bodies[i] for i in ids}

        (row,) = stories.assign_stories([("002", bodies["002"])], existing=shuffled, fetch_bodies=fetch)
        runs.append((row["story_id"], row["similarity"], sorted(compared)))
    assert runs[0][0] == "001" and all(r == runs[0] for r in runs)
