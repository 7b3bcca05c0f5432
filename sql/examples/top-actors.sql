-- Top actors by distinct stories (syndicated editions of one story count once), then by mentions.
select name, actor_type, country_code, title, story_count, doc_count, mention_count
from actor_counts
order by story_count desc, mention_count desc, name
limit 10
