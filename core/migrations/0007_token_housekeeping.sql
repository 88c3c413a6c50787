-- Token housekeeping (schema 7): the janitor finds the token rows nothing needs any more
-- (expired a day ago; revoked and never used) through these, without reading the table, and a
-- restart reads only the rows that have not expired.
CREATE INDEX tokens_by_expiry ON tokens(expires_at);
CREATE INDEX tokens_dead ON tokens(revoked_at) WHERE revoked_at IS NOT NULL AND used_at IS NULL;
-- Every issuance inserted into an index by grant at a random place once many vendors hold
-- tokens; a grant's tokens are found through its vendor's client instead (`revoke_grant`).
-- Removing a vendor, which deletes its grants, scans the (purged) table once per grant.
DROP INDEX tokens_by_grant;
