//! The vault's directory as an attacker would hand it over: forged, expired, rolled back to an
//! older version (after a restart too); what is kept, and only once verified.
#![allow(clippy::unwrap_used)]

use carnet_market::directory::Directory;
use carnet_market::keys::SigningKey;
use carnet_market::testing::directory_vendor;
use chrono::{Duration, Utc};

use super::*;

/// A directory signed `times` times by `key` (version = `times`), valid for `days`.
fn signed(key: &SigningKey, times: u32, days: i64) -> Vec<u8> {
    let mut d = Directory::empty(Utc::now());
    d.add_vendor(directory_vendor("acme")).unwrap();
    let mut bytes = Vec::new();
    for _ in 0..times {
        bytes = d.sign(key, Utc::now(), Duration::days(days)).to_bytes();
    }
    bytes
}

struct Fixture {
    dir: tempfile::TempDir,
    operator: SigningKey,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            operator: SigningKey::generate(),
        }
    }

    /// A loader reading `bytes` from a file, as a fresh carnetd would.
    fn loader(&self, bytes: &[u8]) -> DirectoryLoader {
        let file = self.dir.path().join("published.json");
        std::fs::write(&file, bytes).unwrap();
        DirectoryLoader::new(
            DirectorySource::File(file),
            self.operator.verifying_key(),
            self.dir.path(),
        )
    }

    fn kept(&self) -> Option<Vec<u8>> {
        std::fs::read(self.dir.path().join(KEPT_FILE)).ok()
    }
}

#[tokio::test]
async fn the_first_verified_directory_is_kept() {
    let f = Fixture::new();
    let bytes = signed(&f.operator, 1, 30);
    let d = f.loader(&bytes).load(Utc::now()).await.unwrap();
    assert_eq!((d.version, d.vendors.len()), (1, 1));
    assert_eq!(f.kept(), Some(bytes));
}

#[tokio::test]
async fn a_directory_signed_by_another_key_is_refused_and_not_kept() {
    let f = Fixture::new();
    let forged = signed(&SigningKey::generate(), 1, 30);
    let err = f.loader(&forged).load(Utc::now()).await.unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Refused {
                error: DirectoryError::BadSignature,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("published.json"), "{err}");
    assert_eq!(f.kept(), None);
}

#[tokio::test]
async fn an_unsigned_directory_is_refused() {
    let f = Fixture::new();
    let mut d = Directory::empty(Utc::now());
    d.add_vendor(directory_vendor("acme")).unwrap();
    let unsigned = d.unsigned_file().to_bytes();
    let err = f.loader(&unsigned).load(Utc::now()).await.unwrap_err();
    assert!(err.to_string().contains("not signed"), "{err}");
    assert_eq!(f.kept(), None);
}

#[tokio::test]
async fn an_expired_directory_is_refused() {
    let f = Fixture::new();
    let bytes = signed(&f.operator, 1, 1);
    let later = Utc::now() + Duration::days(2);
    let err = f.loader(&bytes).load(later).await.unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
}

#[tokio::test]
async fn an_older_directory_is_refused_after_a_restart_and_the_newer_one_stays_kept() {
    let f = Fixture::new();
    let newer = signed(&f.operator, 3, 30);
    f.loader(&newer).load(Utc::now()).await.unwrap();
    // A replay of version 1, validly signed, read by a carnetd started again.
    let older = signed(&f.operator, 1, 30);
    let err = f.loader(&older).load(Utc::now()).await.unwrap_err();
    assert!(
        err.to_string().contains("version 1, older than version 3"),
        "{err}"
    );
    assert_eq!(f.kept(), Some(newer.clone()));
    // The same version again is accepted (a carnetd restarted on an unchanged file).
    assert_eq!(f.loader(&newer).load(Utc::now()).await.unwrap().version, 3);
}

#[tokio::test]
async fn a_kept_directory_of_another_operator_key_does_not_hold_back_the_new_key() {
    let f = Fixture::new();
    let old_key = SigningKey::generate();
    std::fs::write(f.dir.path().join(KEPT_FILE), signed(&old_key, 5, 30)).unwrap();
    let bytes = signed(&f.operator, 1, 30);
    assert_eq!(f.loader(&bytes).load(Utc::now()).await.unwrap().version, 1);
    assert_eq!(f.kept(), Some(bytes));
}

#[tokio::test]
async fn a_missing_directory_file_is_named() {
    let f = Fixture::new();
    let loader = DirectoryLoader::new(
        DirectorySource::File(f.dir.path().join("nowhere.json")),
        f.operator.verifying_key(),
        f.dir.path(),
    );
    let err = loader.load(Utc::now()).await.unwrap_err().to_string();
    assert!(
        err.contains("cannot read the market directory") && err.contains("nowhere.json"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreadable_source_falls_back_to_the_kept_directory_while_it_has_not_expired() {
    let f = Fixture::new();
    let bytes = signed(&f.operator, 2, 3);
    f.loader(&bytes).load(Utc::now()).await.unwrap();
    let gone = DirectoryLoader::new(
        DirectorySource::File(f.dir.path().join("moved-away.json")),
        f.operator.verifying_key(),
        f.dir.path(),
    );
    let (d, unread) = gone.load_or_kept(Utc::now()).await.unwrap();
    assert_eq!(d.version, 2);
    assert!(unread.unwrap().to_string().contains("moved-away.json"));
    // Expired, the kept one is no fallback.
    let later = Utc::now() + Duration::days(4);
    let err = gone.load_or_kept(later).await.unwrap_err().to_string();
    assert!(err.contains("cannot read the market directory"), "{err}");
}

#[tokio::test]
async fn a_source_read_and_refused_is_never_replaced_by_the_kept_directory() {
    let f = Fixture::new();
    f.loader(&signed(&f.operator, 2, 30))
        .load(Utc::now())
        .await
        .unwrap();
    let forged = signed(&SigningKey::generate(), 3, 30);
    let err = f
        .loader(&forged)
        .load_or_kept(Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, LoadError::Refused { .. }), "{err}");
}
