-- Documents (schema 12): the files of a relationship (an invoice, a contract, a photo),
-- sealed in 64 KiB chunks (`documents::chunk`), never whole.
--
-- Clear, and row-MAC'd: the id, the vendor (deleting the vendor deletes its documents), the
-- record it is attached to, the upload's state, the size and the times. The record's id is
-- clear rather than sealed: the record's own vendor is already clear, so its id adds only
-- "this record has a document", and in exchange deleting a purchase, incident or interaction
-- deletes its documents in the same transaction (nothing orphaned left to leak or to count
-- against the quota), and the vendor API finds a document's interaction with SQL. At most one
-- of the three is set (none: attached to the vendor itself).
-- Sealed (`blob`, bound to table and id): title, file name, content type, shared flag.
CREATE TABLE documents (
    id             TEXT PRIMARY KEY,
    vendor_id      TEXT NOT NULL REFERENCES vendors(id) ON DELETE CASCADE,
    purchase_id    TEXT REFERENCES purchases(id) ON DELETE CASCADE,
    incident_id    TEXT REFERENCES incidents(id) ON DELETE CASCADE,
    interaction_id TEXT REFERENCES interactions(id) ON DELETE CASCADE,
    state          TEXT NOT NULL CHECK (state IN ('uploading', 'complete')),
    size           INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    blob           BLOB NOT NULL,
    mac            BLOB,
    CHECK ((purchase_id IS NOT NULL) + (incident_id IS NOT NULL) + (interaction_id IS NOT NULL) <= 1)
) STRICT;
CREATE INDEX documents_by_vendor ON documents(vendor_id);
CREATE INDEX documents_by_purchase ON documents(purchase_id) WHERE purchase_id IS NOT NULL;
CREATE INDEX documents_by_incident ON documents(incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX documents_by_interaction ON documents(interaction_id) WHERE interaction_id IS NOT NULL;

-- A document's chunks, in order. Each blob is authenticated by its AEAD, bound to the
-- document's id, its position and whether it is the last, so no MAC is needed here: a chunk
-- removed, moved, swapped or cut does not open, or the document ends without its last.
CREATE TABLE document_chunks (
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    blob        BLOB NOT NULL,
    PRIMARY KEY (document_id, position)
) STRICT, WITHOUT ROWID;
