-- mentions, documents and distinct stories per actor: syndicated editions count as one story.
with mentions as (
    select * from fact_actor_mention
),

actors as (
    select actor_id, name, actor_type, country_code, title from dim_actor
),

docs as (
    select doc_id, coalesce(story_id, doc_id) as story_id from documents
),

final as (
    select
        a.actor_id,
        a.name,
        a.actor_type,
        a.country_code,
        a.title,
        count(*) as mention_count,
        count(distinct m.doc_id) as doc_count,
        count(distinct d.story_id) as story_count
    from mentions as m
    inner join actors as a on a.actor_id = m.actor_id
    inner join docs as d on d.doc_id = m.doc_id
    group by all
)

select * from final
