//! `GET /metrics`: what carnetd has served, in the Prometheus text format (0.0.4), without
//! auth. Labels are route templates (`/v1/vendors/{id}`), methods from a fixed list and status
//! classes — never a raw path, query, id or anything a client chose — so the output holds no
//! user data and its size is bounded by the number of routes.
//!
//! Written by hand with atomics rather than with a registry crate: a handful of families with
//! fixed labels, a hot path of one read lock and a few relaxed adds, and a text format that
//! takes a few `writeln!`s. Metric names are listed in the README.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::response::IntoResponse;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "other",
];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// What requests that matched no route are counted under.
pub(crate) const UNMATCHED: &str = "(unmatched)";

/// How a token was obtained at `/oauth/token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenGrant {
    AuthorizationCode = 0,
    RefreshToken = 1,
    ClientCredentials = 2,
}

impl TokenGrant {
    /// In discriminant order: `grant as usize` indexes `Metrics::tokens`.
    const ALL: [TokenGrant; 3] = [
        TokenGrant::AuthorizationCode,
        TokenGrant::RefreshToken,
        TokenGrant::ClientCredentials,
    ];

    fn label(self) -> &'static str {
        match self {
            TokenGrant::AuthorizationCode => "authorization_code",
            TokenGrant::RefreshToken => "refresh_token",
            TokenGrant::ClientCredentials => "client_credentials",
        }
    }
}

#[derive(Default)]
struct MethodStats {
    by_class: [AtomicU64; CLASSES.len()],
    /// Non-cumulative counts per bucket; the last one is `+Inf`.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

#[derive(Default)]
struct RouteStats {
    methods: [MethodStats; METHODS.len()],
}

/// Why carnetd closed a connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionClosed {
    /// Its request headers did not arrive within `header_read_timeout`.
    HeaderTimeout = 0,
    /// It idled between requests for `idle_timeout`.
    IdleTimeout = 1,
    /// At the cap, to admit a new one.
    Evicted = 2,
    /// At the cap with every connection serving a request: the new one was closed.
    Refused = 3,
}

impl ConnectionClosed {
    const ALL: [ConnectionClosed; 4] = [
        ConnectionClosed::HeaderTimeout,
        ConnectionClosed::IdleTimeout,
        ConnectionClosed::Evicted,
        ConnectionClosed::Refused,
    ];

    fn label(self) -> &'static str {
        match self {
            ConnectionClosed::HeaderTimeout => "header_timeout",
            ConnectionClosed::IdleTimeout => "idle_timeout",
            ConnectionClosed::Evicted => "evicted",
            ConnectionClosed::Refused => "refused",
        }
    }
}

/// Every counter carnetd exposes; one per `AppState`, so in-process test servers do not share.
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<Box<str>, Arc<RouteStats>>>,
    tokens: [AtomicU64; TokenGrant::ALL.len()],
    /// Counted by the core's webhook worker, which gets this same counter at each unlock.
    pub webhooks: Arc<carnet_core::DeliveryCounts>,
    sealed: AtomicBool,
    /// The ledger index of the open vault (its size and build time are gauges); weak, so
    /// sealing drops it with the rest of the vault's memory.
    ledger_index: RwLock<Weak<carnet_core::ledger::index::LedgerIndex>>,
    connections_open: AtomicU64,
    connections_closed: [AtomicU64; ConnectionClosed::ALL.len()],
    /// Offers taken from the market relay, by outcome (counted by the relay's intake).
    pub relay_offers: Arc<crate::relay::intake::OfferCounts>,
}

impl Metrics {
    /// Counts a token issued at `/oauth/token`.
    pub fn token_issued(&self, grant: TokenGrant) {
        self.tokens[grant as usize].fetch_add(1, Relaxed);
    }

    /// A connection was accepted (`true`) or closed (`false`).
    pub fn connection_open(&self, open: bool) {
        if open {
            self.connections_open.fetch_add(1, Relaxed);
        } else {
            self.connections_open.fetch_sub(1, Relaxed);
        }
    }

    /// Counts a connection carnetd closed itself.
    pub fn connection_closed(&self, why: ConnectionClosed) {
        self.connections_closed[why as usize].fetch_add(1, Relaxed);
    }

    /// The ledger index of the vault just opened.
    pub fn set_ledger_index(&self, index: &Arc<carnet_core::ledger::index::LedgerIndex>) {
        *self.ledger_index.write().unwrap_or_else(|p| p.into_inner()) = Arc::downgrade(index);
    }

    /// Sets the `carnet_sealed` gauge.
    pub fn set_sealed(&self, sealed: bool) {
        self.sealed.store(sealed, Relaxed);
    }

    fn route(&self, template: &str) -> Arc<RouteStats> {
        let read = self.routes.read().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = read.get(template) {
            return r.clone();
        }
        drop(read);
        let mut write = self.routes.write().unwrap_or_else(|p| p.into_inner());
        write.entry(template.into()).or_default().clone()
    }

    pub(crate) fn observe(&self, template: &str, method: &Method, status: u16, took: Duration) {
        let route = self.route(template);
        let m = &route.methods[method_index(method)];
        let class = usize::from(status / 100).clamp(1, CLASSES.len()) - 1;
        m.by_class[class].fetch_add(1, Relaxed);
        let secs = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        m.buckets[bucket].fetch_add(1, Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        m.sum_micros.fetch_add(micros, Relaxed);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut routes: Vec<(String, Arc<RouteStats>)> = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (escape(k), v.clone()))
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail.
        let _ = self.write_http(&mut out, &routes);
        let _ = self.write_rest(&mut out, &routes);
        out
    }

    fn write_http(
        &self,
        out: &mut String,
        routes: &[(String, Arc<RouteStats>)],
    ) -> std::fmt::Result {
        family(
            out,
            "carnet_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route template and status class.",
        )?;
        for (route, stats) in routes {
            for (method, m) in METHODS.iter().zip(&stats.methods) {
                for (class, n) in CLASSES.iter().zip(&m.by_class) {
                    let n = n.load(Relaxed);
                    if n > 0 {
                        writeln!(
                            out,
                            "carnet_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{class}\"}} {n}"
                        )?;
                    }
                }
            }
        }
        let name = "carnet_http_request_duration_seconds";
        family(
            out,
            name,
            "histogram",
            "Time from a request's arrival to its response head, by method and route template.",
        )?;
        for (route, stats) in routes {
            for (method, m) in METHODS.iter().zip(&stats.methods) {
                let counts: Vec<u64> = m.buckets.iter().map(|b| b.load(Relaxed)).collect();
                let total: u64 = counts.iter().sum();
                if total == 0 {
                    continue;
                }
                let labels = format!("method=\"{method}\",route=\"{route}\"");
                let mut cumulative = 0;
                for (i, n) in counts.iter().enumerate() {
                    cumulative += n;
                    let le = BUCKETS.get(i).map_or("+Inf".into(), f64::to_string);
                    writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}")?;
                }
                let sum = m.sum_micros.load(Relaxed) as f64 / 1e6;
                writeln!(out, "{name}_sum{{{labels}}} {sum}")?;
                writeln!(out, "{name}_count{{{labels}}} {total}")?;
            }
        }
        Ok(())
    }

    fn write_rest(
        &self,
        out: &mut String,
        routes: &[(String, Arc<RouteStats>)],
    ) -> std::fmt::Result {
        family(
            out,
            "carnet_vendor_pulls_total",
            "counter",
            "Vendor API reads (GET /v1/vendor/...), by route template, whatever their status.",
        )?;
        let get = method_index(&Method::GET);
        for (route, stats) in routes.iter().filter(|(r, _)| r.starts_with("/v1/vendor/")) {
            let n: u64 = stats.methods[get]
                .by_class
                .iter()
                .map(|c| c.load(Relaxed))
                .sum();
            if n > 0 {
                writeln!(out, "carnet_vendor_pulls_total{{route=\"{route}\"}} {n}")?;
            }
        }
        family(
            out,
            "carnet_relay_offers_total",
            "counter",
            "Offer messages read from the market relay, by outcome (stored, duplicate, refused).",
        )?;
        for (outcome, n) in self.relay_offers.read() {
            writeln!(
                out,
                "carnet_relay_offers_total{{outcome=\"{outcome}\"}} {n}"
            )?;
        }
        family(
            out,
            "carnet_oauth_tokens_issued_total",
            "counter",
            "Access tokens issued at /oauth/token, by grant type.",
        )?;
        for (grant, n) in TokenGrant::ALL.iter().zip(&self.tokens) {
            writeln!(
                out,
                "carnet_oauth_tokens_issued_total{{grant_type=\"{}\"}} {}",
                grant.label(),
                n.load(Relaxed)
            )?;
        }
        let (delivered, failed) = self.webhooks.read();
        for (name, help, n) in [
            (
                "carnet_webhook_deliveries_total",
                "Webhooks delivered (the vendor answered 2xx).",
                delivered,
            ),
            (
                "carnet_webhook_delivery_failures_total",
                "Webhook delivery attempts that failed and will be retried.",
                failed,
            ),
        ] {
            family(out, name, "counter", help)?;
            writeln!(out, "{name} {n}")?;
        }
        family(
            out,
            "carnet_http_connections",
            "gauge",
            "Client connections held now.",
        )?;
        writeln!(
            out,
            "carnet_http_connections {}",
            self.connections_open.load(Relaxed)
        )?;
        family(
            out,
            "carnet_http_connections_closed_total",
            "counter",
            "Connections carnetd closed itself: headers too slow, idle too long, evicted at the cap, or refused at the cap.",
        )?;
        for (why, n) in ConnectionClosed::ALL.iter().zip(&self.connections_closed) {
            writeln!(
                out,
                "carnet_http_connections_closed_total{{reason=\"{}\"}} {}",
                why.label(),
                n.load(Relaxed)
            )?;
        }
        family(
            out,
            "carnet_sealed",
            "gauge",
            "1 while the vault is sealed (waiting for `carnet unlock`), else 0.",
        )?;
        writeln!(out, "carnet_sealed {}", u8::from(self.sealed.load(Relaxed)))?;
        let index = self
            .ledger_index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .upgrade()
            .map(|i| i.stats())
            .unwrap_or_default();
        for (name, help, value) in [
            (
                "carnet_ledger_index_records",
                "Records in the in-memory ledger index (0 while it builds).",
                index.records as f64,
            ),
            (
                "carnet_ledger_index_bytes",
                "Estimated heap bytes of the ledger index, by capacities (0 while it builds).",
                index.bytes as f64,
            ),
            (
                "carnet_ledger_index_build_seconds",
                "How long the last build of the ledger index took, after unlock.",
                index.build_seconds,
            ),
        ] {
            family(out, name, "gauge", help)?;
            writeln!(out, "{name} {value}")?;
        }
        family(
            out,
            "carnet_build_info",
            "gauge",
            "Always 1; the version is a label.",
        )?;
        writeln!(
            out,
            "carnet_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) -> std::fmt::Result {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} {kind}")
}

fn method_index(m: &Method) -> usize {
    let name = m.as_str();
    METHODS
        .iter()
        .position(|k| *k == name)
        .unwrap_or(METHODS.len() - 1)
}

/// A label value as the text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn metrics(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        m.render(),
    )
}

/// `GET /metrics`.
pub fn router(m: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn requests_are_counted_by_template_method_and_class() {
        let m = Metrics::default();
        let ms = Duration::from_millis(3);
        m.observe("/v1/vendors/{id}", &Method::GET, 200, ms);
        m.observe("/v1/vendors/{id}", &Method::GET, 204, ms);
        m.observe("/v1/vendors/{id}", &Method::GET, 404, ms);
        m.observe(
            "/v1/vendors/{id}",
            &Method::from_bytes(b"BREW").unwrap(),
            405,
            ms,
        );
        let text = m.render();
        assert!(text.contains(
            "carnet_http_requests_total{method=\"GET\",route=\"/v1/vendors/{id}\",status=\"2xx\"} 2\n"
        ));
        assert!(text.contains("status=\"4xx\"} 1\n"));
        assert!(text.contains("{method=\"other\",route=\"/v1/vendors/{id}\",status=\"4xx\"} 1"));
        assert!(!text.contains("BREW"));
    }

    #[test]
    fn the_histogram_is_cumulative_with_sum_and_count() {
        let m = Metrics::default();
        m.observe("/healthz", &Method::GET, 200, Duration::from_micros(500));
        m.observe("/healthz", &Method::GET, 200, Duration::from_millis(20));
        m.observe("/healthz", &Method::GET, 200, Duration::from_secs(30));
        let text = m.render();
        let p = "carnet_http_request_duration_seconds";
        let l = "method=\"GET\",route=\"/healthz\"";
        for (le, n) in [
            ("0.001", 1),
            ("0.01", 1),
            ("0.025", 2),
            ("10", 2),
            ("+Inf", 3),
        ] {
            let want = format!("{p}_bucket{{{l},le=\"{le}\"}} {n}");
            assert!(text.lines().any(|x| x == want), "{want} not in:\n{text}");
        }
        assert_eq!(
            line(&text, &format!("{p}_sum")),
            Some(format!("{p}_sum{{{l}}} 30.0205").as_str())
        );
        assert_eq!(
            line(&text, &format!("{p}_count")),
            Some(format!("{p}_count{{{l}}} 3").as_str())
        );
    }

    #[test]
    fn vendor_pulls_tokens_webhooks_and_sealed_are_exposed() {
        let m = Metrics::default();
        let ms = Duration::from_millis(1);
        m.observe("/v1/vendor/intents", &Method::GET, 200, ms);
        m.observe("/v1/vendor/intents", &Method::GET, 401, ms);
        m.observe("/v1/vendor/intents/{id}/offers", &Method::POST, 201, ms);
        m.token_issued(TokenGrant::ClientCredentials);
        m.webhooks.failed();
        let text = m.render();
        assert!(text.contains("carnet_vendor_pulls_total{route=\"/v1/vendor/intents\"} 2\n"));
        assert!(!text.contains("carnet_vendor_pulls_total{route=\"/v1/vendor/intents/{id}"));
        assert!(
            text.contains(
                "carnet_oauth_tokens_issued_total{grant_type=\"client_credentials\"} 1\n"
            )
        );
        assert!(
            text.contains("carnet_oauth_tokens_issued_total{grant_type=\"refresh_token\"} 0\n")
        );
        assert!(text.contains("carnet_webhook_deliveries_total 0\n"));
        assert!(text.contains("carnet_webhook_delivery_failures_total 1\n"));
        assert!(text.contains("carnet_sealed 0\n"));
        m.set_sealed(true);
        assert!(m.render().contains("carnet_sealed 1\n"));
    }

    #[test]
    fn every_family_has_help_and_type_and_label_values_are_escaped() {
        let m = Metrics::default();
        m.observe("/odd\"route\\", &Method::GET, 200, Duration::ZERO);
        let text = m.render();
        assert!(text.contains("route=\"/odd\\\"route\\\\\""), "{text}");
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| f.ends_with("_seconds")))
                .unwrap_or(name);
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "no TYPE for {name}"
            );
        }
    }
}
