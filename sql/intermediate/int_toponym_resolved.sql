-- config: materialized=incremental
-- every mention's best candidate by the learned ranker's score (int_toponym_features.score, the log-odds
-- that the reading lies within 161 km of the place meant), and the enclosing-place fallback
with features as (
    select * from int_toponym_features
),

places as (
    select * from gaz.place
),

mentions as (
    select * from toponym_mentions
),

ranked as (
    select
        *,
        1 / (1 + exp(-score)) as probability,
        row_number() over (partition by doc_id, start_char order by score desc, population desc, place_id)
            as rank
    from features
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
        round(probability, 3) as confidence,
        -- the one acceptance rule for named places: a mention the finder kept (or a span given as a place)
        -- is placed at its best reading; how sure that reading is, is its confidence
        true as is_accepted,
        rank
    from ranked
    where rank = 1
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

-- a toponym the gazetteer cannot place (a street, a park, a river, a neighbourhood, a village it lacks) lies,
-- most likely, in the most specific place that encloses its passage: the one town resolved in the same
-- sentence, else the town the document names most (at least 60 % of its town mentions), else the document's
-- first-level region or country. Method 'enclosing' with at most half confidence, so a map shows it there
-- and an analyst can filter it out
unplaced as (
    select m.doc_id, m.start_char, m.sentence_idx
    from mentions as m
    anti join best as b on b.doc_id = m.doc_id and b.start_char = m.start_char and b.is_accepted
    where m.source in ('span', 'ner') or m.qualifier is not null
),

towns as (
    select b.doc_id, b.start_char, b.place_id, m.sentence_idx
    from best as b
    inner join mentions as m on m.doc_id = b.doc_id and m.start_char = b.start_char
    where b.is_accepted and b.kind = 'city'
),

-- a sentence that names one town (however often) places its other names there; one naming several towns
-- ("talks in Moscow, Washington and Paris") says nothing about which
sentence_town as (
    select u.doc_id, u.start_char, any_value(t.place_id) as place_id
    from unplaced as u
    inner join mentions as m on m.doc_id = u.doc_id and m.start_char = u.start_char
    inner join towns as t on t.doc_id = u.doc_id and t.sentence_idx = u.sentence_idx
    where m.qualifier is null  -- a name written as a region or county is no town's part
    group by u.doc_id, u.start_char
    having count(distinct t.place_id) = 1
),

document_town as (
    select doc_id, place_id, count(*) / sum(count(*)) over (partition by doc_id) as share
    from towns
    group by doc_id, place_id
    qualify row_number() over (partition by doc_id order by count(*) desc, min(start_char)) = 1
),

enclosing as (
    select
        u.doc_id,
        u.start_char,
        coalesce(st.place_id, dt.place_id, r.place_id, c.place_id) as place_id,
        'enclosing' as method,
        0.0 as score,
        0.0 as base_score,
        round(0.5 * case
            when st.place_id is not null then 1.0
            when dt.place_id is not null then dt.share
            when r.place_id is not null then fa.share * fc.share
            else fc.share
        end, 3) as confidence,
        true as is_accepted,
        1 as rank
    from unplaced as u
    left join sentence_town as st on st.doc_id = u.doc_id and st.start_char = u.start_char
    left join mentions as m on m.doc_id = u.doc_id and m.start_char = u.start_char
    left join document_town as dt on dt.doc_id = u.doc_id and dt.share >= 0.6 and m.qualifier is null
    left join focus_country as fc on fc.doc_id = u.doc_id and fc.share >= 0.6
    left join places as c on c.kind = 'country' and c.country_code = fc.country_code
    left join focus_admin1 as fa
        on fa.doc_id = u.doc_id and fa.country_code = fc.country_code and fa.share >= 0.6
    left join places as r
        on r.kind = 'region' and r.country_code = fa.country_code and r.admin1_code = fa.admin1_code
    where coalesce(st.place_id, dt.place_id, r.place_id, c.place_id) is not null
),

final as (
    select doc_id, start_char, place_id, method, score, base_score, confidence, is_accepted, rank
    from best
    anti join enclosing as x on x.doc_id = best.doc_id and x.start_char = best.start_char
    union all
    select * from enclosing
)

select * from final
