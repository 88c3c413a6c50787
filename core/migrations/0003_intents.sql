-- Intentcasting (schema 3): intents and the offers vendors answer with. The state is clear (a
-- state enum); what is wanted, where, for how much, and every offer's content are sealed.
-- `expired` is never stored: it is read off the sealed window against the clock.

CREATE TABLE intents (
    id         TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('draft', 'active', 'fulfilled', 'withdrawn')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX intents_by_state ON intents(state);

CREATE TABLE offers (
    id         TEXT PRIMARY KEY,
    intent_id  TEXT NOT NULL REFERENCES intents(id) ON DELETE CASCADE,
    vendor_id  TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'declined')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    blob       BLOB NOT NULL
) STRICT;
CREATE INDEX offers_by_intent ON offers(intent_id);
CREATE INDEX offers_by_vendor ON offers(vendor_id);
