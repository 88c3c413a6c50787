-- The consent flow (schema 4): authorization codes, refresh-token families, vendor invitations
-- for dynamic registration, and whether the owner connected a client or it registered itself.

-- Single-use codes, stored as hashes; what they are bound to (redirect URI, PKCE challenge,
-- scopes, categories) is sealed. `family` names the tokens a code produced, so a replayed code
-- can revoke them.
CREATE TABLE codes (
    hash       BLOB PRIMARY KEY,
    client_id  TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    grant_id   TEXT NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    family     TEXT,
    blob       BLOB NOT NULL
) STRICT;

-- A token family: an access and refresh token and every rotation of them. Reusing a rotated
-- refresh token revokes the whole family.
ALTER TABLE tokens ADD COLUMN family TEXT;
ALTER TABLE tokens ADD COLUMN used_at INTEGER;
CREATE INDEX tokens_by_family ON tokens(family);

-- Initial access tokens from `carnet vendor invite` (hashes), single use.
CREATE TABLE invites (
    hash       BLOB PRIMARY KEY,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

-- 1: connected by the owner; 0: registered itself (shown as unverified on the consent page).
ALTER TABLE clients ADD COLUMN verified INTEGER NOT NULL DEFAULT 1 CHECK (verified IN (0, 1));
