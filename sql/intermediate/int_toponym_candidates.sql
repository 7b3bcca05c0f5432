-- every gazetteer place a toponym mention could denote, with a context-free prior score
with mentions as (
    select * from toponym_mentions
),

place_names as (
    select * from gaz.place_name
),

places as (
    -- a place an analyst cannot put on a map is no answer: those names stay unresolved
    select * from gaz.place
    where latitude is not null and longitude is not null and not isnan(latitude) and not isnan(longitude)
),

exact_matches as (
    select
        m.doc_id,
        m.start_char,
        n.place_id,
        n.name_type,
        case
            when n.name_type in ('official', 'ascii') then 'exact'
            when n.name_type = 'demonym' then 'context'
            when n.name_type = 'historic' then 'historic'
            else 'alias'
        end as method
    from mentions as m
    inner join place_names as n on n.name_key = m.name_key
    where n.name_type not in ('abbreviation', 'demonym') or m.source = 'span'
),

fuzzy_matches as (
    select
        m.doc_id,
        m.start_char,
        n.place_id,
        n.name_type,
        'fuzzy' as method
    from mentions as m
    inner join place_names as n on n.translit_key = m.translit_key
    where length(m.translit_key) >= 5 and n.name_type not in ('abbreviation', 'historic', 'demonym')
),

matches as (
    select
        doc_id,
        start_char,
        place_id,
        arg_min(method, case method when 'exact' then 0 when 'alias' then 1 when 'historic' then 2 else 3 end)
            as method,
        arg_min(name_type, case method when 'exact' then 0 when 'alias' then 1 when 'historic' then 2 else 3 end)
            as name_type
    from (select * from exact_matches union all select * from fuzzy_matches)
    group by doc_id, start_char, place_id
),

scored as (
    select
        m.doc_id,
        m.start_char,
        m.end_char,
        m.name_key,
        m.qualifier,
        m.context_key,
        m.source,
        x.place_id,
        x.method,
        x.name_type,
        p.kind,
        p.country_code,
        p.admin1_code,
        p.admin2_id,
        p.population,
        p.feature_code,
        p.latitude,
        p.longitude,
        case p.kind
            when 'country' then 14.0
            when 'continent' then 14.0
            when 'region' then 9.5
            when 'other' then 7.0
            else 1.5 * log10(greatest(p.population, 1)) + case when p.feature_code = 'PPLC' then 1.5 else 0 end
        end
        + case x.method
            when 'exact' then 0.0
            when 'alias' then case when p.kind in ('country', 'continent') then 0.0 else -0.5 end
            when 'historic' then -1.5
            else -2.5
        end
        + case
            when m.qualifier = 'region' and p.kind = 'region' then 8.0
            when m.qualifier = 'region' then -8.0
            when m.qualifier = 'county' and p.kind = 'other' then 8.0
            when m.qualifier = 'county' then -8.0
            else 0.0
        end
        + case when p.kind = 'region' and x.name_type not in ('official', 'ascii') then -2.0 else 0.0 end
        + case when x.name_type = 'abbreviation' then -3.0 else 0.0 end
        + case when x.name_type = 'demonym' then -2.0 else 0.0 end
        as prior_score
    from mentions as m
    inner join matches as x on x.doc_id = m.doc_id and x.start_char = m.start_char
    inner join places as p on p.place_id = x.place_id
),

-- a region that shares its name with a big city inside it ("Geneva", "Moscow") yields to the city
namesake_cities as (
    select distinct doc_id, start_char, country_code, admin1_code
    from scored
    where kind = 'city' and population >= 50000 and method in ('exact', 'alias')
),

final as (
    select
        s.*,
        s.prior_score + case when s.kind = 'region' and n.doc_id is not null then -3.5 else 0.0 end
            as base_score
    from scored as s
    left join namesake_cities as n
        on n.doc_id = s.doc_id and n.start_char = s.start_char
        and n.country_code = s.country_code and n.admin1_code = s.admin1_code
        and s.kind = 'region'
)

select * from final
