//! The market directory as an attacker would try it: forged, tampered, expired, rolled back,
//! unsigned; and the operator's tool as a person runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use carnet_market::directory::{self, Directory, DirectoryError, DirectoryFile, DirectoryVendor};
use carnet_market::keys::{SigningKey, b64, unb64};
use chrono::{Duration, Utc};
use common::{market_cmd, path_str, stderr};

fn vendor(id: &str) -> DirectoryVendor {
    carnet_market::testing::directory_vendor(id)
}

fn signed(operator: &SigningKey) -> (Directory, Vec<u8>) {
    let mut d = Directory::empty(Utc::now());
    d.add_vendor(vendor("acme")).unwrap();
    let file = d.sign(operator, Utc::now(), Duration::days(30));
    (d, file.to_bytes())
}

#[test]
fn a_directory_signed_by_the_operator_verifies() {
    let operator = SigningKey::generate();
    let (d, bytes) = signed(&operator);
    let got = directory::verify(&bytes, &operator.verifying_key(), Utc::now(), Some(1)).unwrap();
    assert_eq!(got, d);
    assert_eq!(got.version, 1);
    assert_eq!(got.taxonomy["home"], vec!["appliances".to_owned()]);
}

#[test]
fn a_directory_signed_by_another_key_is_refused() {
    let operator = SigningKey::generate();
    let (_, bytes) = signed(&SigningKey::generate());
    assert!(matches!(
        directory::verify(&bytes, &operator.verifying_key(), Utc::now(), None),
        Err(DirectoryError::BadSignature)
    ));
}

#[test]
fn a_directory_changed_after_signing_is_refused() {
    let operator = SigningKey::generate();
    let (_, bytes) = signed(&operator);
    let mut file = DirectoryFile::parse(&bytes).unwrap();
    // The attacker slips its own vendor key in, keeping the operator's signature.
    let mut d = file.unverified().unwrap();
    d.vendors[0].ed25519 = SigningKey::generate().verifying_key().to_string();
    file.payload = b64(&serde_json::to_vec(&d).unwrap());
    assert!(matches!(
        directory::verify(
            &file.to_bytes(),
            &operator.verifying_key(),
            Utc::now(),
            None
        ),
        Err(DirectoryError::BadSignature)
    ));
    // The same bytes re-encoded with white space added are other bytes: refused too.
    let mut file = DirectoryFile::parse(&bytes).unwrap();
    let mut payload = unb64(&file.payload).unwrap();
    payload.push(b' ');
    file.payload = b64(&payload);
    assert!(matches!(
        directory::verify(
            &file.to_bytes(),
            &operator.verifying_key(),
            Utc::now(),
            None
        ),
        Err(DirectoryError::BadSignature)
    ));
}

#[test]
fn an_expired_directory_is_refused() {
    let operator = SigningKey::generate();
    let (d, bytes) = signed(&operator);
    let later = d.expires_at + Duration::seconds(1);
    assert!(matches!(
        directory::verify(&bytes, &operator.verifying_key(), later, None),
        Err(DirectoryError::Expired(_))
    ));
}

#[test]
fn a_directory_older_than_the_one_held_is_refused() {
    let operator = SigningKey::generate();
    let (mut d, old) = signed(&operator);
    let new = d.sign(&operator, Utc::now(), Duration::days(30)).to_bytes();
    let held = directory::verify(&new, &operator.verifying_key(), Utc::now(), None).unwrap();
    assert_eq!(held.version, 2);
    assert!(matches!(
        directory::verify(
            &old,
            &operator.verifying_key(),
            Utc::now(),
            Some(held.version)
        ),
        Err(DirectoryError::Older { have: 2, got: 1 })
    ));
    // The same version again is accepted (a daily refresh of an unchanged directory).
    assert!(directory::verify(&new, &operator.verifying_key(), Utc::now(), Some(2)).is_ok());
}

#[test]
fn an_unsigned_or_malformed_directory_is_refused() {
    let operator = SigningKey::generate();
    let mut d = Directory::empty(Utc::now());
    d.add_vendor(vendor("acme")).unwrap();
    let unsigned = d.unsigned_file().to_bytes();
    assert!(matches!(
        directory::verify(&unsigned, &operator.verifying_key(), Utc::now(), None),
        Err(DirectoryError::Unsigned)
    ));
    for junk in [
        &b"{}"[..],
        b"not json",
        b"{\"format\":\"other/1\",\"payload\":\"\",\"signature\":null}",
    ] {
        assert!(matches!(
            directory::verify(junk, &operator.verifying_key(), Utc::now(), None),
            Err(DirectoryError::Malformed(_))
        ));
    }
}

#[test]
fn a_vendor_with_a_bad_key_cannot_be_added() {
    let mut d = Directory::empty(Utc::now());
    let mut v = vendor("acme");
    v.x25519 = "age1notakey".into();
    assert!(matches!(d.add_vendor(v), Err(DirectoryError::BadVendor(_))));
    let mut v = vendor("acme");
    v.ed25519 = "short".into();
    assert!(matches!(d.add_vendor(v), Err(DirectoryError::BadVendor(_))));
}

#[test]
fn the_operator_tool_makes_a_key_adds_vendors_signs_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("operator.key");
    let file = dir.path().join("market.json");
    let out = market_cmd()
        .args(["keygen", "--out", path_str(&key)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The public key alone on stdout: the exact value relay_directory_key takes.
    let public = String::from_utf8(out.stdout).unwrap();
    assert_eq!(public.trim_end().len(), 43);
    assert_eq!(public.lines().count(), 1);
    let mode = std::fs::metadata(&key).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    let again = market_cmd()
        .args(["keygen", "--out", path_str(&key)])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("never overwritten") && stderr(&again).contains("hint:"));

    for (id, cat) in [("acme", "home.appliances"), ("garage", "auto.parts")] {
        let v = vendor(id);
        let out = market_cmd()
            .args([
                "directory",
                "add",
                "--directory",
                path_str(&file),
                "--id",
                id,
            ])
            .args([
                "--name",
                &v.name,
                "--ed25519",
                &v.ed25519,
                "--x25519",
                &v.x25519,
            ])
            .args(["--category", cat, "--website", "https://example.org"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let verify = |min: &str| {
        market_cmd()
            .args(["directory", "verify", "--directory", path_str(&file)])
            .args(["--operator-key", public.trim(), "--min-version", min])
            .output()
            .unwrap()
    };
    let out = verify("0");
    assert_eq!(out.status.code(), Some(4), "unsigned: {}", stderr(&out));
    let out = market_cmd()
        .args([
            "directory",
            "sign",
            "--directory",
            path_str(&file),
            "--key",
            path_str(&key),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = verify("1");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 1"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 vendors, 2 categories"));
    let out = verify("2");
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("older than version 2"));

    // A key whose base64url starts with '-' is a key, not a flag.
    let mut v = vendor("dash");
    while !v.ed25519.starts_with('-') {
        v = vendor("dash");
    }
    let out = market_cmd()
        .args([
            "directory",
            "add",
            "--directory",
            path_str(&file),
            "--id",
            "dash",
        ])
        .args([
            "--name",
            "n",
            "--ed25519",
            &v.ed25519,
            "--x25519",
            &v.x25519,
        ])
        .args(["--category", "home.garden"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // A vendor id that could spell a subject wildcard is refused, with a hint.
    let v = vendor("x");
    let out = market_cmd()
        .args([
            "directory",
            "add",
            "--directory",
            path_str(&file),
            "--id",
            "bad.*",
        ])
        .args([
            "--name",
            "n",
            "--ed25519",
            &v.ed25519,
            "--x25519",
            &v.x25519,
        ])
        .args(["--category", "home.appliances"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("vendor id 'bad.*' is not valid"),
        "{}",
        stderr(&out)
    );
}
