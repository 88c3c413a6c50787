//! The chunked sealing as stored: round trips, and every way of tampering with the chunks of
//! `carnet.db` an attacker without the key has (drop the last, reorder, swap between
//! documents, truncate, remove one in the middle); limits; cut uploads.

use std::io::Read;
use std::sync::Arc;

use carnet_schemas::{DocumentId, VendorId};
use rusqlite::Connection;

use super::*;
use crate::crypto::{RowMac, VaultKey};
use crate::store::Synchronous;

struct Vault {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    keys: Arc<Keys>,
    index: Arc<LedgerIndex>,
    vendor: VendorId,
}

const VENDOR: &str = "ven_aaaaaaaaaaaaaaaa";

async fn vault() -> Vault {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("carnet.db"), Synchronous::Normal).unwrap());
    let keys = Arc::new(Keys::new(VaultKey::generate().unwrap()));
    store.set_row_key(Some(RowMac::new(&keys)));
    store
        .write(|c| {
            c.execute(
                "INSERT INTO main.vendors (id, created_at, updated_at, blob) VALUES (?1, 0, 0, x'00')",
                [VENDOR],
            )
            .map_err(StoreError::from)
        })
        .await
        .unwrap();
    // Documents only: the vendor row above is not a real one.
    let index = LedgerIndex::start(store.clone(), keys.clone(), documents_only());
    Vault {
        _dir: dir,
        store,
        keys,
        index,
        vendor: VENDOR.parse().unwrap(),
    }
}

fn documents_only() -> crate::ledger::index::Loader {
    index::loader(Arc::new(|_, _, _| Ok(())))
}

const ROOMY: Limits = Limits {
    max_bytes: 64 << 20,
    quota_bytes: 256 << 20,
};

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

impl Vault {
    async fn add(&self, data: Vec<u8>, limits: Limits) -> Result<Document, DocumentError> {
        let (store, keys, vendor) = (self.store.clone(), self.keys.clone(), self.vendor.clone());
        let index = self.index.clone();
        tokio::task::spawn_blocking(move || {
            let new = NewDocument {
                attachment: Attachment::Vendor(vendor),
                title: Some("Invoice".parse().unwrap()),
                file_name: Some("../../etc/invoice.pdf".parse().unwrap()),
            };
            add(
                &store,
                &keys,
                &index,
                new,
                limits,
                &data[..],
                chrono::Utc::now(),
            )
        })
        .await
        .unwrap()
    }

    async fn read_all(&self, id: &DocumentId) -> Result<Vec<u8>, DocumentError> {
        let (store, keys, id) = (self.store.clone(), self.keys.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let (_, reader) = open(&store, &keys, &id)?;
            let mut out = Vec::new();
            for chunk in reader {
                out.extend_from_slice(&chunk?);
            }
            Ok(out)
        })
        .await
        .unwrap()
    }

    fn raw(&self) -> Connection {
        Connection::open(self.store.path()).unwrap()
    }

    fn rows(&self, table: &str) -> i64 {
        self.raw()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }
}

#[tokio::test]
async fn documents_round_trip_whatever_their_size() {
    let v = vault().await;
    for n in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 17 * CHUNK + 5] {
        let data = bytes(n, 7);
        let doc = v.add(data.clone(), ROOMY).await.unwrap();
        assert_eq!(doc.size, n as u64);
        assert_eq!(doc.file_name.as_ref().unwrap().as_str(), "invoice.pdf");
        assert_eq!(v.read_all(&doc.id).await.unwrap(), data, "{n} bytes");
        let (_, mut reader) = open(&v.store, &v.keys, &doc.id).unwrap();
        let mut again = Vec::new();
        reader.read_to_end(&mut again).unwrap();
        assert_eq!(again, data);
    }
    let listed = list(&v.store, &v.keys, Some(&v.vendor)).unwrap();
    assert_eq!(listed.len(), 7);
    assert_eq!(ids(&v.store).unwrap().len(), 7);
}

#[tokio::test]
async fn the_content_type_comes_from_the_bytes() {
    let v = vault().await;
    let doc = v.add(b"%PDF-1.7 ...".to_vec(), ROOMY).await.unwrap();
    assert_eq!(doc.content_type, "application/pdf");
    let doc = v
        .add(b"<html><script>x</script>".to_vec(), ROOMY)
        .await
        .unwrap();
    assert_eq!(doc.content_type, "text/html");
}

/// Runs `sql` on the file behind carnetd's back, then reads document `id`.
async fn tampered(v: &Vault, id: &DocumentId, sql: &str) -> DocumentError {
    v.raw().execute_batch(sql).unwrap();
    v.read_all(id).await.unwrap_err()
}

#[tokio::test]
async fn a_document_cut_of_its_last_chunk_does_not_open() {
    let v = vault().await;
    let doc = v.add(bytes(3 * CHUNK + 10, 1), ROOMY).await.unwrap();
    let e = tampered(
        &v,
        &doc.id,
        &format!(
            "DELETE FROM document_chunks WHERE document_id = '{}' AND position = 3",
            doc.id
        ),
    )
    .await;
    assert!(
        matches!(e, DocumentError::BadChunk(BadChunk { position: 3, .. })),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_document_cut_at_a_chunk_boundary_does_not_open() {
    // Every chunk but the last is full: dropping the last leaves whole-looking chunks only.
    let v = vault().await;
    let doc = v.add(bytes(2 * CHUNK, 1), ROOMY).await.unwrap();
    let e = tampered(
        &v,
        &doc.id,
        &format!(
            "DELETE FROM document_chunks WHERE document_id = '{}' AND position = 1",
            doc.id
        ),
    )
    .await;
    assert!(matches!(e, DocumentError::BadChunk(_)), "{e:?}");
}

#[tokio::test]
async fn reordered_chunks_do_not_open() {
    let v = vault().await;
    let doc = v.add(bytes(3 * CHUNK, 2), ROOMY).await.unwrap();
    let id = &doc.id;
    let e = tampered(
        &v,
        id,
        &format!(
            "UPDATE document_chunks SET position = 9 WHERE document_id = '{id}' AND position = 0;
             UPDATE document_chunks SET position = 0 WHERE document_id = '{id}' AND position = 1;
             UPDATE document_chunks SET position = 1 WHERE document_id = '{id}' AND position = 9;"
        ),
    )
    .await;
    assert!(
        matches!(e, DocumentError::BadChunk(BadChunk { position: 0, .. })),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_chunk_swapped_from_another_document_does_not_open() {
    let v = vault().await;
    let a = v.add(bytes(2 * CHUNK, 3), ROOMY).await.unwrap();
    let b = v.add(bytes(2 * CHUNK, 4), ROOMY).await.unwrap();
    let e = tampered(
        &v,
        &a.id,
        &format!(
            "UPDATE document_chunks SET blob = (SELECT blob FROM document_chunks
                 WHERE document_id = '{b}' AND position = 1)
             WHERE document_id = '{a}' AND position = 1",
            a = a.id,
            b = b.id
        ),
    )
    .await;
    assert!(
        matches!(e, DocumentError::BadChunk(BadChunk { position: 1, .. })),
        "{e:?}"
    );
    assert_eq!(v.read_all(&b.id).await.unwrap(), bytes(2 * CHUNK, 4));
}

#[tokio::test]
async fn a_truncated_or_removed_chunk_does_not_open() {
    let v = vault().await;
    let doc = v.add(bytes(3 * CHUNK, 5), ROOMY).await.unwrap();
    let id = &doc.id;
    let e = tampered(
        &v,
        id,
        &format!(
            "UPDATE document_chunks SET blob = substr(blob, 1, length(blob) - 100)
             WHERE document_id = '{id}' AND position = 2"
        ),
    )
    .await;
    assert!(
        matches!(e, DocumentError::BadChunk(BadChunk { position: 2, .. })),
        "{e:?}"
    );

    let doc = v.add(bytes(3 * CHUNK, 6), ROOMY).await.unwrap();
    let id = &doc.id;
    let e = tampered(
        &v,
        id,
        &format!("DELETE FROM document_chunks WHERE document_id = '{id}' AND position = 1"),
    )
    .await;
    assert!(
        matches!(e, DocumentError::BadChunk(BadChunk { position: 1, .. })),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_changed_size_is_refused_by_the_row_mac() {
    let v = vault().await;
    let doc = v.add(bytes(CHUNK + 1, 5), ROOMY).await.unwrap();
    v.raw()
        .execute(
            "UPDATE documents SET size = 1 WHERE id = ?1",
            [doc.id.as_str()],
        )
        .unwrap();
    assert!(matches!(
        show(&v.store, &v.keys, &doc.id),
        Err(DocumentError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_document_past_the_limit_is_refused_and_nothing_is_left() {
    let v = vault().await;
    let limits = Limits {
        max_bytes: 2 * CHUNK as u64,
        quota_bytes: 1 << 30,
    };
    assert!(v.add(bytes(2 * CHUNK, 1), limits).await.is_ok());
    let e = v.add(bytes(40 * CHUNK, 1), limits).await.unwrap_err();
    assert!(matches!(e, DocumentError::TooLarge { .. }), "{e:?}");
    assert_eq!(v.rows("documents"), 1);
    assert_eq!(v.rows("document_chunks"), 2);
}

#[tokio::test]
async fn the_quota_counts_every_document() {
    let v = vault().await;
    let limits = Limits {
        max_bytes: 1 << 30,
        quota_bytes: 5 * CHUNK as u64,
    };
    v.add(bytes(3 * CHUNK, 1), limits).await.unwrap();
    let e = v.add(bytes(3 * CHUNK, 2), limits).await.unwrap_err();
    assert!(matches!(e, DocumentError::OverQuota { .. }), "{e:?}");
    v.add(bytes(2 * CHUNK, 3), limits).await.unwrap();
    assert_eq!(v.rows("documents"), 2);
    assert_eq!(v.rows("document_chunks"), 5);
}

/// A source that fails after `n` bytes (a client that went away).
struct Failing(usize);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("connection reset"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(1);
        self.0 -= n;
        Ok(n)
    }
}

#[tokio::test]
async fn a_cut_upload_leaves_nothing() {
    let v = vault().await;
    let (store, keys, vendor) = (v.store.clone(), v.keys.clone(), v.vendor.clone());
    let index = v.index.clone();
    let e = tokio::task::spawn_blocking(move || {
        let new = NewDocument {
            attachment: Attachment::Vendor(vendor),
            title: None,
            file_name: None,
        };
        add(
            &store,
            &keys,
            &index,
            new,
            ROOMY,
            Failing(40 * CHUNK + 3),
            chrono::Utc::now(),
        )
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(e, DocumentError::Cut(_)), "{e:?}");
    assert_eq!(v.rows("documents"), 0);
    assert_eq!(v.rows("document_chunks"), 0);
}

#[tokio::test]
async fn uploads_a_crash_cut_are_purged_at_start() {
    let v = vault().await;
    let kept = v.add(bytes(CHUNK, 1), ROOMY).await.unwrap();
    // What a crash mid-upload leaves: a row still `uploading`, with the chunks stored so far.
    let id = "doc_bbbbbbbbbbbbbbbb";
    let blob = v.keys.seal().seal(
        id,
        &Meta {
            title: None,
            file_name: None,
            content_type: "text/plain".into(),
            shared: false,
        },
    );
    let row = DocumentRow {
        id: id.into(),
        vendor_id: VENDOR.into(),
        purchase_id: None,
        incident_id: None,
        interaction_id: None,
        size: 0,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
        blob: blob.as_bytes().to_vec(),
    };
    v.store
        .write(move |c| {
            rows::insert_uploading(c, &row)?;
            rows::append_chunks(c, &row.id, &[(0, vec![1, 2, 3])], 3)?;
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    assert_eq!(v.rows("documents"), 2);
    assert_eq!(purge_incomplete(&v.store).await.unwrap(), 1);
    assert_eq!(v.rows("documents"), 1);
    assert_eq!(v.rows("document_chunks"), 1);
    assert_eq!(v.read_all(&kept.id).await.unwrap(), bytes(CHUNK, 1));
}

#[tokio::test]
async fn an_upload_names_exactly_one_existing_record() {
    let v = vault().await;
    let q = |vendor: Option<&str>, purchase: Option<&str>| carnet_schemas::DocumentUpload {
        vendor: vendor.map(Into::into),
        purchase: purchase.map(Into::into),
        ..Default::default()
    };
    assert!(matches!(
        Attachment::from_upload(&q(None, None)),
        Err(DocumentError::Attachment(_))
    ));
    assert!(matches!(
        Attachment::from_upload(&q(Some(VENDOR), Some("pur_aaaaaaaaaaaaaaaa"))),
        Err(DocumentError::Attachment(_))
    ));
    assert!(matches!(
        Attachment::from_upload(&q(Some("pur_aaaaaaaaaaaaaaaa"), None)),
        Err(DocumentError::Attachment(_))
    ));
    let missing = Attachment::from_upload(&q(None, Some("pur_aaaaaaaaaaaaaaaa"))).unwrap();
    let (store, keys, index) = (v.store.clone(), v.keys.clone(), v.index.clone());
    let e = tokio::task::spawn_blocking(move || {
        let new = NewDocument {
            attachment: missing,
            title: None,
            file_name: None,
        };
        add(
            &store,
            &keys,
            &index,
            new,
            ROOMY,
            &b"x"[..],
            chrono::Utc::now(),
        )
    })
    .await
    .unwrap()
    .unwrap_err();
    assert!(
        matches!(
            e,
            DocumentError::NoRecord {
                noun: "purchase",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(v.rows("documents"), 0);
}

#[tokio::test]
async fn sharing_is_off_by_default_and_deleting_takes_the_chunks() {
    let v = vault().await;
    let doc = v.add(bytes(2 * CHUNK, 1), ROOMY).await.unwrap();
    assert!(!doc.shared);
    assert!(
        set_shared(&v.store, &v.keys, &doc.id, true, chrono::Utc::now())
            .await
            .unwrap()
            .shared
    );
    assert!(show(&v.store, &v.keys, &doc.id).unwrap().shared);
    // Attached to the vendor, not to an interaction: no vendor reads it.
    assert!(matches!(
        open_for_vendor(&v.store, &v.keys, &doc.id, &v.vendor),
        Err(DocumentError::NotFound { .. })
    ));
    delete(&v.store, &v.index, &doc.id).await.unwrap();
    assert_eq!(v.rows("document_chunks"), 0);
    assert!(matches!(
        delete(&v.store, &v.index, &doc.id).await,
        Err(DocumentError::NotFound { .. })
    ));
}

/// The ids of the documents the index finds for `q`.
fn found(index: &LedgerIndex, q: &str) -> Vec<crate::ledger::index::Rid> {
    let words = crate::ledger::index::text::words(q);
    index
        .read(|d| d.search(&words, None, None, 10))
        .unwrap()
        .into_iter()
        .map(|h| h.id)
        .collect()
}

#[tokio::test]
async fn the_index_finds_a_document_by_title_and_file_name_until_it_is_deleted() {
    let v = vault().await;
    let doc = v.add(b"%PDF-1.7 secretword".to_vec(), ROOMY).await.unwrap();
    let rid = rid(doc.id.as_str()).unwrap();
    assert_eq!(found(&v.index, "invoice"), vec![rid], "title");
    assert_eq!(found(&v.index, "pdf"), vec![rid], "file name");
    // Never its content, nor the directory its name came with.
    assert!(found(&v.index, "secretword").is_empty());
    assert!(found(&v.index, "etc").is_empty());
    let facts = v
        .index
        .read(|d| d.document(&rid).cloned())
        .unwrap()
        .unwrap();
    assert_eq!(&*facts.title, "Invoice");
    assert_eq!(facts.file_name.as_deref(), Some("invoice.pdf"));

    // Built again from the database (as at unlock): still found.
    let rebuilt = LedgerIndex::start(v.store.clone(), v.keys.clone(), documents_only());
    assert_eq!(found(&rebuilt, "invoice"), vec![rid]);

    delete(&v.store, &v.index, &doc.id).await.unwrap();
    assert!(found(&v.index, "invoice").is_empty());
    let rebuilt = LedgerIndex::start(v.store.clone(), v.keys.clone(), documents_only());
    assert!(found(&rebuilt, "invoice").is_empty());
}

#[tokio::test]
async fn a_refused_upload_is_never_in_the_index() {
    let v = vault().await;
    let tight = Limits {
        max_bytes: CHUNK as u64,
        quota_bytes: 256 << 20,
    };
    v.add(bytes(2 * CHUNK, 1), tight).await.unwrap_err();
    assert!(found(&v.index, "invoice").is_empty());
}
