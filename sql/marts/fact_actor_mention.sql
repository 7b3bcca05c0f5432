-- config: materialized=incremental
-- one row per actor mention, keyed to dim_actor; title and country are what this mention's own
-- context says (dim_actor carries the most common ones).
with doc_mentions as (
    select * from int_actor_doc_keys
),

actor_keys as (
    select * from int_actor_keys
),

mentions as (
    select m.*, k.global_key
    from doc_mentions as m
    inner join actor_keys as k on k.doc_id = m.doc_id and k.start_char = m.start_char
),

documents as (
    select * from documents
),

final as (
    select
        m.doc_id,
        substr(md5(global_key), 1, 16) as actor_id,
        m.start_char,
        m.end_char,
        m.surface,
        m.title,
        m.country_code,
        m.country_source,
        m.sentence_idx,
        m.source,
        m.honorific,
        d.entities_version as pipeline_version,
        d.ner_model,
        d.gazetteer_version
    from mentions as m
    left join documents as d on d.doc_id = m.doc_id
)

select * from final
