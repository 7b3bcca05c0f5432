-- one row per actor mention, keyed to dim_actor; title and country are what this mention's own
-- context says (dim_actor carries the most common ones).
with mentions as (
    select * from int_actor_keys
),

final as (
    select
        doc_id,
        substr(md5(global_key), 1, 16) as actor_id,
        start_char,
        end_char,
        surface,
        title,
        country_code,
        country_source,
        sentence_idx,
        source,
        honorific
    from mentions
)

select * from final
