-- Optional expiry of an API key (RFC 3339; from that instant the key is refused like a
-- revoked one).
ALTER TABLE server_keys ADD COLUMN expires_at TEXT;
