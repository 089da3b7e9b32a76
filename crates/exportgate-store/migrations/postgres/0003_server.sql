-- The server's tables: users (the persons keys belong to), API keys (SHA-256 hashes only),
-- review cases, allow-list clearances. Times are RFC 3339 text, as in SQLite.
CREATE TABLE IF NOT EXISTS server_users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS server_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    user_id BIGINT REFERENCES server_users (id)
);
CREATE TABLE IF NOT EXISTS server_cases (
    id BIGSERIAL PRIMARY KEY,
    created_at TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_name TEXT NOT NULL,
    order_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    why TEXT NOT NULL,
    order_json TEXT NOT NULL,
    decision_json TEXT NOT NULL,
    trace_json TEXT NOT NULL,
    screening_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    resolved_by TEXT,
    resolved_name TEXT,
    resolved_at TEXT,
    resolution_reason TEXT,
    audit_seq BIGINT,
    submitted_user BIGINT REFERENCES server_users (id)
);
CREATE INDEX IF NOT EXISTS server_cases_status ON server_cases (status, id);
CREATE INDEX IF NOT EXISTS server_cases_order ON server_cases (order_id, status);
CREATE TABLE IF NOT EXISTS server_allow (
    id BIGSERIAL PRIMARY KEY,
    party_name TEXT NOT NULL,
    entry TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    reason TEXT NOT NULL,
    expires TEXT NOT NULL,
    case_id BIGINT,
    created_at TEXT NOT NULL
);
