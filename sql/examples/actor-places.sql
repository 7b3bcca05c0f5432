-- Which actors are named in the same sentence as which places, counted by distinct story.
select a.name as actor, l.name as place, count(distinct c.story_id) as stories, count(*) as sentences
from fact_actor_location_cooccurrence c
join dim_actor a using (actor_id)
join dim_location l using (location_id)
group by all
order by stories desc, sentences desc, actor, place
limit 10
