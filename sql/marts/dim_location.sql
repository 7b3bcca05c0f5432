-- places mentioned at least once, with the analyst's attributes
with resolved as (
    select * from int_toponym_resolved
),

places as (
    select * from gaz.place
),

meta as (
    select value as gazetteer_version from gaz.meta where key = 'version'
),

final as (
    select
        p.place_id as location_id,
        p.name,
        p.kind,
        p.geonameid,
        p.iso3166_2,
        p.country_code,
        p.latitude,
        p.longitude,
        p.population,
        p.admin1_code,
        p.admin1_name,
        p.admin1_iso,
        p.feature_class,
        p.feature_code,
        p.origin as gazetteer_source,
        meta.gazetteer_version
    from places as p
    cross join meta
    where p.place_id in (select place_id from resolved where is_accepted)
)

select * from final
