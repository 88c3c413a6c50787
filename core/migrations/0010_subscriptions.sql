-- Subscriptions and contracts (schema 10): what the household pays a vendor on a rhythm,
-- sealed like every record; its vendor in clear (deleting the vendor deletes them), MAC'd like
-- the other records'. Amounts, dates and what is paid for stay in the sealed blob.
CREATE TABLE subscriptions (
    id         TEXT PRIMARY KEY,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL,
    mac        BLOB
) STRICT;
CREATE INDEX subscriptions_by_vendor ON subscriptions(vendor_id);
