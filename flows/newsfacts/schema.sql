-- Tables written by the Python stages. Idempotent: safe to run at every start.
create table if not exists raw_documents (
    content_hash varchar primary key,
    source_uri varchar not null,
    size_bytes bigint not null,
    media_type varchar,
    detected_encoding varchar,
    stored_bytes bigint,
    ingested_at timestamp not null,
    run_id varchar not null,
    pipeline_version varchar not null
);

create table if not exists input_files (
    run_id varchar not null,
    source_uri varchar not null,
    content_hash varchar,
    size_bytes bigint,
    status varchar not null,
    seen_at timestamp not null
);

create table if not exists quarantine (
    source_uri varchar not null,
    content_hash varchar,
    stage varchar not null,
    reason varchar not null,
    quarantined_at timestamp not null,
    run_id varchar not null
);

create table if not exists documents (
    doc_id varchar primary key,
    content_hash varchar not null,
    source_uri varchar not null,
    title varchar,
    body varchar not null,
    language varchar,
    published_date varchar,
    site_name varchar,
    author varchar,
    url varchar,
    media_type varchar,
    encoding varchar,
    encoding_repaired boolean,
    story_id varchar,
    story_similarity double,
    cleaned_at timestamp not null,
    run_id varchar not null,
    pipeline_version varchar not null
);

create table if not exists sentences (
    doc_id varchar not null,
    sentence_idx integer not null,
    paragraph_idx integer not null,
    start_char integer not null,
    end_char integer not null
);

create table if not exists entity_mentions (
    doc_id varchar not null,
    mention_id integer not null,
    start_char integer not null,
    end_char integer not null,
    surface varchar not null,
    label varchar not null,
    sentence_idx integer not null,
    source varchar not null,
    ner_model varchar not null
);

create table if not exists dq_results (
    run_id varchar not null,
    validated_at timestamp not null,
    stage varchar not null,
    table_name varchar not null,
    expectation varchar not null,
    column_name varchar,
    success boolean not null,
    element_count bigint,
    unexpected_count bigint,
    sample varchar
);

create table if not exists pipeline_runs (
    run_id varchar primary key,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,
    source varchar,
    pipeline_version varchar not null,
    ner_model varchar,
    gazetteer_version varchar,
    summary json
);

create table if not exists toponym_mentions (
    doc_id varchar not null,
    start_char integer not null,
    end_char integer not null,
    surface varchar not null,
    sentence_idx integer not null,
    name_key varchar,
    translit_key varchar,
    qualifier varchar,
    context_key varchar,
    source varchar not null
);

create table if not exists actor_mentions (
    doc_id varchar not null,
    start_char integer not null,
    end_char integer not null,
    surface varchar not null,
    label varchar not null,
    sentence_idx integer not null,
    actor_key varchar,
    title varchar,
    country_code varchar,
    source varchar not null,
    name varchar,
    first_key varchar,
    surname_key varchar,
    first_translit varchar,
    surname_translit varchar,
    n_tokens integer,
    honorific varchar,
    title_scope varchar,
    anchored boolean,
    drop_reason varchar
);
-- warehouses created before drop_reason existed get the column (null: every row was an actor mention).
alter table actor_mentions add column if not exists drop_reason varchar;

create table if not exists story_signatures (
    doc_id varchar not null,
    band integer not null,
    hash bigint not null
);

-- Documents whose per-document SQL models (`-- config: materialized=incremental`) the next transform must
-- rebuild: written in the same transaction as the document's rows, cleared when the transform commits.
create table if not exists pending_transform (
    doc_id varchar not null
);

-- Lineage added after the first release: which versions produced each document's rows.
-- A document whose versions differ from the running pipeline's is recomputed by the next run.
alter table documents add column if not exists entities_version varchar;
alter table documents add column if not exists ner_model varchar;
alter table documents add column if not exists gazetteer_version varchar;
alter table documents add column if not exists entities_run_id varchar;
alter table pipeline_runs add column if not exists stages varchar;
alter table pipeline_runs add column if not exists models_version varchar;
alter table input_files add column if not exists file_stamp varchar;
-- Raw bytes live in the raw store (newsfacts.rawstore); warehouses that held them in a ``raw`` column are
-- moved there when the run opens them, and get the stored size here.
alter table raw_documents add column if not exists stored_bytes bigint;

-- Publishing (warehouse.publish): one row per published run, and the publish in which each document's rows
-- last changed, so that a published copy a few runs behind is brought up to date by those documents alone.
create table if not exists publish_history (
    publish_seq bigint not null,
    run_id varchar not null,
    published_at timestamp not null
);
create table if not exists published_document_versions (
    doc_id varchar primary key,
    publish_seq bigint not null
);
