-- config: materialized=incremental whole=documents,int_toponym_doc_context
-- where each news source's stories happen: a local paper's places cluster in its home region, so a bare
-- "Paris" in the Paris (Texas) paper is that Paris (Lieberman's "local lexicon"); learnt from the source's
-- own documents, one vote per distinct place name across them, so no list of publishers is needed
with candidates as (
    select * from int_toponym_candidates
),

doc_context as (
    select * from int_toponym_doc_context
),

documents as (
    select * from documents
),

-- the source of a document is the host of its URL, else its site name; documents with neither have none
doc_sources as (
    select
        doc_id,
        coalesce(
            nullif(regexp_replace(lower(regexp_extract(url, '^[a-z][a-z0-9+.-]*://([^/:?#]+)', 1)), '^www\.', ''), ''),
            nullif(lower(trim(site_name)), '')
        ) as source_key
    from documents
),

-- a national domain says the country ("lfpress.ca", "thisisoxfordshire.co.uk"); domains sold worldwide
-- (.tv, .io, .co, .me, .fm, .ly, .ai, .ws, .cc) say nothing
doc_domain_countries as (
    select doc_id, case tld when 'uk' then 'GB' else upper(tld) end as country_code
    from (select doc_id, regexp_extract(source_key, '\.([a-z]{2})$', 1) as tld from doc_sources)
    where tld <> '' and tld not in ('tv', 'io', 'co', 'me', 'fm', 'ly', 'ai', 'ws', 'cc', 'eu')
),

-- the sources of the documents being built: only their other documents are read (an incremental run
-- gives this model the candidates of the documents it rebuilds, and every document's context)
built_sources as (
    select distinct s.source_key
    from doc_sources as s
    semi join candidates as c on c.doc_id = s.doc_id
    where s.source_key is not null
),

sourced as (
    select s.source_key, d.*
    from doc_context as d
    inner join doc_sources as s on s.doc_id = d.doc_id
    semi join built_sources as b on b.source_key = s.source_key
    where d.kind in ('city', 'region', 'other')
),

-- a source speaks for a region only from several of its documents
sources as (
    select source_key
    from sourced
    group by all
    having count(distinct doc_id) >= 2
),

name_mentions as (
    select source_key, name_key, count(distinct (doc_id, start_char)) as mentions
    from sourced
    group by all
),

-- each distinct name votes once, spread over its context-free readings
name_admin1 as (
    select s.source_key, s.name_key, s.country_code, s.admin1_code, sum(s.p1) / any_value(nm.mentions) as v
    from sourced as s
    inner join sources using (source_key)
    inner join name_mentions as nm on nm.source_key = s.source_key and nm.name_key = s.name_key
    where s.admin1_code is not null
    group by all
),

source_names as (
    select source_key, count(distinct name_key) as names
    from name_mentions
    inner join sources using (source_key)
    group by all
),

source_admin1 as (
    select source_key, country_code, admin1_code, sum(v) as w
    from name_admin1
    group by all
),

source_countries as (
    select source_key, country_code, sum(v) as w
    from name_admin1
    group by all
),

own_countries as (
    select source_key, name_key, country_code, sum(v) as v
    from name_admin1
    group by all
),

-- a country's or continent's name is that country to any source ("Mexico" is not Mexico, Missouri, in a
-- Missouri paper), and a town is only read by its own names, not a historic or look-alike one
country_names as (
    select distinct doc_id, start_char
    from candidates
    where kind in ('country', 'continent') and method in ('exact', 'alias')
),

-- the share of a source's other place names that lie in a candidate's first-level region and country
final as (
    select
        c.doc_id,
        c.start_char,
        c.place_id,
        coalesce((sa.w - coalesce(oa.v, 0)) / greatest(n.names - 1, 1), 0) as admin1_share,
        coalesce((sc.w - coalesce(oc.v, 0)) / greatest(n.names - 1, 1), 0) as country_share,
        dd.doc_id is not null as domain_country
    from candidates as c
    inner join doc_sources as d on d.doc_id = c.doc_id
    left join source_names as n on n.source_key = d.source_key
    left join doc_domain_countries as dd on dd.doc_id = c.doc_id and dd.country_code = c.country_code
    left join source_admin1 as sa
        on sa.source_key = d.source_key and sa.country_code = c.country_code and sa.admin1_code = c.admin1_code
    left join name_admin1 as oa
        on oa.source_key = d.source_key and oa.name_key = c.name_key
        and oa.country_code = c.country_code and oa.admin1_code = c.admin1_code
    left join source_countries as sc on sc.source_key = d.source_key and sc.country_code = c.country_code
    left join own_countries as oc
        on oc.source_key = d.source_key and oc.name_key = c.name_key and oc.country_code = c.country_code
    anti join country_names as cn on cn.doc_id = c.doc_id and cn.start_char = c.start_char
    where c.kind in ('city', 'other') and c.method in ('exact', 'alias')
        and (n.source_key is not null or dd.doc_id is not null)
)

select * from final
