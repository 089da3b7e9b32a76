-- Party records changed since a given audit seq (issue 16): a server re-reads the records
-- written by other processes (another server, the CLI) by the largest audit_seq, which every
-- write raises, so the check is one index lookup rather than a scan of every record.
CREATE INDEX parties_audit_seq ON parties (audit_seq);
