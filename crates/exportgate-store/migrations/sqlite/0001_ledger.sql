-- Ledger schema for SQLite. Amounts are INTEGER (i64); the CHECKs repeat the ledger invariants
-- so that even a buggy writer cannot store a negative balance or pass a limit.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    spec          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'expired')),
    limit_units   INTEGER,
    limit_value   INTEGER,
    limit_tpp     INTEGER,
    posted_units  INTEGER NOT NULL CHECK (posted_units >= 0),
    posted_value  INTEGER NOT NULL CHECK (posted_value >= 0),
    posted_tpp    INTEGER NOT NULL CHECK (posted_tpp >= 0),
    pending_units INTEGER NOT NULL CHECK (pending_units >= 0),
    pending_value INTEGER NOT NULL CHECK (pending_value >= 0),
    pending_tpp   INTEGER NOT NULL CHECK (pending_tpp >= 0),
    CHECK (limit_units IS NULL OR posted_units + pending_units <= limit_units),
    CHECK (limit_value IS NULL OR posted_value + pending_value <= limit_value),
    CHECK (limit_tpp   IS NULL OR posted_tpp   + pending_tpp   <= limit_tpp)
);

CREATE TABLE transfers (
    key         TEXT PRIMARY KEY,
    accounts    TEXT NOT NULL,
    units       INTEGER NOT NULL CHECK (units >= 0),
    value       INTEGER NOT NULL CHECK (value >= 0),
    tpp         INTEGER NOT NULL CHECK (tpp >= 0),
    state       TEXT NOT NULL CHECK (state IN ('pending', 'posted', 'voided', 'expired')),
    reserved_at INTEGER NOT NULL,
    resolved_at INTEGER
);

CREATE TABLE transfer_accounts (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    key        TEXT NOT NULL REFERENCES transfers (key),
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;

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
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the ledger never updates or deletes audit records. (Someone with write access
-- to the file can drop these triggers; the hash chain is what catches that.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
