-- Retention (issue 19 item 4): where the stored audit log starts after `audit prune` removed
-- a prefix. One row at most: the seq and hash of the last removed record and the checkpoint
-- (JSON) of the ledger after it. No row: the log starts at record 1 (genesis). The newest
-- `audit_pruned` record in the log names this row (with the checkpoint's sha256).
CREATE TABLE audit_base (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    seq        BIGINT NOT NULL CHECK (seq > 0),
    hash       TEXT NOT NULL,
    checkpoint TEXT NOT NULL
);

-- Still append-only, except that records up to the stored base may be deleted (by a prune,
-- which stores the new base first, in the same transaction).
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.seq <= COALESCE((SELECT seq FROM audit_base WHERE id = 1), 0) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
