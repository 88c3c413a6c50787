//! A 2xx on an owner write means committed: killing carnetd with SIGKILL while writers run
//! loses nothing that was acknowledged.

use carnet_tests::writers::Writers;
use carnet_tests::{Api, Carnetd};
use serde_json::json;

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let vendor = d.create("/v1/vendors", &json!({"name": "Acme"}));
    let writers = Writers::start(&d.base, &d.token(), &vendor, 8);
    writers.wait_acked(300);
    d.kill();
    let acked = writers.stop().acked;
    assert!(acked.len() >= 300);

    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let stored: std::collections::HashSet<String> = d
        .list_all("/v1/interactions?limit=1000")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
}
