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
        -- the one acceptance rule for named places: a span given as a place is placed at its best reading;
        -- a name the pipeline found itself only when that reading is more likely right than wrong
        source = 'span' or probability >= 0.5 as is_accepted,
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
