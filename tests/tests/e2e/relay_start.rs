//! carnetd started with the market relay configured: the directory is verified before anything
//! connects (a forged one stops carnetd), the relay's streams are created at start, and a relay
//! that does not answer stops carnetd with a hint rather than leaving it half-configured.

use std::path::Path;

use carnet_market::directory::Directory;
use carnet_market::keys::SigningKey;
use carnet_market::relay::{ANSWERS_STREAM, INTENTS_STREAM, OFFERS_STREAM};
use carnet_market::testing::{NatsServer, directory_vendor};
use carnet_tests::Carnetd;
use chrono::{Duration, Utc};

/// A directory of one vendor signed by `operator`, written to `dir/directory.json`.
fn directory_file(dir: &Path, operator: &SigningKey) -> String {
    let mut d = Directory::empty(Utc::now());
    d.add_vendor(directory_vendor("acme")).unwrap();
    let path = dir.join("directory.json");
    d.sign(operator, Utc::now(), Duration::days(30))
        .write(&path)
        .unwrap();
    path.display().to_string()
}

fn relay_env<'a>(url: &'a str, directory: &'a str, key: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("CARNET_RELAY_URL", url),
        ("CARNET_RELAY_DIRECTORY", directory),
        ("CARNET_RELAY_DIRECTORY_KEY", key),
        ("CARNET_RELAY_REGION", "FR-75"),
    ]
}

/// A loopback URL where nothing listens.
fn nothing_listening() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("nats://127.0.0.1:{port}")
}

#[test]
fn carnetd_with_a_relay_creates_its_streams_and_keeps_the_verified_directory() {
    let nats = NatsServer::start();
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let operator = SigningKey::generate();
    let directory = directory_file(files.path(), &operator);
    let key = operator.verifying_key().to_string();
    let url = nats.url();
    let carnetd = Carnetd::start(data.path(), &relay_env(&url, &directory, &key)).unwrap();
    carnetd.wait_for_log(&["market relay ready", "\"directory_version\":1"]);
    assert!(data.path().join("market-directory.json").exists());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await.unwrap());
        for name in [INTENTS_STREAM, OFFERS_STREAM, ANSWERS_STREAM] {
            let mut stream = js.get_stream(name).await.unwrap();
            let info = stream.info().await.unwrap();
            assert_eq!(
                info.config.storage,
                async_nats::jetstream::stream::StorageType::File,
                "{name}"
            );
        }
    });
}

#[test]
fn a_directory_signed_by_another_key_stops_carnetd_before_it_connects() {
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let forged = directory_file(files.path(), &SigningKey::generate());
    let key = SigningKey::generate().verifying_key().to_string();
    let url = nothing_listening();
    let err = Carnetd::start(data.path(), &relay_env(&url, &forged, &key))
        .err()
        .expect("carnetd must refuse a forged directory");
    assert!(
        err.contains("is refused") && err.contains("not signed by the expected key"),
        "{err}"
    );
    assert!(!err.contains("cannot connect"), "{err}");
    assert!(!data.path().join("market-directory.json").exists());
}

#[test]
fn a_relay_that_does_not_answer_stops_carnetd_with_a_hint() {
    let files = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let operator = SigningKey::generate();
    let directory = directory_file(files.path(), &operator);
    let key = operator.verifying_key().to_string();
    let url = nothing_listening();
    let err = Carnetd::start(data.path(), &relay_env(&url, &directory, &key))
        .err()
        .expect("carnetd must not start without its relay");
    assert!(
        err.contains(&url) && err.contains("unset relay_url to run without the relay"),
        "{err}"
    );
}
