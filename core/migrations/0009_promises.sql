-- Promises (schema 9): what a vendor committed to, sealed like every record; its vendor in
-- clear (it decides which vendor's promise record counts it), MAC'd like the other records'.
CREATE TABLE promises (
    id         TEXT PRIMARY KEY,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL,
    mac        BLOB
) STRICT;
CREATE INDEX promises_by_vendor ON promises(vendor_id);
