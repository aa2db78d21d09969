-- Accounts, document members and share links (access control).
CREATE TABLE users (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    created_at double precision NOT NULL
);

CREATE TABLE document_members (
    doc_id text NOT NULL,
    user_id text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    PRIMARY KEY (doc_id, user_id)
);

CREATE TABLE share_links (
    id text PRIMARY KEY,
    doc_id text NOT NULL,
    role text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_by text NOT NULL,
    created_at double precision NOT NULL,
    expires_at double precision,
    revoked_at double precision
);
CREATE INDEX share_links_doc ON share_links (doc_id, created_at);
