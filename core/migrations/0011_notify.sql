-- Reminders that reach the owner (schema 11): the channels (a webhook, ntfy, email), each one
-- sealed whole — target, events, timing, secrets — and the owner's outbox, the channels'
-- messages waiting or delivered, like the vendors' `outbox` (0005) but addressed to a channel.
-- Clear: ids, times, and the delivery state and its short reason; both tables row-MAC'd.
CREATE TABLE notify_channels (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL,
    mac        BLOB
) STRICT;

CREATE TABLE notify_outbox (
    id              TEXT PRIMARY KEY,
    channel_id      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dropped', 'failed')),
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    INTEGER,
    blob            BLOB NOT NULL,
    mac             BLOB
) STRICT;
CREATE INDEX notify_outbox_due ON notify_outbox(state, next_attempt_at);
CREATE INDEX notify_outbox_by_channel ON notify_outbox(channel_id, updated_at);
