//! A 2xx on an owner write means committed: killing carnetd with SIGKILL while writers run
//! loses nothing that was acknowledged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use carnet_tests::{Api, Carnetd, http};
use serde_json::json;

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let vendor = d.create("/v1/vendors", &json!({"name": "Acme"}));
    let (base, token) = (d.base.clone(), d.token());
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (base, token, vendor) = (base.clone(), token.clone(), vendor.clone());
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let client = http();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = json!({"vendor_id": vendor, "channel": "web", "summary": format!("writer {w} write {n}")});
                    let Ok(r) = client
                        .post(format!("{base}/v1/interactions"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                    else {
                        break; // the server is gone
                    };
                    if r.status() == 201 {
                        let v: serde_json::Value = r.json().unwrap();
                        acked.lock().unwrap().push(v["id"].as_str().unwrap().to_owned());
                    }
                }
            })
        })
        .collect();
    // Let writes accumulate; the count, not a duration, decides when to kill.
    while acked.lock().unwrap().len() < 300 {
        std::thread::yield_now();
    }
    d.kill();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
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
