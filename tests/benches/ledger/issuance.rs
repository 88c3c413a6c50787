//! `client_credentials` issuance and introspection at 1, 100 and 1,000 connected vendors (one
//! in-process carnetd, vendors added between levels, `max_live_tokens` lifted as in `--bench
//! oauth`), the load rotating over every client (request `n` is made by client `n % vendors`,
//! introspecting that client's own token), 64 keep-alive connections, rounds alternating with
//! the bare axum route; the ratio is the median of the rounds'.

use std::sync::Arc;
use std::time::Duration;

use carnet_tests::TestServer;
use carnet_tests::load::{self, Compared, RequestSpec, Requests};
use carnet_tests::vendor::VendorApp;
use data_encoding::BASE64;

use crate::p50_p99;

const LEVELS: [usize; 3] = [1, 100, 1000];
const CONNECTIONS: usize = 64;
const ROUNDS: usize = 2;
const WARMUP: Duration = Duration::from_millis(500);
const DURATION: Duration = Duration::from_secs(3);

#[derive(Clone)]
struct Client {
    basic: String,
    token: String,
}

fn rotating(clients: &Arc<Vec<Client>>, make: fn(&Client) -> RequestSpec) -> Requests {
    let clients = clients.clone();
    Requests::Each(Arc::new(move |n| {
        make(&clients[(n % clients.len() as u64) as usize])
    }))
}

fn issue(c: &Client) -> RequestSpec {
    RequestSpec::post_form("/oauth/token", "grant_type=client_credentials")
        .header("authorization", &c.basic)
}

fn introspect(c: &Client) -> RequestSpec {
    RequestSpec::post_form("/oauth/introspect", &format!("token={}", c.token))
        .header("authorization", &c.basic)
}

pub fn run() {
    let bare = load::bare_axum();
    let server = TestServer::spawn_with_settings(carnet_server::state::Settings {
        max_live_tokens: usize::MAX,
        ..Default::default()
    });
    let addr = crate::listings::addr(&server);
    let baseline = RequestSpec::get("/");
    let mut clients = Vec::new();
    let mut results: Vec<[Compared; 2]> = Vec::new();
    for level in LEVELS {
        eprintln!("issuance and introspection at {level} vendors");
        while clients.len() < level {
            let v = VendorApp::connect(&server, &format!("Fournisseur {}", clients.len()));
            v.grant(&server, &["relationship:read", "profile:read"], None);
            clients.push(Client {
                basic: format!(
                    "Basic {}",
                    BASE64.encode(format!("{}:{}", v.client_id, v.secret).as_bytes())
                ),
                token: v.token(),
            });
        }
        let all = Arc::new(clients.clone());
        let measure = |requests| {
            load::compare_requests(
                (bare, &baseline),
                (addr, requests),
                ROUNDS,
                CONNECTIONS,
                WARMUP,
                DURATION,
            )
        };
        results.push([
            measure(rotating(&all, issue)),
            measure(rotating(&all, introspect)),
        ]);
    }
    let names = [
        "`POST /oauth/token` client_credentials",
        "`POST /oauth/introspect`, valid token",
    ];
    let mut head = vec!["rotating over every client: req/s; ratio; p50 / p99 ms".to_owned()];
    head.extend(LEVELS.iter().map(|l| format!("{l} vendors")));
    let levels: Vec<&[Compared]> = results.iter().map(|r| &r[..]).collect();
    let cell: fn(&Compared) -> String = |c| {
        format!(
            "{:.0}/s; {:.3}×; {}",
            c.target.per_second(),
            c.ratio,
            p50_p99(&c.target)
        )
    };
    crate::compared_table(head, &names, &levels, cell, CONNECTIONS);
    let last = LEVELS.len() - 1;
    println!(
        "At {} vendors vs 1: issuance {:.2}× the rate (p99 {:.1} → {:.1} ms), introspection {:.2}× (p99 {:.1} → {:.1} ms).\n",
        LEVELS[last],
        results[last][0].target.per_second() / results[0][0].target.per_second(),
        crate::ms(results[0][0].target.p99),
        crate::ms(results[last][0].target.p99),
        results[last][1].target.per_second() / results[0][1].target.per_second(),
        crate::ms(results[0][1].target.p99),
        crate::ms(results[last][1].target.p99),
    );
}
