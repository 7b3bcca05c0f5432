-- Every mention of one place (here Pokrovsk) with the sentence it occurs in.
select l.name, m.surface, m.method, d.doc_id,
       substr(d.body, s.start_char + 1, s.end_char - s.start_char) as sentence
from fact_location_mention m
join dim_location l using (location_id)
join documents d using (doc_id)
join sentences s on s.doc_id = m.doc_id and s.sentence_idx = m.sentence_idx
where l.name = 'Pokrovsk'
order by d.doc_id, m.start_char
