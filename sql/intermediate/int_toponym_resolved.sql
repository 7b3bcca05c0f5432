-- second pass: rescore every candidate with the document's context and keep the best per mention
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
        max(case
            when k.container_kind = 'region' and c.kind <> 'region' and c.admin1_code = k.admin1_code then 6.0
            when k.container_kind = 'country' and c.kind <> 'country' then 4.0
            else 0.0
        end) as bonus
    from candidates as c
    inner join containers as k
        on k.doc_id = c.doc_id and k.start_char = c.start_char and k.country_code = c.country_code
    group by all
),

-- the region named as a container ("Sault Ste. Marie, Ontario") is the one its contents lie in
contained_match as (
    select distinct r.doc_id, r.start_char, r.place_id, 6.0 as bonus
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
        max(case when a.place_id = c.place_id then 3.0 else 2.0 end) as bonus
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
    select c.doc_id, c.name_key, c.place_id, least(count(distinct o.name_key), 2) * 1.5 as bonus
    from name_readings as c
    inner join plausible_readings as o
        on o.doc_id = c.doc_id and o.cell between c.cell - 1 and c.cell + 1 and o.name_key <> c.name_key
    where 12742 * asin(sqrt(
        power(sin(radians(o.latitude - c.latitude) / 2), 2)
        + cos(radians(c.latitude)) * cos(radians(o.latitude))
        * power(sin(radians(o.longitude - c.longitude) / 2), 2))) <= 80
    group by all
),

-- a town named together with the county it lies in ("Paris ... Edgar County"): both readings agree
county_links as (
    select doc_id, start_char, place_id, max(bonus) as bonus
    from (
        select c.doc_id, c.start_char, c.place_id, 7.0 as bonus
        from candidates as c
        inner join candidates as k
            on k.doc_id = c.doc_id and k.place_id = c.admin2_id and k.name_key <> c.name_key
        left join doc_context as kd
            on kd.doc_id = k.doc_id and kd.start_char = k.start_char and kd.place_id = k.place_id
        where k.qualifier = 'county' or k.method <> 'alias' or kd.p1 >= 0.5
        union all
        -- a county called by its bare name ("Oxford") only when the town is its name's likely reading:
        -- any "Woodstock" lies in some county that shares a name with a place elsewhere
        select k.doc_id, k.start_char, k.place_id, 4.0 as bonus
        from candidates as c
        inner join candidates as k
            on k.doc_id = c.doc_id and k.place_id = c.admin2_id and k.name_key <> c.name_key
        left join doc_context as dc
            on dc.doc_id = c.doc_id and dc.start_char = c.start_char and dc.place_id = c.place_id
        where k.method <> 'alias' or dc.p1 >= 0.5
    )
    group by all
),

region_senses as (
    select distinct doc_id, name_key
    from mentions
    where qualifier = 'region'
),

rescored as (
    select
        c.*,
        coalesce(k.bonus, 0.0) + coalesce(km.bonus, 0.0) as container_bonus,
        -- country-wide evidence counts half for a former name or a town without a population figure, so it
        -- cannot carry such a reading past a capital (Riga, Michigan in a Moscow paper)
        9.0 * coalesce((dc.w - coalesce(mc.v, 0)) / greatest(dn.names - 1, 1), 0)
            * case when c.method = 'historic' or c.population = 0 and c.kind = 'city' then 0.5 else 1.0 end
            as country_bonus,
        8.0 * coalesce((da.w - coalesce(ma.v, 0)) / greatest(dn.names - 1, 1), 0) as admin1_bonus,
        coalesce(px.bonus, 0.0) + coalesce(co.bonus, 0.0) as proximity_bonus,
        coalesce(cl.bonus, 0.0) as county_bonus,
        case when c.kind = 'region' and rs.doc_id is not null then 5.0 else 0.0 end as discourse_bonus,
        8.0 * coalesce(sx.admin1_share, 0) + 4.0 * coalesce(sx.country_share, 0)
            + case when sx.domain_country then 3.0 else 0.0 end as source_bonus
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
local_context as (
    select
        *,
        max(container_bonus + proximity_bonus + county_bonus)
            over (partition by doc_id, name_key, place_id) as shared_bonus
    from rescored
),

totals as (
    select
        *,
        base_score + country_bonus + admin1_bonus + discourse_bonus + source_bonus
        + greatest(container_bonus + proximity_bonus + county_bonus, shared_bonus)
            as score
    from local_context
),

ranked as (
    select
        *,
        row_number() over (partition by doc_id, start_char order by score desc, population desc, place_id)
            as rank,
        row_number() over (partition by doc_id, start_char order by base_score desc, population desc, place_id)
            as prior_rank,
        exp(score - max(score) over (partition by doc_id, start_char)) as e
    from totals
),

best as (
    select
        doc_id,
        start_char,
        name_key,
        place_id,
        kind,
        country_code,
        admin1_code,
        case when prior_rank > 1 then 'context' else method end as method,
        score,
        base_score,
        round(least(1.0, greatest(0.0,
            e / sum(e) over (partition by doc_id, start_char)
            * case method when 'fuzzy' then 0.85 when 'historic' then 0.9 else 1.0 end
            * case when score >= 6 then 1.0 else score / 6 end)), 3) as confidence,
        -- the one acceptance rule for named places
        score >= 4 as is_accepted,
        rank
    from ranked
    qualify rank = 1
),

-- what a document is about: the country most of its placed names lie in, and the first-level region most
-- of its places below country level lie in (distinct names, so a repeated name votes once)
placed as (
    select distinct doc_id, name_key, kind, country_code, admin1_code
    from best
    where is_accepted
),

placed_names as (
    select doc_id, count(distinct name_key) as names
    from placed
    group by all
),

focus_country as (
    select p.doc_id, p.country_code, count(distinct p.name_key) / any_value(n.names) as share
    from placed as p
    inner join placed_names as n on n.doc_id = p.doc_id
    where p.country_code is not null
    group by p.doc_id, p.country_code
    qualify row_number() over (partition by p.doc_id order by share desc, p.country_code) = 1
),

focus_admin1 as (
    select
        p.doc_id,
        p.country_code,
        p.admin1_code,
        count(distinct p.name_key) / any_value(n.names) as share
    from placed as p
    inner join (
        select doc_id, country_code, count(distinct name_key) as names
        from placed
        where kind <> 'country'
        group by all
    ) as n on n.doc_id = p.doc_id and n.country_code = p.country_code
    where p.admin1_code is not null and p.kind <> 'country'
    group by p.doc_id, p.country_code, p.admin1_code
    qualify row_number() over (partition by p.doc_id, p.country_code order by share desc, p.admin1_code) = 1
),

-- a toponym the gazetteer cannot place (a park, a river, a neighbourhood, a village it lacks) lies, most
-- likely, where its document is: it is placed at the document's region or country, as method 'enclosing'
-- with at most half confidence, so a map shows it there and an analyst can filter it out
unplaced as (
    select m.doc_id, m.start_char
    from mentions as m
    anti join best as b on b.doc_id = m.doc_id and b.start_char = m.start_char and b.is_accepted
    where m.source in ('span', 'ner') or m.qualifier is not null
),

enclosing as (
    select
        u.doc_id,
        u.start_char,
        coalesce(r.place_id, c.place_id) as place_id,
        'enclosing' as method,
        0.0 as score,
        0.0 as base_score,
        round(0.5 * case when r.place_id is not null then fa.share * fc.share else fc.share end, 3)
            as confidence,
        true as is_accepted,
        1 as rank
    from unplaced as u
    inner join focus_country as fc on fc.doc_id = u.doc_id and fc.share >= 0.6
    inner join places as c on c.kind = 'country' and c.country_code = fc.country_code
    left join focus_admin1 as fa
        on fa.doc_id = u.doc_id and fa.country_code = fc.country_code and fa.share >= 0.6
    left join places as r
        on r.kind = 'region' and r.country_code = fa.country_code and r.admin1_code = fa.admin1_code
),

final as (
    select doc_id, start_char, place_id, method, score, base_score, confidence, is_accepted, rank
    from best
    anti join enclosing as x on x.doc_id = best.doc_id and x.start_char = best.start_char
    union all
    select * from enclosing
)

select * from final
