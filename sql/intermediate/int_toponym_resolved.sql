-- second pass: rescore every candidate with the document's context and keep the best per mention
with candidates as (
    select * from int_toponym_candidates
),

doc_context as (
    select * from int_toponym_doc_context
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

doc_countries as (
    select doc_id, country_code, sum(p1) as w, any_value(doc_mentions) as n
    from doc_context
    where country_code is not null
    group by all
),

mention_countries as (
    select doc_id, start_char, country_code, sum(p1) as w
    from doc_context
    where country_code is not null
    group by all
),

doc_admin1 as (
    select doc_id, country_code, admin1_code, sum(p1) as w
    from doc_context
    where admin1_code is not null and kind in ('city', 'region', 'other')
    group by all
),

mention_admin1 as (
    select doc_id, start_char, country_code, admin1_code, sum(p1) as w
    from doc_context
    where admin1_code is not null and kind in ('city', 'region', 'other')
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

region_senses as (
    select distinct doc_id, name_key
    from mentions
    where qualifier = 'region'
),

rescored as (
    select
        c.*,
        coalesce(k.bonus, 0.0) as container_bonus,
        6.0 * coalesce((dc.w - coalesce(mc.w, 0)) / greatest(dc.n - 1, 1), 0) as country_bonus,
        5.0 * coalesce((da.w - coalesce(ma.w, 0)) / greatest(dc.n - 1, 1), 0) as admin1_bonus,
        coalesce(px.bonus, 0.0) as proximity_bonus,
        case when c.kind = 'region' and rs.doc_id is not null then 5.0 else 0.0 end as discourse_bonus
    from candidates as c
    left join container_match as k
        on k.doc_id = c.doc_id and k.start_char = c.start_char and k.place_id = c.place_id
    left join doc_countries as dc on dc.doc_id = c.doc_id and dc.country_code = c.country_code
    left join mention_countries as mc
        on mc.doc_id = c.doc_id and mc.start_char = c.start_char and mc.country_code = c.country_code
    left join doc_admin1 as da
        on da.doc_id = c.doc_id and da.country_code = c.country_code and da.admin1_code = c.admin1_code
    left join mention_admin1 as ma
        on ma.doc_id = c.doc_id and ma.start_char = c.start_char
        and ma.country_code = c.country_code and ma.admin1_code = c.admin1_code
    left join proximity as px
        on px.doc_id = c.doc_id and px.start_char = c.start_char and px.place_id = c.place_id
    left join region_senses as rs on rs.doc_id = c.doc_id and rs.name_key = c.name_key
),

totals as (
    select
        *,
        base_score + container_bonus + country_bonus + admin1_bonus + proximity_bonus + discourse_bonus
            as score
    from rescored
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

final as (
    select
        doc_id,
        start_char,
        place_id,
        case when prior_rank > 1 then 'context' else method end as method,
        score,
        base_score,
        round(least(1.0, greatest(0.0,
            e / sum(e) over (partition by doc_id, start_char)
            * case method when 'fuzzy' then 0.85 when 'historic' then 0.9 else 1.0 end
            * case when score >= 6 then 1.0 else score / 6 end)), 3) as confidence,
        rank
    from ranked
    qualify rank = 1
)

select * from final
