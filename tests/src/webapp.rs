//! A browser stand-in for the web app under `/app/` over plain HTTP: it keeps every cookie
//! the server sets (path aside: they are all `/app`), never follows redirects, and sends each
//! form with the form token of the page it came from, as a browser would. The headless
//! Chromium test drives the real thing.

use std::collections::BTreeMap;

use crate::browser::input_value;
use crate::{Api, Resp, http};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct WebApp {
    base: String,
    pub cookies: BTreeMap<String, String>,
}

impl WebApp {
    /// A browser with no cookie yet.
    pub fn new(s: &impl Api) -> WebApp {
        WebApp {
            base: s.url(""),
            cookies: BTreeMap::new(),
        }
    }

    /// Sets the web password (through the owner API) and signs in with it.
    pub fn signed_in(s: &impl Api) -> WebApp {
        let set = s.put("/v1/password", &serde_json::json!({ "password": PASSWORD }));
        assert_eq!(set.status, 204, "{}", set.text);
        let mut app = WebApp::new(s);
        let r = app.sign_in(PASSWORD);
        assert_eq!(r.status, 303, "{}", r.text);
        app
    }

    /// The `Cookie` header this browser sends (the session's, once signed in).
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, r: &Resp) {
        for set in r.headers.get_all("set-cookie") {
            let Ok(set) = set.to_str() else { continue };
            let removed = set.contains("Max-Age=0");
            if let Some((k, v)) = set.split(';').next().and_then(|kv| kv.split_once('=')) {
                if removed {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
    }

    /// `GET path` (e.g. `/app/`).
    pub fn get(&mut self, path: &str) -> Resp {
        let r = Resp::from(
            http()
                .get(format!("{}{path}", self.base))
                .header("cookie", self.cookie_header())
                .send()
                .expect("GET"),
        );
        self.keep_cookies(&r);
        r
    }

    /// `POST path` with exactly `form` (no token added).
    pub fn post_raw(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let r = Resp::from(
            http()
                .post(format!("{}{path}", self.base))
                .header("cookie", self.cookie_header())
                .form(form)
                .send()
                .expect("POST"),
        );
        self.keep_cookies(&r);
        r
    }

    /// Sends a form of the page at `page` to `action`, with that page's form token, as a
    /// browser that was shown `page` would.
    pub fn submit(&mut self, page: &str, action: &str, form: &[(&str, &str)]) -> Resp {
        let shown = self.get(page);
        assert_eq!(shown.status, 200, "{page}: {}", shown.text);
        let csrf = input_value(&shown.text, "csrf").expect("the page has a form token");
        let mut fields: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(action, &fields)
    }

    /// Signs in with `password` from the sign-in page; the answer (303 to Today when right).
    pub fn sign_in(&mut self, password: &str) -> Resp {
        let page = self.get("/app/sign-in");
        assert_eq!(page.status, 200, "{}", page.text);
        let csrf = input_value(&page.text, "csrf").expect("the sign-in form has a token");
        self.post_raw("/app/sign-in", &[("csrf", &csrf), ("password", password)])
    }
}
