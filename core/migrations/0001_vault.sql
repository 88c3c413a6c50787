-- Carnet vault, schema 1. Clear columns are limited to ids, timestamps (Unix milliseconds,
-- set by carnetd), state flags and foreign keys; everything the owner wrote is in `blob`,
-- sealed with the vault key and bound to its table and id.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- SHA-256 of the owner token (a high-entropy random string, so no slow hash is needed).
CREATE TABLE owner_tokens (
    hash       BLOB PRIMARY KEY,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE vendors (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;

CREATE TABLE interactions (
    id         TEXT PRIMARY KEY,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    shared     INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX interactions_by_vendor ON interactions(vendor_id);

CREATE TABLE purchases (
    id         TEXT PRIMARY KEY,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX purchases_by_vendor ON purchases(vendor_id);

CREATE TABLE incidents (
    id         TEXT PRIMARY KEY,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX incidents_by_vendor ON incidents(vendor_id);

-- One row: the owner's profile.
CREATE TABLE profile (
    id         TEXT PRIMARY KEY CHECK (id = 'profile'),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;
