-- config: materialized=incremental
-- first pass: what each document is about (countries, first-level regions, anchor points),
-- from the context-free best reading of every mention
with candidates as (
    select * from int_toponym_candidates
),

exponentials as (
    select
        *,
        exp(base_score - max(base_score) over (partition by doc_id, start_char)) as e
    from candidates
),

probabilities as (
    select
        *,
        e / sum(e) over (partition by doc_id, start_char) as p1
    from exponentials
),

final as (
    select
        doc_id,
        start_char,
        name_key,
        place_id,
        kind,
        country_code,
        admin1_code,
        latitude,
        longitude,
        p1,
        count(distinct start_char) over (partition by doc_id) as doc_mentions
    from probabilities
    where p1 >= 0.05
)

select * from final
