-- Documents, their update logs and snapshots (the Store interface), plus the tables the
-- image-blob and AI-task features fill later. Timestamps are timestamptz; the store converts
-- them to and from Unix seconds. Ids use the "C" collation so that ordering by id is bytewise,
-- as in SQLite, whatever the database's locale.

CREATE TABLE documents (
    id            text COLLATE "C" PRIMARY KEY,
    owner         text,
    name          text NOT NULL,
    width         integer NOT NULL,
    height        integer NOT NULL,
    dpi           integer NOT NULL,
    color_profile text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_seq      bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0)
);
CREATE INDEX documents_created ON documents (created_at, id);

-- The update log: opaque CRDT updates, numbered per document. Rows up to the newest
-- snapshot's seq are deleted when the snapshot is written (compaction).
CREATE TABLE updates (
    doc_id     text COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (doc_id, seq)
);

CREATE TABLE snapshots (
    id         bigserial PRIMARY KEY,
    doc_id     text COLLATE "C" NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    seq        bigint NOT NULL,
    state      bytea NOT NULL,
    label      text,  -- NULL: automatic, pruned beyond keep_auto_snapshots; else kept
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX snapshots_doc_seq ON snapshots (doc_id, seq DESC, id DESC);

-- Content-addressed image data (layer pixels, AI inputs and outputs).
CREATE TABLE blobs (
    sha256     text PRIMARY KEY,
    size       bigint NOT NULL,
    media_type text NOT NULL,
    width      integer,
    height     integer,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- AI jobs and their accounting. No foreign key to documents: a task's record outlives the
-- document it worked on.
CREATE TABLE ai_tasks (
    id           text PRIMARY KEY,
    doc_id       text NOT NULL,
    user_id      text,
    type         text NOT NULL,
    status       text NOT NULL,
    model        text,
    prompt       text,
    params       jsonb NOT NULL DEFAULT '{}',
    input_bytes  bigint,
    output_bytes bigint,
    error        text,
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    latency_ms   double precision
);
CREATE INDEX ai_tasks_doc ON ai_tasks (doc_id, created_at);
CREATE INDEX ai_tasks_status ON ai_tasks (status, created_at);
