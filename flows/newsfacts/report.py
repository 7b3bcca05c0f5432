"""One self-contained HTML report of the warehouse: where, who, when, stories, and what went wrong.

Everything is inline (CSS, JS, SVG) and a Content-Security-Policy forbids any request, so the file
renders offline and leaks nothing when opened. The map's basemap is drawn from the country outlines
the ``countryinfo`` package ships (equirectangular projection); no tile server is involved.
"""

from __future__ import annotations

import html
import math
import os
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from string import Template

import duckdb

TEMPLATE = Path(__file__).with_name("report_template.html")
WIDTH, HEIGHT = 1000.0, 500.0  # the world in SVG user units: 360° × 180°
SCALE = WIDTH / 360.0
MAP_LAT = (-58.0, 84.0)  # no place of interest lies in Antarctica; cropping keeps the map readable
TOP = 15
LIST_LIMIT = 60

# Documents in scope, with the date used for --since and the timeline: the published date when the page
# gives one, else the day it was ingested.
SCOPE = """
with scope as (
    select
        d.doc_id,
        coalesce(d.story_id, d.doc_id) as story_id,
        d.title,
        d.source_uri,
        d.site_name,
        d.published_date,
        d.story_similarity,
        coalesce(try_cast(d.published_date as date), cast(coalesce(r.ingested_at, d.cleaned_at) as date))
            as doc_date
    from documents as d
    left join raw_documents as r on r.content_hash = d.content_hash
    where $since is null or coalesce(try_cast(d.published_date as date),
                                     cast(coalesce(r.ingested_at, d.cleaned_at) as date)) >= $since
)
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, since: date | None, **params) -> list[dict]:
    cur = con.execute(SCOPE + sql, {"since": since, **params})
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _e(value) -> str:
    return "" if value is None else html.escape(str(value))


def _x(lon: float) -> float:
    return (lon + 180.0) * SCALE


def _y(lat: float) -> float:
    return (90.0 - lat) * SCALE


@lru_cache(maxsize=1)
def basemap() -> tuple[tuple[str, str, str], ...]:
    """(ISO alpha-2, name, SVG path) per country outline shipped with ``countryinfo``."""
    from countryinfo import CountryInfo

    shapes = []
    for info in CountryInfo.all().values():
        geo = info.get("geoJSON") or {}
        features = geo.get("features", [geo] if geo.get("type") == "Feature" else [])
        rings = []
        for feature in features:
            geom = feature.get("geometry") or {}
            polygons = {"Polygon": [geom.get("coordinates", [])],
                        "MultiPolygon": geom.get("coordinates", [])}.get(geom.get("type"), [])
            rings += [ring for polygon in polygons for ring in polygon if len(ring) >= 3]
        if not rings:
            continue
        d = "".join("M" + "L".join(f"{_x(lon):.1f} {_y(lat):.1f}" for lon, lat, *_ in ring) + "Z" for ring in rings)
        code = ((info.get("ISO") or {}).get("alpha2") or "").upper()
        shapes.append((code, info.get("name", "").title(), d))
    return tuple(sorted(shapes, key=lambda s: s[1]))


def _view_box(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """A 2:1 view that frames every marker with a margin (the cropped world when there are none)."""
    top, bottom = _y(MAP_LAT[1]), _y(MAP_LAT[0])
    if not points:
        return 0.0, top, WIDTH, bottom - top
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    pad = 8 * SCALE
    x0, x1 = max(0.0, min(xs) - pad), min(WIDTH, max(xs) + pad)
    y0, y1 = max(0.0, min(ys) - pad), min(HEIGHT, max(ys) + pad)
    w = max(x1 - x0, 2 * (y1 - y0), 40 * SCALE)
    w = min(w, WIDTH)
    h = w / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x = min(max(cx - w / 2, 0.0), WIDTH - w)
    y = min(max(cy - h / 2, 0.0), HEIGHT - h)
    return x, y, w, h


def map_svg(places: list[dict]) -> str:
    """The SVG map: shaded country outlines and one circle per place, area proportional to mentions."""
    located = [p for p in places if p["latitude"] is not None and p["longitude"] is not None
               and not (math.isnan(p["latitude"]) or math.isnan(p["longitude"]))]
    points = [(_x(p["longitude"]), _y(p["latitude"])) for p in located]
    vx, vy, vw, vh = _view_box(points)
    hit = {p["country_code"] for p in located if p["country_code"]}
    out = [f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="{vx:.1f} {vy:.1f} {vw:.1f} {vh:.1f}" '
           f'data-width="{WIDTH:.0f}" data-height="{HEIGHT:.0f}" role="img" '
           f'aria-label="Map of {len(located)} resolved places">',
           f'<rect x="0" y="0" width="{WIDTH:.0f}" height="{HEIGHT:.0f}" fill="transparent"/>', '<g class="basemap">']
    for code, name, d in basemap():
        cls = "land hit" if code in hit else "land"
        out.append(f'<path class="{cls}" data-country="{_e(code)}" d="{d}"><title>{_e(name)}</title></path>')
    out.append('</g><g class="markers">')
    most = max((p["mention_count"] for p in located), default=1)
    unit = vw / 90  # the largest marker's radius, in the initial view's units
    for p, (x, y) in sorted(zip(located, points, strict=True), key=lambda t: -t[0]["mention_count"]):
        r = max(unit * math.sqrt(p["mention_count"] / most), unit * 0.18)
        label = (f'{p["name"]} ({p["kind"]}{", " + p["country_code"] if p["country_code"] else ""}): '
                 f'{p["mention_count"]} mentions in {p["story_count"]} stories')
        out.append(f'<circle class="marker" cx="{x:.2f}" cy="{y:.2f}" r="{r:.3f}" data-r="{r:.3f}" '
                   f'data-location-id="{_e(p["location_id"])}" data-mentions="{p["mention_count"]}" '
                   f'data-info="{_e(label)}"><title>{_e(label)}</title></circle>')
    out.append('</g><g class="labels">')
    out += _labels(located, points, vx, vx + vw, vw / 75)
    out.append("</g></svg>")
    return "".join(out)


def _labels(places: list[dict], points: list[tuple[float, float]], left: float, right: float, size: float,
            most: int = 12) -> list[str]:
    """Name the most-mentioned places (already in story order) where a label overlaps no earlier one."""
    taken: list[tuple[float, float, float, float]] = []
    out = []
    for p, (x, y) in zip(places, points, strict=True):
        width = len(p["name"]) * size * 0.56
        for anchor, x0 in (("start", x + size * 0.6), ("end", x - size * 0.6 - width)):
            box = (x0, y - size * 1.2, x0 + width, y + size * 0.1)
            if box[2] > right or box[0] < left:
                continue
            if all(box[2] < t[0] or box[0] > t[2] or box[3] < t[1] or box[1] > t[3] for t in taken):
                taken.append(box)
                tx = x0 if anchor == "start" else x0 + width
                out.append(f'<text class="label" x="{tx:.2f}" y="{y - size * 0.4:.2f}" text-anchor="{anchor}" '
                           f'font-size="{size:.3f}" data-size="{size:.3f}">{_e(p["name"])}</text>')
                break
        if len(out) >= most:
            break
    return out


def _ranked_table(rows: list[dict], columns: list[tuple[str, str]], bar_key: str) -> str:
    if not rows:
        return '<p class="note">None.</p>'
    most = max(r[bar_key] for r in rows) or 1
    head = "".join(f'<th class="num">{_e(h)}</th>' if k.endswith("count") else f"<th>{_e(h)}</th>"
                   for k, h in columns)
    body = []
    for r in rows:
        cells = "".join(f'<td class="num">{r[k]}</td>' if k.endswith("count") else f"<td>{_e(r[k])}</td>"
                        for k, _ in columns)
        body.append(f'<tr>{cells}<td class="barcell"><div class="bar" style="width:{100 * r[bar_key] / most:.1f}%">'
                    "</div></td></tr>")
    return f"<table><thead><tr>{head}<th></th></tr></thead><tbody>{''.join(body)}</tbody></table>"


def _timeline_svg(days: list[dict]) -> str:
    if not days:
        return '<p class="note">No documents in scope.</p>'
    w, h, left, bottom = 900, 190, 40, 34
    most = max(max(d["location_mentions"], d["actor_mentions"]) for d in days) or 1
    slot = (w - left - 10) / len(days)
    bw = max(1.0, min(28.0, slot * 0.4))
    out = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="Mentions per day">']
    for frac in (0, 0.5, 1):
        y = 10 + (h - bottom - 10) * (1 - frac)
        out.append(f'<line x1="{left}" x2="{w - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef1f4"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{round(most * frac)}</text>')
    every = max(1, math.ceil(len(days) / 12))
    for i, d in enumerate(days):
        x = left + slot * i + slot / 2
        for j, (key, cls) in enumerate((("location_mentions", "b1"), ("actor_mentions", "b2"))):
            bh = (h - bottom - 10) * d[key] / most
            out.append(f'<rect class="{cls}" x="{x - bw + j * bw:.1f}" y="{h - bottom - bh:.1f}" width="{bw:.1f}" '
                       f'height="{bh:.1f}"><title>{_e(d["day"])}: {d[key]} {key.replace("_", " ")}, '
                       f'{d["documents"]} documents</title></rect>')
        if i % every == 0:
            out.append(f'<text x="{x:.1f}" y="{h - bottom + 16}" text-anchor="middle">{_e(d["day"])}</text>')
    out.append("</svg>")
    legend = ('<div class="legend note"><span style="background:var(--accent)"></span>place mentions'
              '<span style="background:var(--bar)"></span>actor mentions</div>')
    return "".join(out) + legend


def _similarity(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _stories_html(stories: list[dict], editions: dict[str, list[dict]]) -> str:
    if not stories:
        return '<p class="note">None.</p>'
    out = []
    for s in stories:
        eds = editions.get(s["story_id"], [])
        rows = "".join(
            f'<tr><td class="mono">{_e(e["doc_id"])}</td><td>{_e(e["title"])}</td><td>{_e(e["source_uri"])}</td>'
            f'<td>{_e(e["site_name"])}</td><td>{_e(e["doc_date"])}</td>'
            f'<td class="num">{_similarity(e["story_similarity"])}</td></tr>'
            for e in eds)
        out.append(f'<details class="story"{" open" if s["editions"] > 1 else ""}><summary><b>{_e(s["title"])}</b> '
                   f'&middot; {s["editions"]} edition{"s" if s["editions"] != 1 else ""} &middot; '
                   f'{s["location_count"]} place and {s["actor_count"]} actor mentions &middot; '
                   f'<span class="mono">{_e(s["story_id"])}</span></summary>'
                   '<table><thead><tr><th>doc_id</th><th>title</th><th>source</th><th>site</th><th>date</th>'
                   f'<th class="num">similarity</th></tr></thead><tbody>{rows}</tbody></table></details>')
    return "".join(out)


def _plain_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    if not rows:
        return '<p class="note">None.</p>'
    head = "".join(f"<th>{_e(h)}</th>" for _, h in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(r[k])}</td>" for k, _ in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _quality(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    last = con.execute("select run_id, max(validated_at) from dq_results group by run_id "
                       "order by max(validated_at) desc limit 1").fetchone()
    if last is None:
        return "No validation has run yet.", '<p class="note">None.</p>'
    run_id, at = last
    cur = con.execute("""
        select table_name, any_value(stage) as stage, count(*) as expectations,
               count(*) filter (where success) as passed, count(*) filter (where not success) as failed,
               max(element_count) as rows
        from dq_results where run_id = ? group by table_name order by failed desc, table_name""", [run_id])
    names = [c[0] for c in cur.description]
    tables = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    failures = con.execute("""
        select table_name, expectation, column_name, unexpected_count, sample
        from dq_results where run_id = ? and not success order by table_name, expectation limit 100""",
                           [run_id]).fetchall()
    total_failed = sum(t["failed"] for t in tables)
    verdict = ('<span class="ok">all passed</span>' if not total_failed
               else f'<span class="bad">{total_failed} failed</span>')
    note = (f"Run <span class=\"mono\">{_e(run_id)}</span>, validated {_e(f'{at:%Y-%m-%d %H:%M}')} UTC: "
            f"{sum(t['expectations'] for t in tables)} expectations on {len(tables)} tables, {verdict}. "
            "Each gate validates the batch its stage wrote (Great Expectations).")
    rows = "".join(
        f"<tr><td>{_e(t['table_name'])}</td><td>{_e(t['stage'])}</td><td class=\"num\">{t['rows'] or 0}</td>"
        f"<td class=\"num\">{t['expectations']}</td><td class=\"num ok\">{t['passed']}</td>"
        f"<td class=\"num{' bad' if t['failed'] else ''}\">{t['failed']}</td></tr>" for t in tables)
    out = ('<table><thead><tr><th>table</th><th>stage</th><th class="num">rows</th>'
           '<th class="num">expectations</th><th class="num">passed</th><th class="num">failed</th></tr></thead>'
           f"<tbody>{rows}</tbody></table>")
    if failures:
        out += "<h3>Failed expectations</h3>" + _plain_table(
            [dict(zip(("table", "expectation", "column", "unexpected", "sample"), f, strict=True)) for f in failures],
            [(k, k) for k in ("table", "expectation", "column", "unexpected", "sample")])
    return note, out


def _since(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _counted(fact: str, key: str) -> str:
    """A ``counted`` CTE after the scope: mentions, documents and stories per id of a fact table. Counting
    per id and naming afterwards costs less than grouping by the names' columns, and two actors who share
    a name stay two rows."""
    return f"""
        , counted as (
            select m.{key}, count(*) as mention_count, count(distinct s.doc_id) as doc_count,
                   count(distinct s.story_id) as story_count
            from {fact} as m
            inner join scope as s on s.doc_id = m.doc_id
            group by m.{key}
        )"""


def render(con: duckdb.DuckDBPyConnection, since: date | str | None = None) -> str:
    """The report as one HTML string; ``since`` keeps documents dated (published, else ingested) on or after it."""
    since = _since(since)
    places = _rows(con, _counted("fact_location_mention", "location_id") + """
        select l.location_id, l.name, l.kind, l.country_code, l.latitude, l.longitude,
               c.mention_count, c.doc_count, c.story_count
        from counted as c
        inner join dim_location as l on l.location_id = c.location_id
        order by c.story_count desc, c.mention_count desc, l.name, l.location_id""", since)
    actors = _rows(con, _counted("fact_actor_mention", "actor_id") + f"""
        select a.name, a.actor_type, a.country_code, a.title, c.mention_count, c.doc_count, c.story_count
        from counted as c
        inner join dim_actor as a on a.actor_id = c.actor_id
        order by c.story_count desc, c.mention_count desc, a.name, a.actor_id limit {TOP}""", since)
    per_doc = """,
    loc as (select doc_id, count(*) as n from fact_location_mention group by doc_id),
    act as (select doc_id, count(*) as n from fact_actor_mention group by doc_id),
    docs as (
        select s.*, coalesce(loc.n, 0) as location_mentions, coalesce(act.n, 0) as actor_mentions
        from scope as s left join loc on loc.doc_id = s.doc_id left join act on act.doc_id = s.doc_id
    )
    """
    days = _rows(con, per_doc + """
        select strftime(doc_date, '%Y-%m-%d') as day, count(*) as documents,
               sum(location_mentions)::bigint as location_mentions, sum(actor_mentions)::bigint as actor_mentions
        from docs group by doc_date order by doc_date""", since)
    stories = _rows(con, per_doc + f"""
        select story_id, count(*) as editions, arg_min(title, (title is null, doc_id <> story_id)) as title,
               sum(location_mentions)::bigint as location_count, sum(actor_mentions)::bigint as actor_count
        from docs group by story_id
        order by editions desc, sum(location_mentions + actor_mentions) desc, story_id limit {LIST_LIMIT}""", since)
    # Only the listed stories' editions are read: the report's cost in memory stays bounded as the warehouse grows.
    editions: dict[str, list[dict]] = {}
    for e in _rows(con, "select * from scope where story_id in (select unnest($listed)) "
                   "order by story_similarity is not null, doc_date, source_uri", since,
                   listed=[s["story_id"] for s in stories]):
        editions.setdefault(e["story_id"], []).append(e)
    n_stories = _rows(con, "select count(distinct story_id) as n from scope", since)[0]["n"]
    unresolved = _rows(con, f"""
        select u.surface, u.reason, count(*) as mentions, count(distinct u.doc_id) as documents
        from (
            select doc_id, surface, reason from unresolved_toponym
            union all
            select f.doc_id, f.surface, 'no gazetteer entry: placed at its document''s region, ' || l.name
            from fact_location_mention as f inner join dim_location as l on l.location_id = f.location_id
            where f.method = 'enclosing'
        ) as u inner join scope as s on s.doc_id = u.doc_id
        group by all order by mentions desc, u.surface limit {LIST_LIMIT}""", since)
    quarantined = [dict(zip(("source_uri", "stage", "reason", "quarantined_at"), r, strict=True)) for r in con.execute(
        f"""select source_uri, stage, reason, strftime(quarantined_at, '%Y-%m-%d %H:%M') from quarantine
            where $since is null or cast(quarantined_at as date) >= $since
            order by quarantined_at desc, source_uri limit {LIST_LIMIT}""", {"since": since}).fetchall()]
    n_quarantined = con.execute("select count(*) from quarantine where $since is null or "
                                "cast(quarantined_at as date) >= $since", {"since": since}).fetchone()[0]
    quality_note, quality = _quality(con)
    last_run = con.execute("select run_id, status, finished_at from pipeline_runs "
                           "order by started_at desc limit 1").fetchone()
    n_docs = sum(d["documents"] for d in days)
    stats = [(n_docs, "documents"), (n_stories, "stories"), (len(places), "places"),
             (con.execute("select count(distinct m.actor_id) from fact_actor_mention as m inner join (" +
                          SCOPE + "select doc_id from scope) as s on s.doc_id = m.doc_id",
                          {"since": since}).fetchone()[0], "actors"),
             (sum(p["mention_count"] for p in places), "place mentions"),
             (sum(d["actor_mentions"] for d in days), "actor mentions"),
             (sum(u["mentions"] for u in unresolved), "unresolved"), (n_quarantined, "quarantined")]
    scope = f"documents dated {since.isoformat()} or later" if since else "all documents"
    run = (f"last run {last_run[0]} {last_run[1]}" + (f" at {last_run[2]:%Y-%m-%d %H:%M} UTC" if last_run[2] else "")
           if last_run else "no pipeline run recorded")
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if len(unresolved) == LIST_LIMIT or len(quarantined) == LIST_LIMIT:
        scope += f" (lists show at most {LIST_LIMIT} rows)"
    values = {
        "title": "newsfacts report",
        "subtitle": _e(f"{scope} · {run} · generated {generated}"),
        "stats": "".join(f'<div class="stat"><b>{n:,}</b><span>{_e(label)}</span></div>' for n, label in stats),
        "map": map_svg(places),
        "actors": _ranked_table(actors, [("name", "actor"), ("actor_type", "type"), ("country_code", "country"),
                                         ("title", "title"), ("story_count", "stories"),
                                         ("mention_count", "mentions")], "story_count"),
        "places": _ranked_table(places[:TOP], [("name", "place"), ("kind", "kind"), ("country_code", "country"),
                                               ("story_count", "stories"), ("mention_count", "mentions")],
                                "story_count"),
        "timeline_note": "Mentions per day, dated by the published date when the page gives one, else the ingest "
                         "date.",
        "timeline": _timeline_svg(days),
        "stories": _stories_html(stories, editions),
        "unresolved": _plain_table(unresolved, [("surface", "name as written"), ("reason", "reason"),
                                                ("mentions", "mentions"), ("documents", "documents")]),
        "quarantine": _plain_table(quarantined, [("source_uri", "input"), ("stage", "stage"), ("reason", "reason"),
                                                 ("quarantined_at", "when (UTC)")]),
        "quality_note": quality_note,
        "quality": quality,
    }
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(values)


def write(warehouse_path: Path | str, output_path: Path | str, since: date | str | None = None) -> Path:
    """Render the report of a warehouse (opened read-only) into ``output_path``, atomically; returns the path."""
    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        page = render(con, since=since)
    finally:
        con.close()
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, output)
    return output


def write_run_report(settings, run_id: str, logger) -> str:
    """The HTML report of the just-published warehouse, one file per run; a failure never fails the run."""
    out = settings.warehouse.parent / "reports" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{run_id[:8]}.html"
    try:
        return str(write(settings.warehouse, out))
    except Exception as exc:  # noqa: BLE001 - the warehouse is published; the report is a convenience
        logger.warning("report not written (%s: %s); the warehouse is published", type(exc).__name__, exc)
        return ""


def run_artifacts(summary, title: str) -> None:
    """The run's summary table and a markdown report in the Prefect UI (no paths to secrets, only figures)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    rows = [{"figure": k, "value": v} for k, v in (
        ("inputs", summary.inputs), ("loaded", summary.loaded), ("unchanged (skipped)", summary.unchanged),
        ("duplicate", summary.duplicate), ("quarantined", summary.quarantined),
        ("re-cleaned", summary.recleaned), ("re-extracted", summary.reextracted),
        ("documents", summary.documents), ("entity mentions", summary.entity_mentions),
        ("location mentions", summary.location_mentions), ("actor mentions", summary.actor_mentions),
        ("gates passed", len(summary.gates)), ("published", summary.published), ("seconds", summary.seconds))]
    create_table_artifact(key="newsfacts-run-summary", table=rows, description=f"{title}: what the run did")
    gates_md = "\n".join(f"- {g}" for g in summary.gates) or "- none run"
    links = f"- Data Docs: [{summary.data_docs}](file://{summary.data_docs})"
    if summary.report:
        links += f"\n- Report: [{summary.report}](file://{summary.report})"
    create_markdown_artifact(
        key="newsfacts-run-report", description=f"{title}: report",
        markdown=(f"# {title}\n\n" + "\n".join(f"- {line}" for line in summary.lines()) +
                  f"\n\n## Quality gates\n{gates_md}\n\n## Links\n{links}\n"))
