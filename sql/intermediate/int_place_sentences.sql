-- config: materialized=incremental
-- the text of every sentence that names a place, cut from its body once, when its document is (re)built:
-- a sentence an actor and a place share (fact_actor_location_cooccurrence) is one of them, and cutting text
-- by character position scans a UTF-8 body from its start, too slow to repeat for every document every run
with toponym_mentions as (
    select * from toponym_mentions
),

sentences as (
    select * from sentences
),

documents as (
    select * from documents
),

-- spans first, bodies joined last, so no join holds a copy of a body per sentence
spans as materialized (
    select s.doc_id, s.sentence_idx, s.start_char, s.end_char
    from (select distinct doc_id, sentence_idx from toponym_mentions) as t
    inner join sentences as s on s.doc_id = t.doc_id and s.sentence_idx = t.sentence_idx
),

final as (
    select
        s.doc_id,
        s.sentence_idx,
        substr(d.body, s.start_char + 1, s.end_char - s.start_char) as sentence
    from spans as s
    inner join documents as d on d.doc_id = s.doc_id
)

select * from final
