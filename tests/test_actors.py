"""Actor mentions: features from find_actor_mentions, the SQL fold on real DuckDB files, alias floor."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from newsfacts.actors import _occurrences, find_actor_candidates, find_actor_mentions

ROOT = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location("eval_actors", ROOT / "bench" / "eval_actors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ents(body: str, spans: list[tuple]) -> list[tuple[int, int, str]]:
    """NER-like spans from (label, surface[, n-th occurrence]) items."""
    out = []
    for label, surface, *nth in spans:
        m = list(re.finditer(re.escape(surface), body))[nth[0] if nth else 0]
        out.append((m.start(), m.end(), label))
    return out


def _mentions(body: str, spans, places=()):
    sents = [(m.start(), m.end()) for m in re.finditer(r"[^.\n]+[.\n]?", body)]
    return find_actor_mentions(body, _ents(body, spans), sents, list(places))


def test_titles_and_countries_from_context():
    body = ("US President Donald Trump met Russian leader Vladimir Putin. "
            "Reporting to Putin, Defense Minister Andrei Belousov spoke. "
            "Chief of the General Staff Valery Gerasimov agreed.")
    spans = [("PERSON", "Donald Trump"), ("PERSON", "Vladimir Putin"), ("PERSON", "Putin", 1),
             ("ORG", "Defense"), ("PERSON", "Andrei Belousov"), ("PERSON", "Valery Gerasimov")]
    rows = {r["surface"]: r for r in _mentions(body, spans)}
    assert (rows["Donald Trump"]["title"], rows["Donald Trump"]["country_code"]) == ("US President", "US")
    putin = rows["Vladimir Putin"]
    assert (putin["title"], putin["country_code"]) == ("Russian leader", "RU")
    assert rows["Andrei Belousov"]["title"] == "Defense Minister"
    assert rows["Andrei Belousov"]["country_code"] is None
    assert rows["Valery Gerasimov"]["title"] == "Chief of the General Staff"
    assert "Defense" not in rows


def test_appositive_counterpart_gives_country_not_title():
    body = "Zelensky’s Belarusian counterpart, Alexander Lukashenko, said it was terrorism."
    spans = [("PERSON", "Zelensky’s Belarusian"), ("PERSON", "Alexander Lukashenko")]
    (row,) = [r for r in _mentions(body, spans) if r["surface"] == "Alexander Lukashenko"]
    assert row["country_code"] == "BY" and row["title"] is None


def test_local_office_is_marked_for_place_country():
    body = "In the southwestern Voronezh region, Governor Alexander Gusev said a fire broke out."
    (row,) = _mentions(body, [("PERSON", "Alexander Gusev")], places=[(20, 28)])
    assert row["title"] == "Governor" and row["title_scope"] == "local" and row["country_code"] is None


def test_org_descriptor_and_possessive_country():
    body = "The Russian state-owned news agency RIA Novosti reported it. Russia’s Defense Ministry said more."
    rows = {r["surface"]: r for r in _mentions(body, [("ORG", "RIA Novosti"), ("ORG", "Defense Ministry")])}
    assert rows["RIA Novosti"]["country_code"] == "RU"
    assert rows["Russia’s Defense Ministry"]["actor_key"] == "defense ministry@ru"


def test_recovery_and_relabel():
    body = ("Volodymyr Zelensky spoke. Zelenskyy has expressed readiness.\n"
            "Belousov also said so. Andrei Belousov agreed. Donald Trump called. Then Trump said no.")
    rows = _mentions(body, [("PERSON", "Volodymyr Zelensky"), ("PERSON", "Andrei Belousov"),
                            ("PERSON", "Donald Trump"), ("ORG", "Trump", 1)])
    got = {(r["surface"], r["label"], r["source"]) for r in rows}
    assert ("Zelenskyy", "PERSON", "recovered") in got
    assert ("Belousov", "PERSON", "recovered") in got
    assert any(s == "Trump" and lab == "PERSON" for s, lab, _ in got)


def test_non_actors_dropped():
    body = ("Putin praised the new Oreshnik intermediate-range ballistic missile. "
            "A version of the Oreshnik hit a factory. Drones hit the Krasnodar region. "
            "Top Kyiv officials spoke. Arrow was seen.")
    rows = _mentions(body, [("PERSON", "Putin"), ("PERSON", "Oreshnik"), ("ORG", "Oreshnik", 1),
                            ("ORG", "Krasnodar"), ("PERSON", "Top Kyiv"), ("PERSON", "Arrow")],
                     places=[(body.index("Kyiv"), body.index("Kyiv") + 4)])
    assert [r["surface"] for r in rows] == ["Putin"]


def test_false_merge_guard_in_recovery():
    body = "Joe Biden spoke. Hunter Biden testified."
    rows = _mentions(body, [("PERSON", "Joe Biden")])
    assert [r["surface"] for r in rows] == ["Joe Biden"]


def test_coref_definite_description():
    body = "US President Donald Trump spoke. The American president said he believed him."
    rows = _mentions(body, [("PERSON", "Donald Trump")])
    coref = [r for r in rows if r["source"] == "coref"]
    assert len(coref) == 1 and coref[0]["actor_key"] == "donald trump" and coref[0]["country_code"] == "US"


def _warehouse(path: Path, docs: list[tuple[str, str, list]]) -> duckdb.DuckDBPyConnection:
    bench = _bench()
    con = duckdb.connect(str(path))
    rows, sents = [], []
    for doc_id, body, spans in docs:
        s = [(m.start(), m.end()) for m in re.finditer(r"[^.\n]+[.\n]?", body)]
        sents += [{"doc_id": doc_id, "sentence_idx": i, "paragraph_idx": 0, "start_char": a, "end_char": b}
                  for i, (a, b) in enumerate(s)]
        rows += [{"doc_id": doc_id, **r} for r in find_actor_mentions(body, _ents(body, spans), s, [])]
    bench.load_df(con, "documents", [{"doc_id": d, "body": b, "story_id": "s1" if d != "d3" else "d3"}
                                     for d, b, _ in docs])
    bench.load_df(con, "sentences", sents)
    bench.load_df(con, "actor_mentions", rows)
    con.execute("create table fact_location_mention (doc_id varchar, location_id varchar, start_char int, "
                "end_char int, surface varchar, sentence_idx int)")
    con.execute("create table dim_location (location_id varchar, name varchar, country_code varchar)")
    bench.run_actor_models(con)
    return con


def test_sql_fold_across_documents(tmp_path):
    con = _warehouse(tmp_path / "w.duckdb", [
        ("d1", "Ukrainian President Volodymyr Zelensky spoke. Mr Zelensky said NATO would help.",
         [("PERSON", "Volodymyr Zelensky"), ("PERSON", "Zelensky", 1), ("ORG", "NATO")]),
        ("d2", "Volodymyr Zelenskyy and Olena Zelenska arrived. Zelenska spoke. Nato agreed.",
         [("PERSON", "Volodymyr Zelenskyy"), ("PERSON", "Olena Zelenska"), ("PERSON", "Zelenska", 1),
          ("ORG", "Nato")]),
        ("d3", "Zelensky met Andrei Belousov and economist Yelena Belousova.",
         [("PERSON", "Zelensky"), ("PERSON", "Andrei Belousov"), ("PERSON", "Yelena Belousova")]),
    ])
    actors = con.execute("select name, actor_type, country_code, title, mention_count, doc_count, "
                         "story_count from dim_actor order by name").df()
    names = list(actors["name"])
    assert names == ["Andrei Belousov", "NATO", "Olena Zelenska", "Volodymyr Zelensky", "Yelena Belousova"]
    zel = actors[actors["name"] == "Volodymyr Zelensky"].iloc[0]
    assert (zel["mention_count"], zel["doc_count"], zel["story_count"]) == (4, 3, 2)
    assert zel["country_code"] == "UA" and zel["title"] == "Ukrainian President"
    counts = con.execute("select story_count from actor_counts where name = 'NATO'").fetchone()
    assert counts == (1,)
    con.close()


def test_an_acronym_linked_in_one_document_is_that_organisation_in_others(tmp_path):
    """IPAC is linked to its full name where both are written; a document writing IPAC alone joins it. CDC,
    linked to two different names, keeps its own key where it stands alone."""
    con = _warehouse(tmp_path / "w.duckdb", [
        ("d1", "The Inter-Parliamentary Alliance on China (IPAC) warned. Centers for Disease Control (CDC) agreed.",
         [("ORG", "Inter-Parliamentary Alliance on China"), ("ORG", "IPAC"), ("ORG", "Centers for Disease Control"),
          ("ORG", "CDC")]),
        ("d2", "IPAC members met in Prague. The CDC said little.", [("ORG", "IPAC"), ("ORG", "CDC")]),
        ("d3", "The Caribbean Development Company (CDC) grew.", [("ORG", "Caribbean Development Company"),
                                                                ("ORG", "CDC")]),
    ])
    actor = dict(con.execute("select doc_id || ':' || surface, actor_id from fact_actor_mention").fetchall())
    assert actor["d2:IPAC"] == actor["d1:IPAC"] == actor["d1:Inter-Parliamentary Alliance on China"]
    assert actor["d1:CDC"] == actor["d1:Centers for Disease Control"]
    assert actor["d3:CDC"] == actor["d3:Caribbean Development Company"] != actor["d1:CDC"]
    assert actor["d2:CDC"] not in (actor["d1:CDC"], actor["d3:CDC"])
    aliases = con.execute("select aliases from dim_actor where actor_id = ?", [actor["d2:IPAC"]]).fetchone()[0]
    assert set(aliases) == {"IPAC", "Inter-Parliamentary Alliance on China"}
    con.close()


def test_alias_cases_floor():
    cases = json.loads((ROOT / "tests" / "data" / "alias_cases.json").read_text(encoding="utf-8"))
    assert len(cases) >= 30
    r = _bench().alias_eval()
    assert r["precision"] == 1.0
    assert r["recall"] >= 0.92


def _candidates(body: str, spans, places=()):
    sents = [(m.start(), m.end()) for m in re.finditer(r"[^.\n]+[.\n]?", body)]
    return find_actor_candidates(body, _ents(body, spans), sents, list(places))


def test_dropped_candidates_carry_a_reason():
    body = ("Troops shelled Kharkiv. The Oreshnik missile flew. Under Secretary of Commerce Bruce Smart spoke. "
            "It was 91 degrees Kelvin. Bonds rose against Treasury notes.")
    rows = _candidates(body, [("PERSON", "Kharkiv"), ("ORG", "Oreshnik"), ("ORG", "Commerce"),
                              ("PERSON", "Bruce Smart"), ("PERSON", "Kelvin"), ("ORG", "Treasury")],
                       places=[(body.index("Kharkiv"), body.index("Kharkiv") + 7)])
    reasons = {r["surface"]: r["drop_reason"] for r in rows}
    assert reasons["Bruce Smart"] is None
    assert reasons["Kharkiv"].startswith("place")
    assert reasons["Oreshnik"].startswith("thing")
    assert reasons["Commerce"].startswith("title fragment")
    assert reasons["Kelvin"] == "thing: a unit"
    assert reasons["Treasury"].startswith("thing: a financial instrument")
    assert {r["surface"] for r in find_actor_mentions(body, _ents(body, [("PERSON", "Bruce Smart")]), [], [])} \
        == {"Bruce Smart"}


def test_organisation_extents_keep_demonyms_places_and_new():
    body = ("British Airways and US Airways cut fares. The New York Stock Exchange opened. "
            "Mousavi spoke to the British Broadcasting Corporation. "
            "An audit went to the Georgia Public Service Commission. First Boston Corp led it.")
    spans = [("ORG", "British Airways"), ("ORG", "US Airways"), ("ORG", "New York Stock Exchange"),
             ("ORG", "British Broadcasting Corporation"), ("ORG", "Georgia Public Service Commission"),
             ("ORG", "First Boston Corp")]
    got = {r["surface"] for r in _mentions(body, spans)}
    assert {"British Airways", "US Airways", "New York Stock Exchange", "British Broadcasting Corporation",
            "Georgia Public Service Commission", "First Boston Corp"} <= got


def test_extents_end_before_an_open_bracket_and_a_score():
    """NER often stops inside "(CAIR)" or runs on into a score: neither is part of the name."""
    body = ("The Council on American-Islamic Relations (CAIR) condemned it. A CAIR spokesman spoke. "
            "Fulham 2-1 was the score, and Channel 4 showed it.")
    spans = [("ORG", "Council on American-Islamic Relations (CAIR"), ("ORG", "CAIR", 1), ("ORG", "Fulham 2-1"),
             ("ORG", "Channel 4")]
    rows = {r["surface"]: r["actor_key"] for r in _mentions(body, spans)}
    assert rows["Council on American-Islamic Relations"] == rows["CAIR"]
    assert "Fulham" in rows and "Channel 4" in rows  # a score goes, a number in a name stays
    assert not any("(" in s or "2-1" in s for s in rows)


def test_numbered_facilities_are_places_not_actors():
    body = "Flights left Terminal 5 and Gate B for Pier 39. Terminal Velocity Inc said so."
    rows = _candidates(body, [("ORG", "Terminal 5"), ("ORG", "Gate B"), ("ORG", "Pier 39"),
                              ("ORG", "Terminal Velocity Inc")])
    reasons = {r["surface"]: r["drop_reason"] for r in rows}
    assert reasons["Terminal 5"] == "place: a facility ('Terminal 5')"
    assert reasons["Gate B"].startswith("place: a facility") and reasons["Pier 39"].startswith("place: a facility")
    assert reasons["Terminal Velocity Inc"] is None


def test_unmarked_possessives_do_not_make_new_actors():
    body = ("Pennzoil Co sued Texaco. Two courts upheld Pennzoils position. "
            "Eastman Kodak Co sold notes. Eastman Kodaks outstanding issues are rated AAA.")
    rows = _mentions(body, [("ORG", "Pennzoil Co"), ("ORG", "Texaco"), ("ORG", "Pennzoils"),
                            ("ORG", "Eastman Kodak Co"), ("PERSON", "Eastman Kodaks")])
    surfaces = [r["surface"] for r in rows]
    assert "Pennzoils" not in surfaces and "Eastman Kodaks" not in surfaces
    keys = {r["surface"]: (r["actor_key"], r["label"]) for r in rows}
    assert keys["Pennzoil"] == keys["Pennzoil Co"] == ("pennzoil", "ORG")
    assert keys["Eastman Kodak"] == ("eastman kodak", "ORG")


def test_acronyms_and_short_forms_link_to_the_full_name_in_the_document():
    body = ("Shares rose on the New York Stock Exchange. NYSE officials said so. "
            "Dillon, Read and Co Inc advised Dominion Textile Inc. Dominion said the Ministry of "
            "International Trade and Industry (MITI) agreed. The Senate Budget Committee met; the Senate voted.")
    spans = [("ORG", "New York Stock Exchange"), ("ORG", "NYSE"), ("ORG", "Dominion Textile Inc"),
             ("ORG", "Dominion", 1), ("ORG", "Ministry of International Trade and Industry"), ("ORG", "MITI"),
             ("ORG", "Senate Budget Committee"), ("ORG", "Senate", 1)]
    rows = {r["surface"]: r["actor_key"] for r in _mentions(body, spans)}
    assert rows["NYSE"] == rows["New York Stock Exchange"] == "new york stock exchange"
    assert rows["Dominion"] == rows["Dominion Textile Inc"] == "dominion textile"
    assert rows["MITI"] == rows["Ministry of International Trade and Industry"]
    assert rows["Dillon, Read and Co Inc"] == "dillon read"  # the pattern layer: NER found nothing here
    assert rows["Senate"] != rows["Senate Budget Committee"]  # a committee is part of the Senate, not it


def test_metonymy_parties_state_bodies_and_clubs():
    body = ("Labour MPs voted against the bill. The U.K. Government agreed; the Russian military did not.\n"
            "In the league match Liverpool beat Fulham 2-1 at home. The coach praised the striker. "
            "Fans flew in from London.")
    spans = [("NORP", "Labour"), ("GPE", "U.K."), ("NORP", "Russian"), ("GPE", "Liverpool"), ("GPE", "Fulham"),
             ("GPE", "London")]
    places = [(body.index(w), body.index(w) + len(w)) for w in ("Liverpool", "Fulham", "London")]
    rows = {r["surface"]: r for r in _mentions(body, spans, places)}
    assert rows["Labour"]["actor_key"] == "labour party" and rows["Labour"]["label"] == "ORG"
    assert rows["U.K. Government"]["actor_key"] == "government@gb"
    assert "Russian military" not in rows  # a lower-case description, not a name
    assert rows["Liverpool"]["label"] == rows["Fulham"]["label"] == "ORG"
    assert "London" not in rows


def test_namesakes_stay_apart():
    body = "Nick Saban coached Alabama. His wife Terry Saban watched. Gerald Ford and Betty Ford met Ford."
    rows = _mentions(body, [("PERSON", "Nick Saban"), ("PERSON", "Terry Saban"), ("PERSON", "Gerald Ford"),
                            ("PERSON", "Betty Ford")])
    keys = {r["surface"]: r["actor_key"] for r in rows}
    assert len({keys["Nick Saban"], keys["Terry Saban"], keys["Gerald Ford"], keys["Betty Ford"]}) == 4


def test_metonymy_needs_its_context():
    """No sports copy, no club; a surname the document writes in full stays a person beside its company."""
    body = ("Russia won approval for the deal. In the final season of talks, China faces a penalty. "
            "Donald Trump spoke. The Trump Organization said Trump would sell.")
    spans = [("GPE", "Russia"), ("GPE", "China"), ("PERSON", "Donald Trump"), ("ORG", "Trump Organization"),
             ("PERSON", "Trump", 2)]
    places = [(body.index(w), body.index(w) + len(w)) for w in ("Russia", "China")]
    rows = {r["surface"]: r for r in _mentions(body, spans, places)}
    assert "Russia" not in rows and "China" not in rows
    assert rows["Trump"]["label"] == "PERSON" and rows["Trump"]["actor_key"] != rows["Trump Organization"]["actor_key"]


def test_any_span_over_any_text_gives_valid_rows():
    """NER spans can be anything (punctuation only, a lone legal form, overlapping): the actor stage
    never raises and every row points at real, non-empty text."""
    import random

    rnd = random.Random(0)
    words = ["Acme", "Inc", "and", "Co", ",", "by", "the", "Bank", "of", "France", "—", "&", "U.S.", "Labour",
             "'s", "s", "Jr", "van", "der", "2-1", "beat", "Liverpool", "Government", "NYSE", "called", "Kelvin",
             "\n", "..", "’", "match", "coach", "league"]
    for _ in range(1000):
        body = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 25)))
        ents = []
        for _ in range(rnd.randint(0, 6)):
            a = rnd.randint(0, len(body))
            b = rnd.randint(a, min(len(body), a + 30))
            if b > a:
                ents.append((a, b, rnd.choice(["PERSON", "ORG", "GPE", "NORP"])))
        for r in find_actor_candidates(body, sorted(ents), [(0, len(body))], []):
            assert r["end_char"] > r["start_char"] and body[r["start_char"]:r["end_char"]] == r["surface"]


@settings(max_examples=300, deadline=None)
@given(body=st.text(st.sampled_from(list("AB ab_1.-é(’")), max_size=40),
       name=st.text(st.sampled_from(list("AB ab_1.-é(’")), min_size=1, max_size=4))
def test_whole_word_occurrences_match_the_regex_they_replace(body, name):
    r"""`_recover` finds an organisation's further mentions with str.find; the starts must be what
    `re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)")` gives, including names inside words, underscores,
    non-ASCII letters and repeated, overlapping names."""
    expected = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", body)]
    assert list(_occurrences(body, name)) == expected


def test_whole_word_occurrences_examples():
    assert list(_occurrences("Apple, Apples and AppleApple Apple", "Apple")) == [0, 29]


def test_org_pairs_skipped_without_a_shared_word_never_abbreviate():
    """`_link_orgs` compares only pairs that `may_abbreviate` lets through; for every pair of these names
    it holds back, `_abbreviates` says 0 (no link), so skipping them changes no key."""
    from newsfacts.actors import _abbreviates, _OrgName, load_rules

    rules = load_rules()
    names = ["NYSE", "New York Stock Exchange", "Texacos", "Texaco Inc", "the Bank", "Bank of France", "Dominion",
             "Dominion Textile Inc", "Philips", "NV Philips Gloeilampenfabrieken", "Bache Securities", "Securities",
             "CAIR", "Council on American-Islamic Relations", "Reuters", "Senate", "Senate Budget Committee", "IBM"]
    entries = [_OrgName([w.lower() for w in n.split()], n.split(), n, "", "ORG", []) for n in names]
    linked = skipped = 0
    for a in entries:
        for b in entries:
            tier = _abbreviates(a.low, a.raw, b, rules)
            linked += tier > 0
            if not a.may_abbreviate(b):
                skipped += 1
                assert tier == 0, (a.raw, b.raw)
    assert linked >= 8 and skipped >= 150


def test_a_plural_inside_a_name_is_no_unmarked_possessive():
    body = ("Two statisticians of the National Center for Health Statistics, part of the Centers for Disease "
            "Control and Prevention, wrote the report. The Center said so.")
    rows = _mentions(body, [("ORG", "the National Center for Health Statistics"),
                            ("ORG", "the Centers for Disease Control and Prevention")])
    surfaces = [r["surface"] for r in rows]
    assert "Centers for Disease Control and Prevention" in surfaces


def test_party_context_word_at_the_end_of_its_sentence():
    body = "The Liberal Democrats backed the government. The Liberal Democrats dance troupe sold tickets."
    rows = _mentions(body, [("NORP", "Liberal Democrats")])
    assert [(r["start_char"], r["label"]) for r in rows if r["surface"] == "Liberal Democrats"][:1] == \
        [(body.index("Liberal"), "ORG")]  # "government." ends the sentence: still a word about politics
    other = _mentions("The Liberal Democrats dance troupe sold tickets.", [("NORP", "Liberal Democrats")])
    assert not other  # no politics in the sentence: a group, no actor


def test_a_place_before_a_team_position_and_a_person_is_the_team():
    """One sentence, no other sport words: the position between place and person says it is a team."""
    body = "Italy coach Cesare Prandelli said the defeat was unfair, and Texas governor Rick Perry agreed."
    rows = _mentions(body, [("GPE", "Italy"), ("PERSON", "Cesare Prandelli"), ("GPE", "Texas"),
                            ("PERSON", "Rick Perry")])
    labels = {r["surface"]: r["label"] for r in rows}
    assert labels.get("Italy") == "ORG" and labels.get("Cesare Prandelli") == "PERSON"
    assert "Texas" not in labels  # a governor is no team position: the state stays a place


def test_an_organisation_ner_missed_is_named_before_a_post_and_a_person():
    body = ("It is different, Dodgers manager Don Mattingly said. Then Harmonix co-founder Alex Rigopulos spoke. "
            "Assistant coach Bob Jones left. Hall of Fame receiver Jerry Rice and Obama adviser David Axelrod came.")
    spans = [("PERSON", "Don Mattingly"), ("PERSON", "Alex Rigopulos"), ("PERSON", "Bob Jones"),
             ("PERSON", "Jerry Rice"), ("PERSON", "Obama"), ("PERSON", "David Axelrod")]
    orgs = {r["surface"] for r in _mentions(body, spans) if r["label"] == "ORG"}
    # not a lone sentence opener ("Assistant"), not the end of a longer name ("Fame"), not a person NER found
    assert orgs == {"Dodgers", "Harmonix"}
