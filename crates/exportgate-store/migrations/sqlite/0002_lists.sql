-- Imported restricted-party lists: each import is a version of its source; the entries of a
-- version are its parsed records as JSON. `IF NOT EXISTS`: files from before the one migration
-- mechanism already have these tables.
CREATE TABLE IF NOT EXISTS list_versions (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    format      TEXT NOT NULL,
    data_date   TEXT,
    imported_on TEXT NOT NULL,
    entry_count INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    origin      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS list_versions_source ON list_versions (source, id);
CREATE TABLE IF NOT EXISTS list_entries (
    version_id INTEGER NOT NULL REFERENCES list_versions (id),
    seq        INTEGER NOT NULL,
    entry      TEXT NOT NULL,
    PRIMARY KEY (version_id, seq)
);
