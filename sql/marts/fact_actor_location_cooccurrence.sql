-- an actor and a place named in the same sentence, with the sentence, one row per pair and sentence.
with actor_hits as (
    select distinct doc_id, actor_id, sentence_idx from fact_actor_mention
),

location_hits as (
    select distinct doc_id, location_id, sentence_idx from fact_location_mention
),

sents as (
    select doc_id, sentence_idx, start_char, end_char from sentences
),

docs as (
    select doc_id, body, coalesce(story_id, doc_id) as story_id from documents
),

final as (
    select
        a.doc_id,
        d.story_id,
        a.actor_id,
        l.location_id,
        a.sentence_idx,
        substr(d.body, s.start_char + 1, s.end_char - s.start_char) as sentence
    from actor_hits as a
    inner join location_hits as l
        on l.doc_id = a.doc_id and l.sentence_idx = a.sentence_idx
    inner join docs as d on d.doc_id = a.doc_id
    left join sents as s
        on s.doc_id = a.doc_id and s.sentence_idx = a.sentence_idx
)

select * from final
