//! Every page of the web app at a phone's width (360 px) and a desktop's (1280 px), on a
//! seeded vault: it answers 200, fits the width, has no accessibility violation that axe-core
//! rates serious or critical, and is kept as a full-page screenshot in `target/ci-artifacts/`
//! (`app-<page>-<width>.png`).
//!
//! axe-core comes from npm: `.ci/run` installs it with
//! `npm install --prefix target/axe axe-core@<version>`; `CARNET_AXE_JS` names another
//! `axe.min.js`. Without it these tests fail, saying how to install it.

use std::path::PathBuf;
use std::time::Duration;

use carnet_tests::webdriver::Driver;
use carnet_tests::{Api, TestServer};
use serde_json::json;

use super::seed::{COMMON_WORD, Seed, seed};
use super::{PASSWORD, navigation_status, signed_in};

const WIDTHS: [u32; 2] = [360, 1280];
const HEIGHT: u32 = 800;

/// Where axe-core's `axe.min.js` is: `CARNET_AXE_JS`, else what `.ci/run` installs under the
/// workspace's `target/axe/`.
fn axe_path() -> PathBuf {
    match std::env::var_os("CARNET_AXE_JS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../target/axe/node_modules/axe-core/axe.min.js"),
    }
}

fn axe_source() -> String {
    let path = axe_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is missing ({}: {e}). Install it as .ci/run does: \
             `npm install --prefix target/axe axe-core@4.14.1` from the workspace's root \
             (Debian's npm), or point CARNET_AXE_JS at an axe.min.js",
            path.display()
        )
    })
}

/// The serious and critical violations axe-core finds on the page shown, in words.
fn axe_violations(d: &Driver, source: &str) -> Vec<String> {
    // WebDriver's scripts run outside the page's CSP: axe is defined on `window` here.
    let defined = d.script(&format!(
        "{source}\n;return typeof window.axe === 'object' || typeof axe === 'object';"
    ));
    assert_eq!(defined, json!(true), "axe-core did not load");
    let found = d.script_async(
        r"const done = arguments[arguments.length - 1];
          const node = n => '    ' + n.target.join(' ') + ': ' + n.html.slice(0, 160) + '\n      '
            + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300);
          axe.run(document, {resultTypes: ['violations']})
            .then(r => done(r.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => v.impact + ' ' + v.id + ': ' + v.help + '\n'
                + v.nodes.slice(0, 6).map(node).join('\n'))))
            .catch(e => done(['axe failed: ' + e]));",
        Duration::from_secs(60),
    );
    found
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_else(|| vec![format!("axe answered {found}")])
}

/// Opens `path` at each width, screenshots it, and checks it; fails listing everything found.
fn check(name: &str, path: impl Fn(&Seed) -> String, signed: bool) {
    let source = axe_source();
    let s = TestServer::spawn();
    let seeded = seed(&s);
    let d = if signed {
        signed_in(&s)
    } else {
        assert_eq!(
            s.put("/v1/password", &json!({"password": PASSWORD})).status,
            204
        );
        Driver::start()
    };
    let url = s.url(&path(&seeded));
    let mut wrong = Vec::new();
    for width in WIDTHS {
        d.viewport(width, HEIGHT);
        d.go(&url);
        let status = navigation_status(&d);
        d.full_page_screenshot(&format!("app-{name}-{width}.png"));
        if status != json!(200) {
            wrong.push(format!("{width} px: {url} answered {status}, not 200"));
            continue;
        }
        if !d.fits_width() {
            let widest = d.script(
                "return [...document.querySelectorAll('body *')]
                   .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                   .slice(0, 5).map(e => e.outerHTML.slice(0, 120))",
            );
            wrong.push(format!(
                "{width} px: the page scrolls sideways; wider than the screen: {widest}"
            ));
        }
        for v in axe_violations(&d, &source) {
            wrong.push(format!("{width} px: {v}"));
        }
    }
    assert!(wrong.is_empty(), "{name} ({url}):\n{}", wrong.join("\n"));
}

macro_rules! pages {
    ($($test:ident: $name:literal, $signed:literal, $path:expr;)*) => {$(
        #[test]
        #[ignore = "needs Chromium, ChromeDriver and axe-core: run by .ci/run with --ignored"]
        fn $test() {
            check($name, $path, $signed);
        }
    )*};
}

pages! {
    the_sign_in_page_is_accessible_fits_a_phone_and_is_screenshotted:
        "sign-in", false, |_| "/app/sign-in".to_owned();
    today_is_accessible_fits_a_phone_and_is_screenshotted:
        "today", true, |_| "/app/".to_owned();
    the_vendors_page_is_accessible_fits_a_phone_and_is_screenshotted:
        "vendors", true, |_| "/app/vendors".to_owned();
    a_vendor_s_page_is_accessible_fits_a_phone_and_is_screenshotted:
        "vendor", true, |s: &Seed| format!("/app/vendors/{}", s.acme.vendor_id);
    a_vendor_without_connection_is_accessible_fits_a_phone_and_is_screenshotted:
        "vendor-plain", true, |s: &Seed| format!("/app/vendors/{}", s.plumber);
    add_interaction_is_accessible_fits_a_phone_and_is_screenshotted:
        "add-interaction", true, |_| "/app/interactions/new".to_owned();
    the_intents_page_is_accessible_fits_a_phone_and_is_screenshotted:
        "intents", true, |_| "/app/intents".to_owned();
    an_intent_s_page_is_accessible_fits_a_phone_and_is_screenshotted:
        "intent", true, |s: &Seed| format!("/app/intents/{}", s.intent);
    the_access_page_is_accessible_fits_a_phone_and_is_screenshotted:
        "access", true, |_| "/app/access".to_owned();
    search_is_accessible_fits_a_phone_and_is_screenshotted:
        "search", true, |_| format!("/app/search?q={COMMON_WORD}");
    the_subscriptions_page_is_accessible_fits_a_phone_and_is_screenshotted:
        "subscriptions", true, |_| "/app/subscriptions".to_owned();
    add_subscription_is_accessible_fits_a_phone_and_is_screenshotted:
        "add-subscription", true, |s: &Seed| format!("/app/vendors/{}/subscriptions/new", s.plumber);
    settings_is_accessible_fits_a_phone_and_is_screenshotted:
        "settings", true, |_| "/app/settings".to_owned();
}

#[test]
fn axe_core_is_looked_for_where_ci_installs_it_unless_told_otherwise() {
    if std::env::var_os("CARNET_AXE_JS").is_none() {
        assert!(
            axe_path().ends_with("target/axe/node_modules/axe-core/axe.min.js"),
            "{}",
            axe_path().display()
        );
    }
}

#[test]
#[ignore = "needs Chromium, ChromeDriver and axe-core: run by .ci/run with --ignored"]
fn axe_core_runs_and_reports_what_it_finds() {
    let source = axe_source();
    let d = Driver::start();
    d.go(
        "data:text/html,<!doctype html><html lang=en><title>t</title><img src=x><button></button>",
    );
    let found = axe_violations(&d, &source);
    assert!(
        found.iter().any(|v| v.starts_with("critical image-alt")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|v| v.starts_with("critical button-name")),
        "{found:?}"
    );
}
