import duckdb
import pytest
from newsfacts.gazetteer import GAZETTEER_VERSION, default_path, ensure_gazetteer, stored_version


@pytest.fixture(scope="session")
def gaz():
    ensure_gazetteer()
    with duckdb.connect(str(default_path()), read_only=True) as con:
        yield con


@pytest.mark.slow
def test_version_stored(gaz):
    assert stored_version(default_path()) == GAZETTEER_VERSION


@pytest.mark.slow
@pytest.mark.parametrize("key,iso", [("crimea", "UA-43"), ("donetsk", "UA-14"), ("sumy", "UA-59"),
                                     ("krasnodar", "RU-KDA"), ("florida", "US-FL"),
                                     ("zaporizhzhia", "UA-23")])
def test_regions_have_iso_codes(gaz, key, iso):
    got = {r[0] for r in gaz.execute("""select p.iso3166_2 from place_name n join place p using (place_id)
                                        where n.name_key = ? and p.kind = 'region'""", [key]).fetchall()}
    assert iso in got


@pytest.mark.slow
def test_countries_and_aliases(gaz):
    rows = dict(gaz.execute("""select n.name_key, p.geonameid from place_name n join place p using (place_id)
                               where p.kind = 'country' and n.name_key in ('us', 'russia')""").fetchall())
    assert rows == {"us": 6252001, "russia": 2017370}
    kiev = gaz.execute("""select p.geonameid from place_name n join place p using (place_id)
                          where n.name_key = 'kiev'""").fetchall()
    assert (703448,) in kiev
