-- config: materialized=incremental
-- an actor and a place named in the same sentence, with the sentence, one row per pair and sentence.
with actor_hits as (
    select distinct doc_id, actor_id, sentence_idx from fact_actor_mention
),

location_hits as (
    select distinct doc_id, location_id, sentence_idx from fact_location_mention
),

-- every sentence of a location mention is there, cut once per document (int_place_sentences)
place_sentences as (
    select * from int_place_sentences
),

docs as (
    select doc_id, coalesce(story_id, doc_id) as story_id from documents
),

pairs as (
    select
        a.doc_id,
        a.actor_id,
        l.location_id,
        a.sentence_idx
    from actor_hits as a
    inner join location_hits as l
        on l.doc_id = a.doc_id and l.sentence_idx = a.sentence_idx
),

final as (
    select
        p.doc_id,
        d.story_id,
        p.actor_id,
        p.location_id,
        p.sentence_idx,
        s.sentence
    from pairs as p
    inner join docs as d on d.doc_id = p.doc_id
    left join place_sentences as s
        on s.doc_id = p.doc_id and s.sentence_idx = p.sentence_idx
)

select * from final
