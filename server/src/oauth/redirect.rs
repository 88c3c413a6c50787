//! Redirect URIs are compared exactly, byte for byte, with one exception (RFC 8252 §7.3): a
//! loopback redirect URI may differ in its port only, since a native app picks a free port at
//! run time. Anything a parser would normalise (`..`, case, default ports) does not match.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_schemas::{RedirectUri, is_loopback_host};
use url::Url;

pub fn matches(registered: &RedirectUri, presented: &str) -> bool {
    if registered.as_str() == presented {
        return true;
    }
    let (Ok(r), Ok(p)) = (Url::parse(registered.as_str()), Url::parse(presented)) else {
        return false;
    };
    let loopback = r.host().as_ref().is_some_and(is_loopback_host);
    // The presented URI must be exactly what a parser reads back, so nothing was normalised.
    let canonical = p.as_str() == presented;
    loopback
        && canonical
        && r.scheme() == "http"
        && p.scheme() == "http"
        && r.host_str() == p.host_str()
        && r.path() == p.path()
        && r.query() == p.query()
        && p.fragment().is_none()
        && p.username().is_empty()
        && p.password().is_none()
}

/// Where the browser goes back to the vendor: `redirect_uri` with `params`, `state` and `iss`.
pub fn to_vendor(
    issuer: &str,
    redirect_uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> String {
    let mut all: Vec<(&str, &str)> = params.to_vec();
    if let Some(st) = state {
        all.push(("state", st));
    }
    all.push(("iss", issuer));
    with_params(redirect_uri, &all)
}

/// A 303 to `location`, never cached.
pub fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `uri` with the query parameters appended.
pub fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.into()
        }
        Err(_) => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> RedirectUri {
        s.parse().unwrap()
    }

    #[test]
    fn only_exact_matches_except_the_loopback_port() {
        let r = reg("https://vendor.example/cb");
        assert!(matches(&r, "https://vendor.example/cb"));
        for bad in [
            "https://vendor.example/cb/",
            "https://vendor.example/cb/extra",
            "https://vendor.example/cb?x=1",
            "https://vendor.example/x/../cb",
            "https://other.example/cb",
            "http://vendor.example/cb",
            "https://user@vendor.example/cb",
            "https://vendor.example/cb#frag",
            "https://VENDOR.example/cb",
            "https://vendor.example:443/cb",
        ] {
            assert!(!matches(&r, bad), "{bad}");
        }
        let lo = reg("http://127.0.0.1:8000/cb");
        assert!(matches(&lo, "http://127.0.0.1:53012/cb"));
        assert!(matches(&lo, "http://127.0.0.1/cb"));
        assert!(!matches(&lo, "http://127.0.0.1:53012/cb/"));
        assert!(!matches(&lo, "http://127.0.0.1:53012/x/../cb"));
        assert!(!matches(&lo, "http://localhost:53012/cb"));
        assert!(!matches(&lo, "https://127.0.0.1:53012/cb"));
    }

    #[test]
    fn parameters_are_appended_to_an_existing_query() {
        assert_eq!(
            with_params("https://v.example/cb?a=1", &[("code", "x y")]),
            "https://v.example/cb?a=1&code=x+y"
        );
    }
}
