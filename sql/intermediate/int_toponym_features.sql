-- config: materialized=incremental
-- explainable context features of every (mention, candidate) pair: containers named beside it, the
-- document's countries and regions, nearby places, counties, the source's other documents. The learned
-- ranker (flows/newsfacts/ranker.py) scores these rows in batches right after this model is built
with candidates as (
    select * from int_toponym_candidates
),

doc_context as (
    select * from int_toponym_doc_context
),

source_context as (
    select * from int_toponym_source_context
),

place_names as (
    select * from gaz.place_name
),

places as (
    select * from gaz.place
),

mentions as (
    select * from toponym_mentions
),

-- containers named by "X, Y" / "X in Y" / "Y's X"
containers as (
    select distinct
        m.doc_id,
        m.start_char,
        p.kind as container_kind,
        p.country_code,
        p.admin1_code
    from mentions as m
    inner join place_names as n on n.name_key = m.context_key and n.name_type <> 'historic'
    inner join places as p on p.place_id = n.place_id and p.kind in ('country', 'region')
),

container_match as (
    select
        c.doc_id,
        c.start_char,
        c.place_id,
        bool_or(k.container_kind = 'region' and c.kind <> 'region' and c.admin1_code = k.admin1_code)
            as bonus_region,
        bool_or(k.container_kind = 'country' and c.kind <> 'country') as bonus_country
    from candidates as c
    inner join containers as k
        on k.doc_id = c.doc_id and k.start_char = c.start_char and k.country_code = c.country_code
    group by all
),

-- the region named as a container ("Sault Ste. Marie, Ontario") is the one its contents lie in
contained_match as (
    select distinct r.doc_id, r.start_char, r.place_id
    from candidates as r
    inner join mentions as m on m.doc_id = r.doc_id and m.context_key = r.name_key
    inner join candidates as c
        on c.doc_id = m.doc_id and c.start_char = m.start_char and c.kind <> 'region'
        and c.country_code = r.country_code and c.admin1_code = r.admin1_code
    where r.kind = 'region'
),

-- the document's countries and first-level regions, one vote per distinct name (a name repeated ten
-- times votes once, and never for itself)
name_mentions as (
    select doc_id, name_key, count(distinct start_char) as mentions
    from doc_context
    group by all
),

doc_names as (
    select doc_id, count(distinct name_key) as names
    from doc_context
    group by all
),

name_countries as (
    select d.doc_id, d.name_key, d.country_code, sum(d.p1) / any_value(nm.mentions) as v
    from doc_context as d
    inner join name_mentions as nm on nm.doc_id = d.doc_id and nm.name_key = d.name_key
    where d.country_code is not null
    group by all
),

doc_countries as (
    select doc_id, country_code, sum(v) as w
    from name_countries
    group by all
),

name_admin1 as (
    select d.doc_id, d.name_key, d.country_code, d.admin1_code, sum(d.p1) / any_value(nm.mentions) as v
    from doc_context as d
    inner join name_mentions as nm on nm.doc_id = d.doc_id and nm.name_key = d.name_key
    where d.admin1_code is not null and d.kind in ('city', 'region', 'other')
    group by all
),

doc_admin1 as (
    select doc_id, country_code, admin1_code, sum(v) as w
    from name_admin1
    group by all
),

anchors as (
    select * from doc_context where p1 >= 0.5 and kind in ('city', 'other')
),

proximity as (
    select
        c.doc_id,
        c.start_char,
        c.place_id,
        bool_or(a.place_id = c.place_id) as same_anchor
    from candidates as c
    inner join anchors as a
        on a.doc_id = c.doc_id and a.name_key <> c.name_key and c.kind in ('city', 'other')
    where a.place_id = c.place_id
        or 12742 * asin(sqrt(
            power(sin(radians(a.latitude - c.latitude) / 2), 2)
            + cos(radians(c.latitude)) * cos(radians(a.latitude))
            * power(sin(radians(a.longitude - c.longitude) / 2), 2))) <= 100
    group by all
),

-- places named together lie together: a reading with a plausible reading of another name of the document
-- within 80 km gains ("Lancaster" beside "Morecambe"); only plausible ones, since the US has a small
-- Moscow, Berlin and Geneva next to each other
name_readings as (
    select distinct doc_id, name_key, place_id, latitude, longitude, floor(latitude / 0.75) as cell
    from candidates
    where kind in ('city', 'other')
),

plausible_readings as (
    select distinct doc_id, name_key, latitude, longitude, floor(latitude / 0.75) as cell
    from doc_context
    where kind in ('city', 'other') and p1 >= 0.1
),

coherence as (
    select c.doc_id, c.name_key, c.place_id, count(distinct o.name_key) as neighbours
    from name_readings as c
    inner join plausible_readings as o
        on o.doc_id = c.doc_id and o.cell between c.cell - 1 and c.cell + 1 and o.name_key <> c.name_key
    where 12742 * asin(sqrt(
        power(sin(radians(o.latitude - c.latitude) / 2), 2)
        + cos(radians(c.latitude)) * cos(radians(o.latitude))
        * power(sin(radians(o.longitude - c.longitude) / 2), 2))) <= 80
    group by all
),

-- a town and the county it lies in, both named in one document ("Paris ... Edgar County")
county_pairs as (
    select
        c.doc_id,
        c.start_char as town_start,
        c.place_id as town_place,
        k.start_char as county_start,
        k.place_id as county_place,
        k.qualifier as county_qualifier,
        k.method as county_method
    from candidates as c
    inner join candidates as k
        on k.doc_id = c.doc_id and k.place_id = c.admin2_id and k.name_key <> c.name_key
),

-- both readings agree: the town gains from a county written as such or likely meant
county_links as (
    select doc_id, start_char, place_id, bool_or(kind = 'town') as town_link, bool_or(kind = 'bare') as bare_link
    from (
        select p.doc_id, p.town_start as start_char, p.town_place as place_id, 'town' as kind
        from county_pairs as p
        left join doc_context as kd
            on kd.doc_id = p.doc_id and kd.start_char = p.county_start and kd.place_id = p.county_place
        where p.county_qualifier = 'county' or p.county_method <> 'alias' or kd.p1 >= 0.5
        union all
        -- a county called by its bare name ("Oxford") only when the town is its name's likely reading:
        -- any "Woodstock" lies in some county that shares a name with a place elsewhere
        select p.doc_id, p.county_start as start_char, p.county_place as place_id, 'bare' as kind
        from county_pairs as p
        left join doc_context as dc
            on dc.doc_id = p.doc_id and dc.start_char = p.town_start and dc.place_id = p.town_place
        where p.county_method <> 'alias' or dc.p1 >= 0.5
    )
    group by all
),

region_senses as (
    select distinct doc_id, name_key
    from mentions
    where qualifier = 'region'
),

features as (
    select
        c.*,
        exp(c.base_score - max(c.base_score) over (partition by c.doc_id, c.start_char)) as e0,
        coalesce(k.bonus_region, false) as container_region,
        coalesce(k.bonus_country, false) as container_country,
        km.doc_id is not null as contained_region,
        coalesce((dc.w - coalesce(mc.v, 0)) / greatest(dn.names - 1, 1), 0) as country_share,
        coalesce((da.w - coalesce(ma.v, 0)) / greatest(dn.names - 1, 1), 0) as admin1_share,
        coalesce(dn.names, 0) as doc_names,
        coalesce(px.same_anchor, false) as anchor_same,
        px.doc_id is not null as anchor_near,
        coalesce(co.neighbours, 0) as coherent_names,
        coalesce(cl.town_link, false) as county_town_link,
        coalesce(cl.bare_link, false) as county_bare_link,
        rs.doc_id is not null as region_sense,
        coalesce(sx.admin1_share, 0) as source_admin1_share,
        coalesce(sx.country_share, 0) as source_country_share,
        coalesce(sx.domain_country, false) as source_domain_country
    from candidates as c
    left join container_match as k
        on k.doc_id = c.doc_id and k.start_char = c.start_char and k.place_id = c.place_id
    left join contained_match as km
        on km.doc_id = c.doc_id and km.start_char = c.start_char and km.place_id = c.place_id
    left join doc_names as dn on dn.doc_id = c.doc_id
    left join doc_countries as dc on dc.doc_id = c.doc_id and dc.country_code = c.country_code
    left join name_countries as mc
        on mc.doc_id = c.doc_id and mc.name_key = c.name_key and mc.country_code = c.country_code
    left join doc_admin1 as da
        on da.doc_id = c.doc_id and da.country_code = c.country_code and da.admin1_code = c.admin1_code
    left join name_admin1 as ma
        on ma.doc_id = c.doc_id and ma.name_key = c.name_key
        and ma.country_code = c.country_code and ma.admin1_code = c.admin1_code
    left join proximity as px
        on px.doc_id = c.doc_id and px.start_char = c.start_char and px.place_id = c.place_id
    left join coherence as co
        on co.doc_id = c.doc_id and co.name_key = c.name_key and co.place_id = c.place_id
    left join county_links as cl
        on cl.doc_id = c.doc_id and cl.start_char = c.start_char and cl.place_id = c.place_id
    left join region_senses as rs on rs.doc_id = c.doc_id and rs.name_key = c.name_key
    left join source_context as sx
        on sx.doc_id = c.doc_id and sx.start_char = c.start_char and sx.place_id = c.place_id
),

-- one sense per document: what a mention's own context says about a reading ("Paris, Tenn.", a county
-- named beside it) holds for every mention of the same name in the document
final as (
    select
        * exclude (e0),
        e0 / sum(e0) over (partition by doc_id, start_char) as prior_probability,
        row_number() over (partition by doc_id, start_char order by base_score desc, population desc, place_id)
            as prior_rank,
        bool_or(container_region or container_country or contained_region)
            over (partition by doc_id, name_key, place_id) as shared_container,
        bool_or(anchor_near) over (partition by doc_id, name_key, place_id) as shared_anchor,
        bool_or(county_town_link or county_bare_link) over (partition by doc_id, name_key, place_id)
            as shared_county,
        null::double as score
    from features
)

select * from final
