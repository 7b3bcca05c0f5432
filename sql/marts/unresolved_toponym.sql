-- config: materialized=incremental
-- toponym mentions the pipeline could not place, and why
with mentions as (
    select * from toponym_mentions
),

resolved as (
    select * from int_toponym_resolved
),

final as (
    select
        m.doc_id,
        m.start_char,
        m.end_char,
        m.surface,
        case
            when r.doc_id is null then 'no gazetteer entry'
            else 'weak match: best candidate scored ' || round(r.score, 1)
        end as reason
    from mentions as m
    left join resolved as r on r.doc_id = m.doc_id and r.start_char = m.start_char
    where r.doc_id is null or not r.is_accepted
)

select * from final
