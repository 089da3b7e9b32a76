-- Imported restricted-party lists: each import is a version of its source; the entries of a
-- version are its parsed records as JSON.
CREATE TABLE IF NOT EXISTS list_versions (
    id          BIGSERIAL PRIMARY KEY,
    source      TEXT NOT NULL,
    format      TEXT NOT NULL,
    data_date   TEXT,
    imported_on TEXT NOT NULL,
    entry_count BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    origin      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS list_versions_source ON list_versions (source, id);
CREATE TABLE IF NOT EXISTS list_entries (
    version_id BIGINT NOT NULL REFERENCES list_versions (id),
    seq        BIGINT NOT NULL,
    entry      TEXT NOT NULL,
    PRIMARY KEY (version_id, seq)
);
