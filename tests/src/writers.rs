//! Owner writers adding interactions as fast as carnetd answers, until stopped: what the
//! durability tests race a SIGKILL, a SIGTERM or a backup against.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value, json};

use crate::http;

pub struct Writers {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    refused: Arc<Mutex<Vec<u16>>>,
    unanswered: Arc<AtomicUsize>,
    threads: Vec<JoinHandle<()>>,
}

/// What the writers saw, once stopped.
pub struct Written {
    /// Ids of the interactions carnetd acknowledged (201), in no particular order.
    pub acked: Vec<String>,
    /// Statuses of the writes it refused.
    pub refused: Vec<u16>,
    /// Writers that stopped because a request got no answer (the server was gone).
    pub unanswered: usize,
}

impl Writers {
    /// `n` writers adding interactions to `vendor` at the server `base`, with the owner
    /// `token`. A writer whose request gets no answer stops.
    pub fn start(base: &str, token: &str, vendor: &str, n: usize) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let unanswered = Arc::new(AtomicUsize::new(0));
        let threads = (0..n)
            .map(|w| {
                let (base, token, vendor) = (base.to_owned(), token.to_owned(), vendor.to_owned());
                let (stop, acked) = (stop.clone(), acked.clone());
                let (refused, unanswered) = (refused.clone(), unanswered.clone());
                std::thread::spawn(move || {
                    let client = http();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let body = json!({"vendor_id": vendor, "channel": "web",
                            "summary": format!("writer {w} write {n}")});
                        let Ok(r) = client
                            .post(format!("{base}/v1/interactions"))
                            .bearer_auth(&token)
                            .json(&body)
                            .send()
                        else {
                            unanswered.fetch_add(1, Ordering::Relaxed);
                            break;
                        };
                        if r.status() == 201 {
                            let v: Value = r.json().expect("a created interaction");
                            let id = v["id"].as_str().expect("its id").to_owned();
                            acked.lock().expect("acked").push(id);
                        } else {
                            refused.lock().expect("refused").push(r.status().as_u16());
                        }
                    }
                })
            })
            .collect();
        Writers {
            stop,
            acked,
            refused,
            unanswered,
            threads,
        }
    }

    /// Waits until at least `n` writes were acknowledged: a count, not a duration, decides
    /// when the test goes on.
    pub fn wait_acked(&self, n: usize) {
        while self.acked().len() < n {
            std::thread::yield_now();
        }
    }

    /// The writes acknowledged so far.
    pub fn acked(&self) -> Vec<String> {
        self.acked.lock().expect("acked").clone()
    }

    /// Stops the writers and waits for them.
    pub fn stop(self) -> Written {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().expect("a writer panicked");
        }
        Written {
            acked: self.acked.lock().expect("acked").clone(),
            refused: self.refused.lock().expect("refused").clone(),
            unanswered: self.unanswered.load(Ordering::Relaxed),
        }
    }
}
