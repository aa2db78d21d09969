-- The newest lease fencing token a snapshot write carried, per document: a snapshot write
-- with an older token (its writer lost the lease to another instance) is refused.
CREATE TABLE snapshot_fences (
    doc_id text COLLATE "C" PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    fence  bigint NOT NULL CHECK (fence >= 0)
);
