import pytest
from newsfacts.geocode import geocode

TEXT = ("Putin said Moscow would seize Pokrovsk and Myrnograd in eastern Ukraine’s Donetsk region. "
        "“Krasnoarmeysk and Dimitrov are surrounded,” he said. Troops advanced on Hulyaipole in the "
        "Zaporizhzhia region. Kyiv and Washington talked; a drone hit south of St Petersburg.")


def _span(text, s):
    i = text.index(s)
    return [i, i + len(s)]


@pytest.mark.slow
def test_resolution_with_spans():
    names = ["Moscow", "Pokrovsk", "Myrnograd", "Krasnoarmeysk", "Dimitrov", "Hulyaipole", "Kyiv",
             "Washington", "St Petersburg", "Donetsk region", "Zaporizhzhia region", "Qwxzlandia"]
    out = next(geocode([{"id": "a", "text": TEXT + " Qwxzlandia.", "spans": [_span(TEXT + " Qwxzlandia.", n)
                                                                            for n in names]}]))
    got = dict(zip(names, out["places"], strict=True))
    assert got["Moscow"]["geonameid"] == 524901
    assert got["Pokrovsk"]["geonameid"] == 704422
    assert got["Krasnoarmeysk"]["geonameid"] == 704422
    assert got["Myrnograd"]["geonameid"] == 710035 and got["Dimitrov"]["geonameid"] == 710035
    assert got["Hulyaipole"]["geonameid"] == 707898
    assert got["Kyiv"]["geonameid"] == 703448
    assert got["Washington"]["geonameid"] == 4140963
    assert got["St Petersburg"]["country_code"] == "RU"
    assert got["Donetsk region"]["iso3166_2"] == "UA-14"
    assert got["Zaporizhzhia region"]["iso3166_2"] == "UA-23"
    assert got["Qwxzlandia"] is None
    assert all(0 <= p["confidence"] <= 1 for p in out["places"] if p)


@pytest.mark.slow
def test_resolution_without_spans_finds_toponyms():
    out = next(geocode([{"id": "b", "text": "Russia struck Kharkiv and Odesa, Ukraine said."}]))
    assert {p["name"] for p in out["places"]} >= {"Russia", "Kharkiv", "Odesa"}
