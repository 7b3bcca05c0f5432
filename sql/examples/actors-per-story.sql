-- Each story (its editions grouped) with its headline, editions and the actors it mentions.
select d.story_id, count(distinct d.doc_id) as editions, any_value(d.title order by d.title nulls last) as title,
       string_agg(distinct a.name, ', ' order by a.name) as actors
from documents d
join fact_actor_mention m using (doc_id)
join dim_actor a using (actor_id)
group by d.story_id
order by editions desc, d.story_id
