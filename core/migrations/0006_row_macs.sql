-- Row MACs (schema 6): every row whose clear columns decide access carries an HMAC of them
-- under a key derived from the vault key (see server/src/vault/rowmac.rs). carnetd fills
-- these at the first unlock after this migration and from then on refuses a row whose MAC
-- is missing or wrong: editing a clear column without the key no longer opens anything.
ALTER TABLE meta ADD COLUMN mac BLOB;
ALTER TABLE owner_tokens ADD COLUMN mac BLOB;
ALTER TABLE clients ADD COLUMN mac BLOB;
ALTER TABLE grants ADD COLUMN mac BLOB;
ALTER TABLE tokens ADD COLUMN mac BLOB;
ALTER TABLE codes ADD COLUMN mac BLOB;
ALTER TABLE invites ADD COLUMN mac BLOB;
ALTER TABLE receipts ADD COLUMN mac BLOB;
ALTER TABLE intents ADD COLUMN mac BLOB;
ALTER TABLE offers ADD COLUMN mac BLOB;
ALTER TABLE interactions ADD COLUMN mac BLOB;
ALTER TABLE purchases ADD COLUMN mac BLOB;
ALTER TABLE incidents ADD COLUMN mac BLOB;
ALTER TABLE outbox ADD COLUMN mac BLOB;
