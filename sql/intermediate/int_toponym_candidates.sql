-- config: materialized=incremental
-- every gazetteer place a toponym mention could denote, with its context-free features (base_score is
-- filled in by the learned ranker right after this model is built)
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
        -- the best way the name matched: by method, then by the kind of name, then by name; a total order,
        -- so the result never depends on the order rows arrive in (threads and Dask agree)
        arg_min(method, (method_rank, type_rank, method, name_type)) as method,
        arg_min(name_type, (method_rank, type_rank, method, name_type)) as name_type,
        bool_or(as_written) as as_written
    from (
        select
            *,
            case method when 'exact' then 0 when 'alias' then 1 when 'historic' then 2 else 3 end as method_rank,
            case name_type when 'official' then 0 when 'ascii' then 1 when 'alternate' then 2 else 3 end as type_rank
        from (select * from exact_matches union all select * from fuzzy_matches union all select * from partial_matches
              union all select * from demonym_matches)
    )
    group by doc_id, start_char, place_id
),

-- explainable, context-free features of each (mention, candidate) pair; the learned ranker
-- (flows/newsfacts/ranker.py) turns them into base_score, no weight is set by hand here
features as (
    select
        m.doc_id,
        m.start_char,
        m.end_char,
        m.surface,
        m.name_key,
        m.qualifier,
        m.context_key,
        m.source,
        x.place_id,
        x.method,
        x.name_type,
        x.as_written,
        p.kind,
        p.origin,
        p.country_code,
        p.admin1_code,
        p.admin2_id,
        p.population,
        p.feature_code,
        p.latitude,
        p.longitude,
        log10(greatest(p.population, 0) + 1) as log_population,
        m.surface = upper(m.surface) as surface_upper,
        contains(m.surface, '.') as surface_dotted,
        length(m.name_key) as name_length,
        m.end_char - m.start_char - length(m.surface) as surface_trimmed,
        -- a month, weekday or language-like word is rarely the hamlet of that name
        m.name_key in ('january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september',
                       'october', 'november', 'december', 'monday', 'tuesday', 'wednesday', 'thursday',
                       'friday', 'saturday', 'sunday') as is_calendar_word
    from mentions as m
    inner join matches as x on x.doc_id = m.doc_id and x.start_char = m.start_char
    inner join places as p on p.place_id = x.place_id
),

-- a name the gazetteer also lists as a people's name ("English", "Kurdish") is evidence of a non-place
demonym_names as (
    select distinct name_key from place_names where name_type = 'demonym'
),

-- what the text says outright narrows the readings before any scoring: a name written as a region ("Krasnodar
-- region") or a county ("Edgar County") is that kind of place when the gazetteer has one; a region that shares
-- its name with a city of 50,000 people or more inside it ("Geneva"), or with its country's capital ("Moscow"),
-- is read as the city unless the text says region
-- one sense per document: a name the document writes as a region once ("the Luhansk and Donetsk regions")
-- is that region wherever else it stands bare ("nearly all of Luhansk")
region_senses as (
    select distinct doc_id, name_key from mentions where qualifier = 'region'
),

readings as (
    select
        f.*,
        coalesce(f.qualifier = 'region', false) or (f.qualifier is null and r.doc_id is not null) as as_region,
        bool_or(f.kind = 'region') over (partition by f.doc_id, f.start_char) as has_region,
        bool_or(f.kind = 'other') over (partition by f.doc_id, f.start_char) as has_other,
        bool_or(f.kind = 'city' and f.population >= 50000 and f.method in ('exact', 'alias'))
            over (partition by f.doc_id, f.start_char, f.country_code, f.admin1_code)
        or bool_or(f.kind = 'city' and f.feature_code = 'PPLC' and f.method in ('exact', 'alias'))
            over (partition by f.doc_id, f.start_char, f.country_code) as has_namesake_city
    from features as f
    left join region_senses as r on r.doc_id = f.doc_id and r.name_key = f.name_key
),

kept as (
    select * exclude (as_region, has_region, has_other, has_namesake_city)
    from readings
    where case
        when as_region and has_region then kind = 'region'
        when qualifier = 'county' and has_other then kind = 'other'
        when qualifier is null and kind = 'region' and not as_region then not has_namesake_city
        else true
    end
),

-- how the candidate stands among the mention's other candidates
final as (
    select
        f.*,
        f.name_key in (select name_key from demonym_names) as is_demonym_word,
        count(*) over (partition by f.doc_id, f.start_char) as candidates,
        max(f.log_population) over (partition by f.doc_id, f.start_char) - f.log_population as population_gap,
        rank() over (partition by f.doc_id, f.start_char order by f.population desc) as population_rank,
        sum(case when f.kind = 'country' then 1 else 0 end) over (partition by f.doc_id, f.start_char)
            as country_readings,
        null::double as base_score
    from kept as f
)

select * from final
