-- A compact access log (schema 8; 0007 is the token housekeeping of perf/issuance). An entry
-- no longer stores its id (it is derived from `seq`, see core/src/store/access.rs
-- `derived_entry_id`): rows written before keep theirs in the nullable `id`, under a partial
-- unique index. Vendor and client ids are stored once per pair in `access_parties`, and each
-- entry names its pair. The chain MAC (core/src/access/chain.rs) still covers the id, the
-- vendor and client ids as strings, the time and the sealed content, so editing a party row,
-- or the party an entry names, is found by `carnet audit verify`. New entries carry a MAC
-- truncated to 16 bytes; older ones keep their 32 bytes.
CREATE TABLE access_parties (
    pid       INTEGER PRIMARY KEY,
    vendor_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    UNIQUE (vendor_id, client_id)
) STRICT;

INSERT INTO access_parties (vendor_id, client_id)
    SELECT DISTINCT vendor_id, client_id FROM access_log ORDER BY vendor_id, client_id;

CREATE TABLE access_log_new (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    at    INTEGER NOT NULL,
    party INTEGER NOT NULL REFERENCES access_parties(pid),
    blob  BLOB NOT NULL,
    mac   BLOB,
    id    TEXT
) STRICT;

INSERT INTO access_log_new (seq, at, party, blob, mac, id)
    SELECT l.seq, l.at, p.pid, l.blob, l.mac, l.id
    FROM access_log l JOIN access_parties p
      ON p.vendor_id = l.vendor_id AND p.client_id = l.client_id
    ORDER BY l.seq;

-- Positions are never reused: the new table's sequence starts where the old one was, even
-- when retention had emptied the log.
DELETE FROM sqlite_sequence WHERE name = 'access_log_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'access_log_new', seq FROM sqlite_sequence WHERE name = 'access_log';

DROP TABLE access_log;
ALTER TABLE access_log_new RENAME TO access_log;
CREATE UNIQUE INDEX access_log_ids ON access_log(id) WHERE id IS NOT NULL;
CREATE INDEX access_log_by_party ON access_log(party, seq);
