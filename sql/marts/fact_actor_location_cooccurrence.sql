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

-- pairs with their sentence spans, materialised first: bodies then join once, as the last step, so no
-- join ever holds a copy of a body per pair (that took gigabytes on 10,000 documents)
pairs as materialized (
    select
        a.doc_id,
        a.actor_id,
        l.location_id,
        a.sentence_idx,
        s.start_char,
        s.end_char
    from actor_hits as a
    inner join location_hits as l
        on l.doc_id = a.doc_id and l.sentence_idx = a.sentence_idx
    left join sents as s
        on s.doc_id = a.doc_id and s.sentence_idx = a.sentence_idx
),

final as (
    select
        p.doc_id,
        d.story_id,
        p.actor_id,
        p.location_id,
        p.sentence_idx,
        substr(d.body, p.start_char + 1, p.end_char - p.start_char) as sentence
    from pairs as p
    inner join docs as d on d.doc_id = p.doc_id
)

select * from final
