//! Running carnetd for years: SIGTERM loses nothing acknowledged, logs hold no secret or user
//! text and carry request ids, `/metrics` counts by route template, and a bad configuration
//! stops the server at start naming the key.

use std::collections::HashSet;

use carnet_tests::vendor::VendorApp;
use carnet_tests::writers::Writers;
use carnet_tests::{Api, Carnetd, TestServer, http};
use serde_json::{Value, json};

#[test]
fn sigterm_under_write_load_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let vendor = d.create("/v1/vendors", &json!({"name": "Acme"}));
    let writers = Writers::start(&d.base, &d.token(), &vendor, 8);
    writers.wait_acked(300);
    let (status, log) = d.terminate();
    let written = writers.stop();
    assert!(status.success(), "carnetd exited with {status}:\n{log}");
    assert!(
        log.contains("every acknowledged write is committed"),
        "carnetd stopped through its graceful path:\n{log}"
    );
    let refused = &written.refused;
    assert!(
        refused.is_empty(),
        "requests in flight at SIGTERM were answered with {refused:?}, not finished"
    );
    let acked = written.acked;

    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let stored: HashSet<String> = d
        .list_all("/v1/interactions?limit=1000")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost: {lost:?}",
        lost.len(),
        acked.len()
    );
}

#[test]
fn logs_of_a_full_flow_hold_no_secret_or_user_text_and_carry_request_ids() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[("CARNET_LOG", "trace")]).unwrap();
    let m = |n: u32| format!("LOGMARK{n}qzx");
    // The owner writes.
    let v = VendorApp::connect(&d, &m(1));
    d.create(
        "/v1/interactions",
        &json!({"vendor_id": v.vendor_id, "channel": "phone", "summary": m(2),
                "they_said": m(3), "shared": true}),
    );
    let r = d.put("/v1/profile", &json!({"display_name": m(4), "city": m(5)}));
    assert_eq!(r.status, 200, "{}", r.text);
    // The vendor is granted, takes a token and pulls.
    let category = format!("home.{}", m(6).to_lowercase());
    v.grant(
        &d,
        &["relationship:read", "interactions:read", "profile:read"],
        Some(&[category.as_str()]),
    );
    let token = v.token();
    let pulled = v.get(&token, "/v1/vendor/interactions");
    assert_eq!(pulled.status, 200, "{}", pulled.text);
    assert!(
        pulled.text.contains(&m(2)),
        "the pull returned the user text"
    );
    let profile = v.get(&token, "/v1/vendor/profile");
    assert_eq!(profile.status, 200, "{}", profile.text);
    let pull_id = pulled.header("x-request-id").unwrap().to_owned();
    let profile_id = profile.header("x-request-id").unwrap().to_owned();
    let owner = d.token();
    let (status, log) = d.terminate();
    assert!(status.success(), "{status}");

    let mut secrets = vec![owner, v.secret.clone(), token, category];
    secrets.extend(v.webhook_secret.clone());
    secrets.extend((1..=6).map(m));
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "{secret} in the log");
    }
    assert!(!log.to_lowercase().contains(&m(6).to_lowercase()));

    // Every event inside a request's span names the request id that was sent back.
    // (The lines that are not JSON are the first start's note on where the vault is.)
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let in_requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["name"] == "request")
        .collect();
    assert!(
        !in_requests.is_empty(),
        "no event in a request span:\n{log}"
    );
    for l in &in_requests {
        let id = l["span"]["request_id"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "an event without a request id: {l}");
    }
    for (id, route) in [
        (&pull_id, "/v1/vendor/interactions"),
        (&profile_id, "/v1/vendor/profile"),
    ] {
        assert!(
            in_requests
                .iter()
                .any(|l| l["span"]["request_id"] == id.as_str() && l["span"]["route"] == route),
            "no log line with request id {id} for {route}"
        );
    }
}

/// One sample of the exposition text, by its exact name and labels.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

/// `log_level` filters by level and by target: `warn,carnetd=info` lets the binary's own info
/// lines in (its "listening" line is how the test finds the port) and no other target's.
#[test]
fn log_level_filters_by_level_and_target() {
    let info_targets = |log: &str| -> Vec<String> {
        log.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["level"] == "INFO")
            .map(|e| e["target"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[("CARNET_LOG_LEVEL", "warn,carnetd=info")]).unwrap();
    assert_eq!(d.get("/healthz").status, 200);
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    let mut targets = info_targets(&log);
    targets.dedup();
    assert_eq!(targets, ["carnetd"], "{log}");
    // By default, info lines of carnetd's library too.
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let (_, log) = d.terminate();
    assert!(
        info_targets(&log).iter().any(|t| t.starts_with("carnet_")),
        "{log}"
    );
}

#[test]
fn metrics_count_requests_by_route_template_tokens_and_vendor_pulls() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    assert_eq!(s.get(&format!("/v1/vendors/{}", v.vendor_id)).status, 200);
    assert_eq!(s.get("/v1/nosuchroute-metricsmark").status, 404);
    v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    assert_eq!(v.get("not-a-token", "/v1/vendor/relationship").status, 401);

    // No token needed, and none sent.
    let r = http().get(s.url("/metrics")).send().unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = r.text().unwrap();
    let series = |s: &str| sample(&text, s).unwrap_or_else(|| panic!("no {s} in:\n{text}"));
    assert_eq!(
        series(
            "carnet_http_requests_total{method=\"GET\",route=\"/v1/vendors/{id}\",status=\"2xx\"}"
        ),
        1.0
    );
    assert_eq!(
        series("carnet_http_requests_total{method=\"GET\",route=\"(unmatched)\",status=\"4xx\"}"),
        1.0
    );
    assert_eq!(
        series("carnet_http_requests_total{method=\"POST\",route=\"/oauth/token\",status=\"2xx\"}"),
        1.0
    );
    assert_eq!(
        series(
            "carnet_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/vendors/{id}\"}"
        ),
        1.0
    );
    assert_eq!(
        series("carnet_oauth_tokens_issued_total{grant_type=\"client_credentials\"}"),
        1.0
    );
    assert_eq!(
        series("carnet_vendor_pulls_total{route=\"/v1/vendor/relationship\"}"),
        2.0
    );
    assert_eq!(series("carnet_webhook_deliveries_total"), 0.0);
    assert_eq!(series("carnet_webhook_delivery_failures_total"), 0.0);
    assert_eq!(series("carnet_sealed"), 0.0);
    // Templates only: no id, raw path or token appears.
    for raw in [
        v.vendor_id.as_str(),
        "metricsmark",
        token.as_str(),
        "not-a-token",
    ] {
        assert!(!text.contains(raw), "{raw} in /metrics");
    }
}

#[test]
fn a_bad_configuration_stops_carnetd_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (env, key) in [
        (("CARNET_ACCESS_TOKEN_TTL", "5"), "access_token_ttl"),
        (("CARNET_REFRESH_TOKEN_TTL", "60"), "refresh_token_ttl"),
        (("CARNET_TRUSTED_PROXIES", "proxy.lan"), "trusted_proxies"),
        (("CARNET_OPEN_REGISTRATION", "maybe"), "open_registration"),
        (("CARNET_LOG", "loud=="), "log_level"),
        (("CARNET_HEADER_READ_TIMEOUT", "0"), "header_read_timeout"),
        (("CARNET_MAX_CONNECTIONS", "many"), "max_connections"),
    ] {
        let err = Carnetd::start(dir.path(), &[env]).err().unwrap_or_else(|| {
            panic!("carnetd started with {}={}", env.0, env.1);
        });
        assert!(err.contains(key) && err.contains(env.0), "{err}");
    }
    let file = dir.path().join("carnetd.toml");
    std::fs::write(&file, "trusted_proxy = [\"127.0.0.1\"]\n").unwrap();
    let err = Carnetd::start(dir.path(), &[]).err().unwrap();
    assert!(err.contains("trusted_proxy"), "{err}");
    std::fs::write(&file, "access_token_ttl = 100000\n").unwrap();
    let err = Carnetd::start(dir.path(), &[]).err().unwrap();
    assert!(
        err.contains("access_token_ttl") && err.contains("carnetd.toml"),
        "{err}"
    );

    // What a good file says is what print-config shows, environment on top.
    std::fs::write(
        &file,
        "trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\nopen_registration = true\n",
    )
    .unwrap();
    let out = carnet_tests::run_carnetd(dir.path(), &["print-config"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("trusted_proxies = [\"127.0.0.1/32\", \"10.0.0.0/8\"]"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("open_registration = true"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("refresh_token_ttl = 2592000"),
        "{}",
        out.stdout
    );
    for default in [
        "header_read_timeout = 10",
        "idle_timeout = 60",
        "max_connections = 4096",
    ] {
        assert!(out.stdout.contains(default), "{default}: {}", out.stdout);
    }
}
