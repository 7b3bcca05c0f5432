import duckdb
import pytest
from newsfacts.gazetteer import attach
from newsfacts.toponyms import find_toponyms, load_lookup, mention_from_span


@pytest.fixture(scope="module")
def lookup():
    con = duckdb.connect()
    attach(con)
    return load_lookup(con)


def surfaces(rows):
    return {r["surface"]: r for r in rows}


@pytest.mark.slow
def test_finds_places_despite_ner_labels(lookup):
    body = ("Governor Alexander Gusev said Kyiv and Sumy were hit, while Russian troops entered "
            "the Luhansk and Donetsk regions.")
    ents = [(0, 30, "PERSON"), (30, 34, "PERSON")]
    got = surfaces(find_toponyms(body, ents, lookup))
    assert "Kyiv" in got and "Sumy" in got
    assert got["Luhansk"]["qualifier"] == "region" and got["Donetsk regions"]["qualifier"] == "region"
    assert not any("Gusev" in s or "Russian" in s for s in got)


@pytest.mark.slow
def test_context_keys(lookup):
    body = ("Troops encircled Pokrovsk and Myrnograd in eastern Ukraine’s Donetsk region. "
            "He met Trump in Odesa, Ukraine.")
    got = surfaces(find_toponyms(body, [], lookup))
    assert got["Pokrovsk"]["context_key"] == "donetsk" and got["Myrnograd"]["context_key"] == "donetsk"
    assert got["Odesa"]["context_key"] == "ukraine"


@pytest.mark.slow
def test_refuses_acronym_orgs_and_directions(lookup):
    body = "Ukraine wants to join NATO, backed by the West."
    got = surfaces(find_toponyms(body, [(22, 26, "ORG")], lookup))
    assert set(got) == {"Ukraine"}


@pytest.mark.slow
def test_mention_from_span(lookup):
    body = "He lives in Paris, Tenn. near the Donetsk Oblast."
    assert mention_from_span(body, 12, 17, lookup)["context_key"] == "tenn"
    m = mention_from_span(body, 34, 48, lookup)
    assert m["qualifier"] == "region" and m["name_key"] == "donetsk"


@pytest.mark.slow
def test_county_abbreviation_and_canadian_province_context(lookup):
    """ "Loudon Co." is Loudon County; "London, Ont." names Ontario as London's container."""
    body = "A Loudon Co. man died. He was from London, Ont. and had moved."
    m = mention_from_span(body, 2, 12, lookup)
    assert m["qualifier"] == "county" and m["name_key"] == "loudon county"
    assert mention_from_span(body, 35, 41, lookup)["context_key"] == "ont"
    got = surfaces(find_toponyms(body, [], lookup))
    assert got["Loudon Co."]["qualifier"] == "county"


def test_a_land_named_as_its_own_nationality_is_still_a_place(lookup):
    """aigeodb gives "UK", "New Zealand" and "Hong Kong" as nationalities; written alone they are the land."""
    text = "Cases rose in the UK, New Zealand and Hong Kong, British officials said."
    ents = [(text.index(w), text.index(w) + len(w), "GPE") for w in ("UK", "New Zealand", "Hong Kong")]
    found = surfaces(find_toponyms(text, ents, lookup))
    assert {"UK", "New Zealand", "Hong Kong"} <= set(found) and "British" not in found


def test_a_span_knows_its_sentence():
    """Spans given to geocode carry a sentence index, so an unknown name can be placed by its sentence's town."""
    text = 'Crowds met in Lyon. Then "Qwxz Street" filled.\nAnother line.'
    rows = [mention_from_span(text, text.index(w), text.index(w) + len(w)) for w in ("Lyon", "Qwxz", "Another")]
    assert [r["sentence_idx"] for r in rows] == [0, 1, 2]


@pytest.mark.slow
def test_a_name_ner_calls_a_body_or_person_before_a_role_is_not_a_place(lookup):
    """ "Delta spokesman", "Marseille coach", "Guerrero's wife": the actor reading wins over the namesake place;
    the same names with place evidence stay places."""
    body = ("Delta spokesman Morgan Durrant spoke. Marseille coach Elie Baup said so. Guerrero's wife was there. "
            "Floods hit Marseille and the Guerrero state.")
    at = body.index
    ents = [(0, 5, "ORG"), (at("Marseille"), at(" coach"), "ORG"), (at("Guerrero"), at("'s wife"), "PERSON"),
            (at("Marseille and"), at(" and the"), "GPE")]
    got = find_toponyms(body, ents, lookup)
    assert {(r["surface"], r["start_char"]) for r in got} == {
        ("Marseille", at("Marseille and")), ("Guerrero state", at("Guerrero state"))}
