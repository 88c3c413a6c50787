-- Vendor access (schema 2): OAuth clients, the owner's grants, tokens, consent receipts and
-- the access log. Credentials are stored only as SHA-256 hashes; everything the owner wrote
-- (redirect URIs, categories, purposes, receipts) is sealed.

-- One client per vendor; removing the vendor removes its client and, through it, its tokens.
CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    vendor_id   TEXT NOT NULL UNIQUE REFERENCES vendors(id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    blob        BLOB NOT NULL
) STRICT;

CREATE TABLE grants (
    id         TEXT PRIMARY KEY,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX grants_by_vendor ON grants(vendor_id);

-- `scopes` is a bit set (a state, not content); the categories a token covers are sealed.
CREATE TABLE tokens (
    hash       BLOB PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    scopes     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX tokens_by_grant ON tokens(grant_id);
CREATE INDEX tokens_by_client ON tokens(client_id);

-- Receipts outlive their vendor (no cascade): they are the owner's record of consent.
CREATE TABLE receipts (
    id         TEXT PRIMARY KEY,
    vendor_id  TEXT NOT NULL,
    grant_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX receipts_by_vendor ON receipts(vendor_id);

-- Access log entries also outlive their vendor. `seq` orders them; `id` is the random id the
-- sealed content is bound to; what was accessed is sealed.
CREATE TABLE access_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    at        INTEGER NOT NULL,
    vendor_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    blob      BLOB NOT NULL
) STRICT;
CREATE INDEX access_log_by_vendor ON access_log(vendor_id, seq);
