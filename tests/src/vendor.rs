//! The vendor's side: a vendor connected as an OAuth client, asking for tokens and calling
//! the vendor API over plain HTTP (the `oauth2` crate is used in its own test).

use serde_json::{Value, json};

use crate::{Api, Resp, http};

/// A vendor with a client, as the owner connected it.
#[derive(Debug, Clone)]
pub struct VendorApp {
    pub base: String,
    pub vendor_id: String,
    pub client_id: String,
    pub secret: String,
    pub webhook_secret: Option<String>,
}

impl VendorApp {
    /// Adds vendor `name` and connects it as a client (with a webhook URL nothing listens on).
    pub fn connect(s: &impl Api, name: &str) -> VendorApp {
        Self::connect_with_webhook(s, name, "http://127.0.0.1:9/hook")
    }

    /// Adds vendor `name` and connects it as a client whose webhooks go to `webhook_url`.
    pub fn connect_with_webhook(s: &impl Api, name: &str, webhook_url: &str) -> VendorApp {
        let vendor_id = s.create("/v1/vendors", &json!({ "name": name }));
        let r = s.post(
            &format!("/v1/vendors/{vendor_id}/client"),
            &json!({"redirect_uris": ["https://vendor.example/cb"], "webhook_url": webhook_url}),
        );
        assert_eq!(r.status, 201, "connect: {}", r.text);
        let c = r.json();
        VendorApp {
            base: s.base().to_owned(),
            vendor_id,
            client_id: c["client_id"].as_str().expect("client_id").to_owned(),
            secret: c["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_owned(),
            webhook_secret: c["webhook_secret"].as_str().map(str::to_owned),
        }
    }

    /// The owner grants this vendor `scopes` in `categories` (`None`: all categories).
    pub fn grant(&self, s: &impl Api, scopes: &[&str], categories: Option<&[&str]>) -> String {
        let body = match categories {
            Some(c) => json!({"vendor_id": self.vendor_id, "scopes": scopes, "categories": c}),
            None => json!({"vendor_id": self.vendor_id, "scopes": scopes, "all_categories": true}),
        };
        s.create("/v1/grants", &body)
    }

    /// POSTs a form to an OAuth endpoint with client_secret_basic.
    pub fn oauth(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        Resp::from(
            http()
                .post(format!("{}{path}", self.base))
                .basic_auth(&self.client_id, Some(&self.secret))
                .form(form)
                .send()
                .expect("request"),
        )
    }

    /// A client_credentials token for everything granted; asserts success.
    pub fn token(&self) -> String {
        self.token_with(&[])
    }

    /// `n` reads on one token, alternating the intents and the profile (it needs
    /// `intents:read` and `profile:read`), each answered 200: consecutive reads differ, so
    /// none is compacted into the one before.
    pub fn alternating_reads(&self, n: usize) {
        let t = self.token();
        for i in 0..n {
            let path = if i % 2 == 0 {
                "/v1/vendor/intents"
            } else {
                "/v1/vendor/profile"
            };
            assert_eq!(self.get(&t, path).status, 200, "{path}");
        }
    }

    /// A client_credentials token with extra parameters (scope, categories).
    pub fn token_with(&self, extra: &[(&str, &str)]) -> String {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend_from_slice(extra);
        let r = self.oauth("/oauth/token", &form);
        assert_eq!(r.status, 200, "token: {}", r.text);
        r.json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// GETs a vendor API path with a bearer token.
    pub fn get(&self, token: &str, path: &str) -> Resp {
        Resp::from(
            http()
                .get(format!("{}{path}", self.base))
                .bearer_auth(token)
                .send()
                .expect("request"),
        )
    }

    /// Introspects `token` as this client.
    pub fn introspect(&self, token: &str) -> Value {
        let r = self.oauth("/oauth/introspect", &[("token", token)]);
        assert_eq!(r.status, 200, "introspect: {}", r.text);
        r.json()
    }
}

/// `n` vendors connected and granted `scopes` in `categories` (`None`: all), made by a few
/// threads at once so their writes share commits: the setup of the benches and tests that
/// need many vendors.
pub fn connect_many(
    s: &(impl Api + Sync),
    n: usize,
    scopes: &[&str],
    categories: Option<&[&str]>,
) -> Vec<VendorApp> {
    const THREADS: usize = 8;
    let mut all: Vec<(usize, VendorApp)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || {
                    (t..n)
                        .step_by(THREADS)
                        .map(|i| {
                            let v = VendorApp::connect(s, &format!("Vendor {i}"));
                            v.grant(s, scopes, categories);
                            (i, v)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("connecting vendors"))
            .collect()
    });
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, v)| v).collect()
}

impl VendorApp {
    /// Its `client_secret_basic` Authorization header value.
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            data_encoding::BASE64.encode(format!("{}:{}", self.client_id, self.secret).as_bytes())
        )
    }
}
