-- The market relay (schema 13): what the vault keeps to announce its intents and to take the
-- offers that come back.
--
-- `relay_intents`: one row per intent the vault announced. Clear: the intent, the bucket its
-- offers arrive on (random, so carnetd finds the intent of an offer without opening every
-- row), the last revision published and whether a terminal event went out. Sealed (`blob`,
-- bound to the table and the intent's id): the intent's relay keys (its `intent_ref`, the
-- Ed25519 key that signs its announcements and answers, the X25519 key offers are encrypted to).
CREATE TABLE relay_intents (
    intent_id  TEXT PRIMARY KEY REFERENCES intents(id) ON DELETE CASCADE,
    bucket     TEXT NOT NULL UNIQUE,
    revision   INTEGER NOT NULL,
    ended      INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL,
    mac        BLOB
) STRICT;

-- The relay's outbox: each announcement as it will be published (subject, headers, signed
-- body), sealed, written in the change's own transaction; delivered on JetStream's PubAck,
-- like the vendors' `outbox` (0005) but addressed to an intent's announcements.
CREATE TABLE relay_outbox (
    id              TEXT PRIMARY KEY,
    intent_id       TEXT NOT NULL,
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
CREATE INDEX relay_outbox_due ON relay_outbox(state, next_attempt_at);
CREATE INDEX relay_outbox_by_intent ON relay_outbox(intent_id, updated_at);

-- Offers that came through the relay from directory vendors (who need not be vendors of the
-- vault). Clear: the intent, the directory vendor's id and its own offer id (unique together:
-- a replayed or duplicated offer is dropped, across restarts), the state and times. Sealed:
-- the terms, the vendor's signed terms as received, its directory name, the answer.
CREATE TABLE relay_offers (
    id               TEXT PRIMARY KEY,
    intent_id        TEXT NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
    directory_vendor TEXT NOT NULL,
    remote_id        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    blob             BLOB NOT NULL,
    mac              BLOB,
    UNIQUE (directory_vendor, remote_id)
) STRICT;
CREATE INDEX relay_offers_by_intent ON relay_offers(intent_id);
