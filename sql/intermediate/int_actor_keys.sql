-- across documents: a person is a (first name, surname) pair compared transliteration-blind
-- (Zelensky / Zelenskyy / Zelenskiy meet; Zelenska and Belousova do not, a different first name
-- does not). a document that gives only a surname joins the one full name known for it elsewhere.
-- unresolved definite descriptions ("The Russian president") join the one person of their
-- document whose country, from all documents, is the one described.
-- an organisation's acronym that a document links to a full name ("the World Health Organization
-- (WHO)") is that organisation in every document that writes the acronym alone, when no document
-- links it to another name (then it keeps its own key everywhere it stands alone).
-- only the key is stored, by mention: the marts take every other column from int_actor_doc_keys, so
-- this whole-rebuilt table does not copy every column of every mention (800,000 at 20,000 documents) each run
with mentions as (
    select * from int_actor_doc_keys
),

full_by_surname as (
    select
        surname_translit,
        count(distinct doc_person_key) as n_full,
        min(doc_person_key) as only_key
    from mentions
    where doc_person_key is not null
    group by surname_translit
),

acronym_links as (
    select
        lower(surface) as acronym_key,
        count(distinct actor_key) as n_names,
        min(actor_key) as only_key
    from mentions
    where label = 'ORG' and regexp_matches(surface, '^[A-Z][A-Z&]{1,5}$') and actor_key <> lower(surface)
    group by lower(surface)
),

keyed as (
    select
        m.*,
        case
            when m.label = 'ORG' then 'org:' || coalesce(
                case when a.n_names = 1 then a.only_key end,
                m.actor_key
            )
            when m.actor_key is null then null
            else 'person:' || coalesce(
                m.doc_person_key,
                case when f.n_full = 1 then f.only_key end,
                m.surname_translit
            )
        end as global_key
    from mentions as m
    left join full_by_surname as f on f.surname_translit = m.surname_translit
    left join acronym_links as a on a.acronym_key = m.actor_key
),

person_country as (
    select
        global_key,
        mode(country_code) as country_code
    from keyed
    where global_key like 'person:%' and country_code is not null
    group by global_key
),

coref_candidates as (
    select
        c.doc_id,
        c.start_char,
        count(distinct k.global_key) as n_candidates,
        min(k.global_key) as only_key
    from keyed as c
    inner join keyed as k
        on k.doc_id = c.doc_id and k.start_char < c.start_char and k.global_key like 'person:%'
    inner join person_country as pc
        on pc.global_key = k.global_key and pc.country_code = c.country_code
    where c.global_key is null and c.source = 'coref'
    group by c.doc_id, c.start_char
),

final as (
    select
        k.doc_id,
        k.start_char,
        coalesce(k.global_key, case when cc.n_candidates = 1 then cc.only_key end) as global_key
    from keyed as k
    left join coref_candidates as cc
        on cc.doc_id = k.doc_id and cc.start_char = k.start_char
)

select * from final where global_key is not null
