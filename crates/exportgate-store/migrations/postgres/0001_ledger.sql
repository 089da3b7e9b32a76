-- Ledger schema for PostgreSQL. Amounts are BIGINT (i64); the CHECKs repeat the ledger invariants
-- so that even a buggy writer cannot store a negative balance or pass a limit.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    spec          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'expired')),
    limit_units   BIGINT,
    limit_value   BIGINT,
    limit_tpp     BIGINT,
    posted_units  BIGINT NOT NULL CHECK (posted_units >= 0),
    posted_value  BIGINT NOT NULL CHECK (posted_value >= 0),
    posted_tpp    BIGINT NOT NULL CHECK (posted_tpp >= 0),
    pending_units BIGINT NOT NULL CHECK (pending_units >= 0),
    pending_value BIGINT NOT NULL CHECK (pending_value >= 0),
    pending_tpp   BIGINT NOT NULL CHECK (pending_tpp >= 0),
    CHECK (limit_units IS NULL OR posted_units + pending_units <= limit_units),
    CHECK (limit_value IS NULL OR posted_value + pending_value <= limit_value),
    CHECK (limit_tpp   IS NULL OR posted_tpp   + pending_tpp   <= limit_tpp)
);

CREATE TABLE transfers (
    key         TEXT PRIMARY KEY,
    accounts    TEXT NOT NULL,
    units       BIGINT NOT NULL CHECK (units >= 0),
    value       BIGINT NOT NULL CHECK (value >= 0),
    tpp         BIGINT NOT NULL CHECK (tpp >= 0),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'posted', 'voided', 'expired')),
    reserved_at BIGINT NOT NULL,
    resolved_at BIGINT
);

CREATE TABLE transfer_accounts (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    key        TEXT NOT NULL REFERENCES transfers (key),
    PRIMARY KEY (account_id, key)
);

CREATE TABLE outcomes (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    reply       TEXT NOT NULL
);

CREATE TABLE licences (
    number     TEXT PRIMARY KEY,
    licence    TEXT NOT NULL,
    account_id TEXT NOT NULL UNIQUE REFERENCES accounts (id)
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the ledger never updates or deletes audit records. (A superuser can drop
-- this trigger; the hash chain is what catches that.)
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE INDEX transfer_accounts_key ON transfer_accounts (key);
