-- GET /api/docs lists the documents a user may see (owned or shared with them) in the query:
-- the memberships of one user, found without scanning every document's members.
CREATE INDEX document_members_user ON document_members (user_id, doc_id);
