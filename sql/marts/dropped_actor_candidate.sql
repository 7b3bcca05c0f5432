-- config: materialized=incremental
-- person/organisation spans NER found that are not actors, each with the reason stated by the
-- actor stage (a place, a thing, a title fragment, ...): nothing NER calls a person or organisation
-- disappears without a trace.
with candidates as (
    select * from actor_mentions where drop_reason is not null
),

final as (
    select
        doc_id,
        start_char,
        end_char,
        surface,
        label as ner_label,
        sentence_idx,
        drop_reason as reason
    from candidates
)

select * from final
