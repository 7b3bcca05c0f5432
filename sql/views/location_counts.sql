-- mentions, documents and distinct stories per place: syndicated editions count as one story.
with mentions as (
    select * from fact_location_mention
),

locations as (
    select * from dim_location
),

docs as (
    select doc_id, coalesce(story_id, doc_id) as story_id from documents
),

final as (
    select
        l.location_id,
        l.name,
        l.country_code,
        count(*) as mention_count,
        count(distinct m.doc_id) as doc_count,
        count(distinct d.story_id) as story_count
    from mentions as m
    inner join locations as l on l.location_id = m.location_id
    inner join docs as d on d.doc_id = m.doc_id
    group by all
)

select * from final
