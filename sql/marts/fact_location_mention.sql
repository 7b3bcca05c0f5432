-- config: materialized=incremental
-- one row per resolved toponym mention
with mentions as (
    select * from toponym_mentions
),

resolved as (
    select * from int_toponym_resolved
),

documents as (
    select * from documents
),

final as (
    select
        m.doc_id,
        r.place_id as location_id,
        m.start_char,
        m.end_char,
        m.surface,
        m.sentence_idx,
        r.method,
        r.confidence,
        m.qualifier,
        m.source,
        d.entities_version as pipeline_version,
        d.ner_model,
        d.gazetteer_version
    from mentions as m
    inner join resolved as r on r.doc_id = m.doc_id and r.start_char = m.start_char
    left join documents as d on d.doc_id = m.doc_id
    where r.is_accepted
)

select * from final
