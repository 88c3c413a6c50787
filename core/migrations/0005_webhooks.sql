-- Webhooks and the tamper-evident access log (schema 5).

-- The outbox: one row per event and recipient, written in the same transaction as the change
-- it announces, deleted never (it is the delivery history). `id` is the `webhook-id`, the same
-- on every retry. The event and its body are sealed; state and timing are clear.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    vendor_id       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dropped', 'failed')),
    -- The HTTP status of the last attempt, and a short reason when it failed (never a URL or
    -- payload: `timeout`, `connect`, `redirect`, `status`, `address`, `grant`, …).
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER,
    blob            BLOB NOT NULL
) STRICT;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX outbox_by_vendor ON outbox(vendor_id, created_at);

-- Whether `intent.activated` (once its window is open) and `intent.expired` (once it has
-- closed) were written to the outbox.
ALTER TABLE intents ADD COLUMN activation_announced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE intents ADD COLUMN expiry_announced INTEGER NOT NULL DEFAULT 0;

-- The HMAC chain: each entry's MAC covers the previous entry's MAC and this entry's content.
ALTER TABLE access_log ADD COLUMN mac BLOB;
