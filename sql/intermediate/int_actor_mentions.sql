-- config: materialized=incremental
-- actor mention candidates kept as actors (drop_reason null: the others are dropped_actor_candidate),
-- with the country of place-bound offices filled in.
-- every candidate without a drop reason is an actor: a one-word name ("Saddam", "Reagan") is kept
-- even when no document writes it in full.
-- a local office ("Governor", "regional administration head") without a country word takes the
-- country of the nearest place named in the same sentence.
with mentions as (
    select * exclude (drop_reason) from actor_mentions where drop_reason is null
),

location_mentions as (
    select doc_id, location_id, start_char, sentence_idx from fact_location_mention
),

locations as (
    select location_id, country_code from dim_location
),

place_country as (
    select
        k.doc_id,
        k.start_char,
        l.country_code,
        row_number() over (
            partition by k.doc_id, k.start_char
            order by abs(lm.start_char - k.start_char), lm.start_char
        ) as rank_in_sentence
    from mentions as k
    inner join location_mentions as lm
        on lm.doc_id = k.doc_id and lm.sentence_idx = k.sentence_idx
    inner join locations as l on l.location_id = lm.location_id
    where k.title_scope = 'local' and k.country_code is null and l.country_code is not null
),

final as (
    select
        k.* replace (coalesce(k.country_code, pc.country_code) as country_code),
        case
            when k.country_code is not null then 'text'
            when pc.country_code is not null then 'place'
        end as country_source
    from mentions as k
    left join place_country as pc
        on pc.doc_id = k.doc_id and pc.start_char = k.start_char and pc.rank_in_sentence = 1
)

select * from final
