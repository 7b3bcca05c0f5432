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
    # a name no gazetteer knows lies where its document is: Donetsk oblast, flagged and at most half sure
    assert got["Qwxzlandia"]["method"] == "enclosing" and got["Qwxzlandia"]["iso3166_2"] == "UA-14"
    assert got["Qwxzlandia"]["confidence"] <= 0.5
    assert {p["method"] for n, p in got.items() if n != "Qwxzlandia"} <= {"exact", "alias", "historic", "fuzzy",
                                                                         "context"}
    assert all(0 <= p["confidence"] <= 1 for p in out["places"] if p)


@pytest.mark.slow
def test_unknown_name_stays_unplaced_without_a_dominant_country():
    """With no country holding most of a document's places there is no enclosing region to fall back on."""
    got = _resolve("Talks in Moscow and Washington and Paris; Qwxzlandia was not invited.",
                   ["Moscow", "Washington", "Paris", "Qwxzlandia"])
    assert got["Moscow"]["country_code"] == "RU" and got["Paris"]["country_code"] == "FR"
    assert got["Qwxzlandia"] is None


@pytest.mark.slow
def test_resolution_without_spans_finds_toponyms():
    out = next(geocode([{"id": "b", "text": "Russia struck Kharkiv and Odesa, Ukraine said."}]))
    assert {p["name"] for p in out["places"]} >= {"Russia", "Kharkiv", "Odesa"}


def _resolve(text, names):
    out = next(geocode([{"id": "x", "text": text, "spans": [_span(text, n) for n in names]}]))
    return dict(zip(names, out["places"], strict=True))


@pytest.mark.slow
def test_feature_names_fall_back_to_their_namesake_place():
    """A name with no entry of its own ("Port of Los Angeles") is placed by the place it wraps, as fuzzy."""
    got = _resolve("Cargo at the Port of Los Angeles fell, officials in California said.",
                   ["Port of Los Angeles", "California"])
    assert got["Port of Los Angeles"]["geonameid"] == 5368361
    assert got["Port of Los Angeles"]["confidence"] < 1


@pytest.mark.slow
def test_demonym_spans_resolve_to_their_region_or_country():
    got = _resolve("Ohioans and Ontarians voted; Dagestani officials met.", ["Ohioans", "Ontarians", "Dagestani"])
    assert got["Ohioans"]["iso3166_2"] == "US-OH"
    assert got["Ontarians"]["iso3166_2"] == "CA-ON"
    assert got["Dagestani"]["iso3166_2"] == "RU-DA"


@pytest.mark.slow
def test_city_beats_small_namesake_region_and_near_places_pull_together():
    """Gaza the city (410,000 people) outweighs Mozambique's Gaza province (a region weighs like its people);
    Lancaster named beside Morecambe is the English town, not the bigger Lancaster of California."""
    got = _resolve("Israel said rockets were fired from Gaza.", ["Israel", "Gaza"])
    assert got["Gaza"]["country_code"] == "PS"
    got = _resolve("Shops in Morecambe and Lancaster give away bells.", ["Morecambe", "Lancaster"])
    assert got["Lancaster"]["country_code"] == "GB"


def _spans_of(text, names):
    return [_span(text, n) for n in names]


@pytest.mark.slow
def test_a_source_s_other_stories_place_its_bare_names():
    """A local paper's stories cluster in its home region: a bare "Paris" in the paper whose other stories
    name Lamar County, Reno and Texas is Paris, Texas. The same sentence with no source, or from a source
    of one story, is Paris, France; a country's name stays the country whatever the source."""
    home = ["Lamar County deputies met in Reno and Honey Grove, Texas.",
            "Fire crews from Clarksville and Detroit, Texas, helped at Pat Mayse Lake in Lamar County.",
            "Students from Blossom and Deport, Texas, won the Lamar County fair."]
    story = "The Paris council met on Tuesday; Mexico sent a delegation."
    records = [{"id": f"h{i}", "text": t, "url": f"https://www.theparisnews.example/news/{i}",
                "spans": _spans_of(t, [n for n in ("Lamar County", "Reno", "Honey Grove", "Texas", "Clarksville",
                                                   "Detroit", "Blossom", "Deport") if n in t])}
               for i, t in enumerate(home)]
    records.append({"id": "paris", "text": story, "url": "https://theparisnews.example/city/council",
                    "spans": _spans_of(story, ["Paris", "Mexico"])})
    records.append({"id": "alone", "text": story, "spans": _spans_of(story, ["Paris", "Mexico"])})
    records.append({"id": "other", "text": story, "url": "https://elsewhere.example/a",
                    "spans": _spans_of(story, ["Paris", "Mexico"])})
    out = {o["id"]: o["places"] for o in geocode(records)}
    paris, mexico = out["paris"]
    assert paris["country_code"] == "US"
    assert abs(paris["latitude"] - 33.66) < 0.3 and abs(paris["longitude"] + 95.56) < 0.3
    assert mexico["kind"] == "country" and mexico["country_code"] == "MX"
    for alone in ("alone", "other"):
        assert out[alone][0]["country_code"] == "FR", out[alone]


@pytest.mark.slow
def test_regions_seas_and_small_us_towns_no_geonames_dump_carries():
    """Curated regions and water bodies (rules/places.toml) and USPS place names fill what cities500 and the
    admin tables lack; a demonym of a curated region resolves to it."""
    text = ("Troops left South Ossetia; South Ossetian leaders and the European Union met. Ships in the "
            "Black Sea turned back. In Harwinton, Litchfield County, voters met.")
    got = _resolve(text, ["South Ossetia", "South Ossetian", "European Union", "Black Sea", "Harwinton",
                          "Litchfield County"])
    assert got["South Ossetia"]["country_code"] == "GE" and got["South Ossetia"]["geonameid"] is None
    assert got["South Ossetian"]["name"] == "South Ossetia"
    assert got["European Union"]["country_code"] is None
    assert got["Black Sea"]["name"] == "Black Sea" and got["Black Sea"]["country_code"] is None
    assert got["Harwinton"]["country_code"] == "US"
    assert abs(got["Harwinton"]["latitude"] - 41.77) < 0.2 and abs(got["Harwinton"]["longitude"] + 73.06) < 0.2
