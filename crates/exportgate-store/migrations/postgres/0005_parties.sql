-- Party records (issue 16): a customer file per party, the record itself as JSON (validated by
-- exportgate-core before it is written). Every write appends an audit record in the same
-- transaction; audit_seq is the seq of the last one.
CREATE TABLE parties (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    country    TEXT NOT NULL,
    review_by  TEXT NOT NULL,
    record     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    audit_seq  BIGINT NOT NULL
);
