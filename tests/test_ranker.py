"""The learned place ranker: its model files, batch scoring in DuckDB, and what it decides on real text."""

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from newsfacts import ranker
from newsfacts.geocode import geocode

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "flows" / "newsfacts" / "models"


def _spans(text, names):
    return [[text.index(n), text.index(n) + len(n)] for n in names]


def _places(text, names):
    out = next(geocode([{"id": "a", "text": text, "spans": _spans(text, names)}]))
    return dict(zip(names, out["places"], strict=True))


def test_model_files_record_their_training():
    """Every model file names its features, seed and cross-corpus figures; the metadata matches the code."""
    meta = json.loads((MODELS / "places_ranker.meta.json").read_text())
    assert meta["seed"] == 17 and set(meta["cross_corpus"]) == {"lgl", "geovirus"}
    assert meta["features"]["full"] == ranker.PRIOR_NUMERIC + ranker.CONTEXT_NUMERIC + ranker.PRIOR_CATEGORICAL
    for held_out in ("lgl", "geovirus"):
        m = ranker.Ranker.load(MODELS / f"places_ranker.without_{held_out}.json")
        assert held_out not in m.meta["trained_on"]
        assert m.full.numeric == ranker.PRIOR_NUMERIC + ranker.CONTEXT_NUMERIC
    shared = ROOT.parent / "shared"
    for corpus, d in meta["data"].items():
        path = shared / d["path"]
        if path.exists():  # the data the models were trained on is the data beside the repository
            assert hashlib.sha256(path.read_bytes()).hexdigest() == d["sha256"], corpus


def test_scores_a_whole_table_in_one_batch():
    """score_table fills the score column of every row of a real DuckDB table, most populous reading first."""
    prod = ranker.Ranker.load(MODELS / "places_ranker.json")
    con = duckdb.connect()
    con.execute("""
        create table int_toponym_candidates as
        select 'd' as doc_id, 0 as start_char, 'city' as kind, 'geonames' as origin, 'exact' as method,
               'official' as name_type, null::varchar as qualifier, f as feature_code,
               log10(p + 1) as log_population, true as as_written, false as surface_upper,
               false as surface_dotted, 6 as name_length, false as is_calendar_word, false as is_demonym_word,
               2 as candidates, log10(9000001) - log10(p + 1) as population_gap,
               case when p > 1000 then 1 else 2 end as population_rank, 0 as country_readings,
               null::double as base_score
        from (values ('PPLC', 9000000), ('PPL', 300)) as t(f, p)""")
    ranker.score_table(con, "int_toponym_candidates", "base_score", prod.prior)
    scores = con.execute("select feature_code, base_score from int_toponym_candidates").fetchall()
    assert len(scores) == 2 and all(s is not None for _, s in scores)
    assert dict(scores)["PPLC"] > dict(scores)["PPL"]


def test_each_row_gets_its_own_score_on_a_table_of_many_row_groups():
    """Scores go back by position: on a table of several row groups (DuckDB scans those in parallel), each
    row's score is what the model gives that row's features, and no other column changes."""
    prod = ranker.Ranker.load(MODELS / "places_ranker.json")
    con = duckdb.connect()
    con.execute("""
        create table t as
        select i as id, 'd' || (i // 7) as doc_id, 0 as start_char, 'city' as kind, 'geonames' as origin,
               'exact' as method, 'official' as name_type, null::varchar as qualifier,
               case when i % 3 = 0 then 'PPLC' else 'PPL' end as feature_code, (i % 997) / 100 as log_population,
               i % 2 = 0 as as_written, false as surface_upper, false as surface_dotted, 6 as name_length,
               false as is_calendar_word, false as is_demonym_word, 1 + i % 5 as candidates,
               (i % 13) / 2 as population_gap, 1 + i % 4 as population_rank, i % 3 as country_readings,
               null::double as base_score
        from range(300000) as r(i)""")
    before = con.execute("select * exclude (base_score) from t order by id").df()
    ranker.score_table(con, "t", "base_score", prod.prior)
    after = con.execute("select * from t order by id").df()
    expected = prod.prior.predict(before[prod.prior.numeric + list(prod.prior.categorical)])
    assert after.drop(columns="base_score").equals(before)
    assert len(set(expected.round(6))) > 50 and (after["base_score"].to_numpy() == expected).all()


def test_model_file_is_selectable_and_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSFACTS_PLACES_MODEL", str(tmp_path / "absent.json"))
    with pytest.raises(FileNotFoundError, match="train-places"):
        ranker.current()
    monkeypatch.setenv("NEWSFACTS_PLACES_MODEL", str(MODELS / "places_ranker.without_lgl.json"))
    assert "lgl" not in ranker.current().meta["trained_on"]


@pytest.mark.slow
def test_explicit_container_beats_the_world_city():
    """"London, Ontario" is in Canada; a bare London in a story about England is England's."""
    text = "Police in London, Ontario, closed the road."
    assert _places(text, ["London"])["London"]["country_code"] == "CA"
    text = "The train from Manchester reached London late; England's rail network was slow."
    got = _places(text, ["Manchester", "London", "England"])
    assert got["London"]["country_code"] == "GB" and got["Manchester"]["country_code"] == "GB"


@pytest.mark.slow
def test_unknown_name_goes_to_the_town_its_sentence_names():
    """A street no gazetteer has lies in the one town its sentence names, flagged enclosing, at most half sure."""
    text = ("Crowds filled Qwxz Street in New Orleans on Tuesday. "
            "Louisiana officials said the parade would go on.")
    got = _places(text, ["Qwxz Street", "New Orleans", "Louisiana"])
    assert got["New Orleans"]["geonameid"] == 4335045
    street = got["Qwxz Street"]
    assert street["method"] == "enclosing" and street["geonameid"] == 4335045 and street["confidence"] <= 0.5
