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
        end as method,
        n.name = m.surface as as_written
    from mentions as m
    inner join place_names as n on n.name_key = m.name_key
    where (n.name_type not in ('abbreviation', 'demonym', 'short') or m.source = 'span')
        -- an acronym ("EU", "UN") is only a place written that way ("US", "UK", "D.C."), not the town Eu
        and (length(m.name_key) > 3 or m.surface <> upper(m.surface) or contains(m.surface, '.')
             or n.name = upper(n.name))
),

fuzzy_matches as (
    select
        m.doc_id,
        m.start_char,
        n.place_id,
        n.name_type,
        'fuzzy' as method,
        false as as_written
    from mentions as m
    inner join place_names as n on n.translit_key = m.translit_key
    where length(m.translit_key) >= 5 and n.name_type not in ('abbreviation', 'historic', 'demonym', 'short')
),

-- a name with no entry of its own that wraps a place's name in generic feature words ("Port of Los Angeles",
-- "Greer Station", "Catawba River", "Jackson Township", "South Los Angeles") is placed by that place, with
-- the fuzzy method's low confidence: such a feature lies in or beside its namesake, at least in its country
unmatched as (
    select m.doc_id, m.start_char, m.name_key, m.source
    from mentions as m
    anti join (select doc_id, start_char from exact_matches union all select doc_id, start_char from fuzzy_matches)
        as x on x.doc_id = m.doc_id and x.start_char = m.start_char
),

head_keys as (
    select
        doc_id,
        start_char,
        name_key,
        trim(regexp_replace(regexp_replace(name_key,
            '\b(port of|river|rivers|lake|lakes|bay|harbor|harbour|valley|township|station|falls|park|parkway|'
            || 'heights|mountains|mountain|island|islands|creek|beach|springs|downtown|greater|metro|area|twp|'
            || 'north|south|east|west|northern|southern|eastern|western|central|upper|lower)\b', ' ', 'g'),
            '\s+', ' ', 'g')) as head_key
    from unmatched
),

partial_matches as (
    select
        h.doc_id,
        h.start_char,
        n.place_id,
        'partial' as name_type,
        'fuzzy' as method,
        false as as_written
    from head_keys as h
    inner join place_names as n on n.name_key = h.head_key
    where h.head_key <> h.name_key and length(h.head_key) >= 4
        and n.name_type in ('official', 'alternate', 'ascii')
),

-- a given span that names the people of a country, region or continent ("Ohioans", "Ontarians", "Gazans",
-- "Dagestani", "South Ossetians", "Europeans", "Texans") denotes it: English demonym endings stripped, the stem
-- read as is or with the place-name ending the suffix replaced (towns' people are left alone: "Londoners"
-- of which London?)
demonym_stems as (
    select doc_id, start_char, stem || ending as stem_key
    from (
        select doc_id, start_char,
            unnest([regexp_replace(name_key, '(ians|ian|ans|an|ns|n|ers|er|ites|ite|i)$', ''),
                    regexp_replace(name_key, '(ns|n|ers|er|ites|ite|i)$', ''),
                    regexp_replace(name_key, '(ans|an)$', '')]) as stem
        from unmatched
        where source = 'span' and regexp_matches(name_key, '(ns|n|ers|er|ites|ite|i)$')
    ),
    unnest(['', 'o', 'a', 'ia', 'as']) as e(ending)
    where length(stem) >= 3
    union all
    -- a people named by the bare root of its land ("Abkhaz", "Uzbek", "Kurds")
    select doc_id, start_char, regexp_replace(name_key, 's$', '') || ending as stem_key
    from unmatched, unnest(['ia', 'istan', 'stan']) as e(ending)
    where source = 'span' and length(name_key) >= 4
),

demonym_matches as (
    select distinct
        d.doc_id,
        d.start_char,
        n.place_id,
        'demonym' as name_type,
        'context' as method,
        false as as_written
    from demonym_stems as d
    inner join place_names as n on n.name_key = d.stem_key
    inner join places as p on p.place_id = n.place_id
    where n.name_type in ('official', 'alternate')
        and (p.kind in ('country', 'region', 'continent') or p.origin = 'curated' and p.feature_code = 'RGN')
),

matches as (
    select
        doc_id,
        start_char,
        place_id,
        arg_min(method, case method when 'exact' then 0 when 'alias' then 1 when 'historic' then 2 else 3 end)
            as method,
        arg_min(name_type, case method when 'exact' then 0 when 'alias' then 1 when 'historic' then 2 else 3 end)
            as name_type,
        bool_or(as_written) as as_written
    from (select * from exact_matches union all select * from fuzzy_matches union all select * from partial_matches
          union all select * from demonym_matches)
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
            -- a region weighs like a city of its people (summed member places), up to a two-million city's
            when 'region' then case when p.population > 0 then least(9.5, 1.5 * log10(p.population)) else 9.5 end
            -- a curated region, sea or range is on the list because news names it often
            when 'other' then case when p.origin = 'curated' then 10.0 else 7.0 end
            -- a city by its people; a US postal place has no population figure, and cities500 lacks it,
            -- so it is a small town
            else case when p.origin = 'us_postal' then 4.5 else 1.5 * log10(greatest(p.population, 1)) end
                + case when p.feature_code = 'PPLC' then 1.5 else 0 end
        end
        + case x.method
            when 'exact' then 0.0
            when 'alias' then case when p.kind in ('country', 'continent') then 0.0 else -0.5 end
            when 'historic' then -1.5
            else -2.5
        end
        + case when x.name_type = 'partial' then -1.0 else 0.0 end
        + case
            when m.qualifier = 'region' and p.kind = 'region' then 8.0
            when m.qualifier = 'region' then -8.0
            when m.qualifier = 'county' and p.kind = 'other' then 8.0
            when m.qualifier = 'county' then -8.0
            else 0.0
        end
        + case when p.kind = 'region' and x.name_type not in ('official', 'ascii', 'demonym') then -2.0 else 0.0 end
        -- an abbreviation written with its full stops ("Fla.") is that abbreviation, not the town Flå
        + case when x.name_type = 'abbreviation' and not (x.as_written and contains(m.surface, '.')) then -3.0
               else 0.0 end
        + case when x.name_type = 'short' then -1.0 else 0.0 end
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
