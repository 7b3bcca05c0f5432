-- Places on a map-ready list: coordinates, ISO codes and how often they are mentioned.
select l.name, l.kind, l.country_code, coalesce(l.iso3166_2, l.admin1_iso) as iso3166_2, l.geonameid,
       round(l.latitude, 3) as lat, round(l.longitude, 3) as lon, c.story_count, c.mention_count
from dim_location l
join location_counts c using (location_id)
order by c.story_count desc, c.mention_count desc, l.name
limit 15
