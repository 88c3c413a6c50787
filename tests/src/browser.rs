//! A browser stand-in for the consent flow over plain HTTP: it keeps the session cookie,
//! never follows redirects, and reads the hidden fields of the consent form. The headless
//! Chromium test drives the real thing.

use data_encoding::BASE64URL_NOPAD;
use ring::digest::{SHA256, digest};

use crate::vendor::VendorApp;
use crate::{Api, Resp, TestServer, http};

/// The redirect URI the test vendors register.
pub const REDIRECT: &str = "https://vendor.example/cb";

/// A PKCE pair (RFC 7636, S256).
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new(seed: u8) -> Pkce {
        let verifier = BASE64URL_NOPAD.encode(&[seed; 32]);
        let challenge = BASE64URL_NOPAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref());
        Pkce {
            verifier,
            challenge,
        }
    }
}

#[derive(Default)]
pub struct Browser {
    pub cookie: Option<String>,
}

impl Browser {
    fn keep_cookie(&mut self, r: &Resp) {
        if let Some(set) = r.header("set-cookie") {
            self.cookie = set.split(';').next().map(str::to_owned);
        }
    }

    pub fn get(&mut self, url: &str) -> Resp {
        let mut req = http().get(url);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = Resp::from(req.send().expect("GET"));
        self.keep_cookie(&r);
        r
    }

    pub fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Resp {
        let mut req = http().post(url).form(form);
        if let Some(c) = &self.cookie {
            req = req.header("cookie", c);
        }
        let r = Resp::from(req.send().expect("POST"));
        self.keep_cookie(&r);
        r
    }
}

/// The value of the form input named `name` in `html`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The short code shown for terminal approval.
pub fn short_code(html: &str) -> Option<String> {
    let marker = "carnet consent approve ";
    let start = html.find(marker)? + marker.len();
    Some(html[start..start + 9].to_owned())
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The authorize URL a vendor sends the owner's browser to: code flow with PKCE, two scopes,
/// one category; `extra` replaces a parameter (an empty value drops it).
pub fn authorize_url(s: &TestServer, v: &VendorApp, pkce: &Pkce, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", v.client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "relationship:read profile:read"),
        ("state", "xyz-state"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("categories", "home.appliances"),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).expect("the server's URL");
    u.query_pairs_mut().extend_pairs(params);
    u.to_string()
}
