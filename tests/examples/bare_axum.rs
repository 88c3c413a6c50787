//! The baseline of the HTTP benches as a process of its own: a bare axum JSON route on
//! `127.0.0.1:PORT` (default 0, then the address is printed), on a 2-worker runtime. For
//! profiling beside carnetd (`perf stat -p`), e.g. instructions per request under `wrk`:
//! `cargo run --release -p carnet-tests --example bare_axum -- 8791`.
#![allow(clippy::unwrap_used)]

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("a port number"))
        .unwrap_or(0);
    let addr = carnet_tests::load::bare_axum_on(port);
    println!("bare axum on http://{addr}/");
    loop {
        std::thread::park();
    }
}
