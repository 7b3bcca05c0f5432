-- one row per canonical actor. name: the most written full name (acronyms win ties: NATO over
-- Nato); country and title: the most common ones written next to its mentions (null when no text
-- gives one); story_count counts syndicated editions once.
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

docs as (
    select doc_id, coalesce(story_id, doc_id) as story_id from documents
),

names as (
    select
        global_key,
        name,
        count(*) as n,
        max(n_tokens) as n_tokens,
        length(regexp_replace(name, '[^A-Z]', '', 'g')) as n_upper
    from mentions
    where source <> 'coref' and name is not null
    group by global_key, name
),

best_name as (
    select global_key, name
    from names
    qualify row_number() over (
        partition by global_key
        order by (n_tokens >= 2) desc, n desc, n_upper desc, name
    ) = 1
),

best_title as (
    select global_key, title
    from mentions
    where title is not null and label = 'PERSON'
    group by global_key, title
    qualify row_number() over (partition by global_key order by count(*) desc, length(title) desc, title) = 1
),

best_country as (
    select global_key, country_code
    from mentions
    where country_code is not null
    group by global_key, country_code
    qualify row_number() over (partition by global_key order by count(*) desc, country_code) = 1
),

counts as (
    select
        m.global_key,
        any_value(m.label) as label,
        count(*) as mention_count,
        count(distinct m.doc_id) as doc_count,
        count(distinct d.story_id) as story_count,
        list(distinct m.surface order by m.surface) as aliases
    from mentions as m
    left join docs as d on d.doc_id = m.doc_id
    group by m.global_key
),

final as (
    select
        substr(md5(c.global_key), 1, 16) as actor_id,
        n.name,
        case when c.label = 'PERSON' then 'person' else 'organization' end as actor_type,
        bc.country_code,
        bt.title,
        c.aliases,
        c.mention_count,
        c.doc_count,
        c.story_count,
        c.global_key as actor_key
    from counts as c
    inner join best_name as n on n.global_key = c.global_key
    left join best_title as bt on bt.global_key = c.global_key
    left join best_country as bc on bc.global_key = c.global_key
)

select * from final
