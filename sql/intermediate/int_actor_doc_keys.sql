-- config: materialized=incremental
-- within one document, fold person mentions on the surname (transliteration-blind): "Putin",
-- "Mr Putin", "Putin's" and recovered "Zelenskyy" take the full name written in the document.
-- with several full names sharing a surname (Joe / Hunter Biden) a bare surname takes the nearest
-- full name written before it. organisations keep their rule-normalised key.
with mentions as (
    select * from int_actor_mentions
),

people as (
    select * from mentions where label = 'PERSON' and actor_key is not null
),

full_names as (
    select
        doc_id,
        start_char,
        surname_translit,
        first_translit || ' ' || surname_translit as person_key
    from people
    where n_tokens >= 2
),

variants as (
    select
        doc_id,
        surname_translit,
        count(distinct person_key) as n_variants,
        min(person_key) as only_key
    from full_names
    group by doc_id, surname_translit
),

nearest_before as (
    select
        p.doc_id,
        p.start_char,
        f.person_key
    from people as p
    asof left join full_names as f
        on p.doc_id = f.doc_id
        and p.surname_translit = f.surname_translit
        and p.start_char >= f.start_char
),

people_keyed as (
    select
        p.*,
        case
            when p.n_tokens >= 2 then p.first_translit || ' ' || p.surname_translit
            when v.n_variants = 1 then v.only_key
            else nb.person_key
        end as doc_person_key
    from people as p
    left join variants as v
        on v.doc_id = p.doc_id and v.surname_translit = p.surname_translit
    left join nearest_before as nb
        on nb.doc_id = p.doc_id and nb.start_char = p.start_char
),

others as (
    select
        *,
        cast(null as varchar) as doc_person_key
    from mentions
    where not (label = 'PERSON' and actor_key is not null)
),

final as (
    select * from people_keyed
    union all by name
    select * from others
)

select * from final
