//! What every HTML page carnetd serves carries, the consent pages and the web app alike (they
//! share the origin): a Content-Security-Policy of `default-src 'self'` without inline script
//! or style, frames refused, no referrer, nothing cached. Never builds a page's content.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The policy's fixed part. `form-action` is added per page: a consent form may be redirected
/// to the vendor's origin, nothing else may leave this origin.
const POLICY: &str =
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// `html` as a page, with the headers every page carries. `form_to` is one more origin a form
/// submission may be redirected to (the consent page's redirect URI).
pub fn respond(status: StatusCode, html: String, form_to: Option<&str>) -> Response {
    let csp = match form_to {
        Some(o) => format!("{POLICY}; form-action 'self' {o}"),
        None => format!("{POLICY}; form-action 'self'"),
    };
    let mut res = (status, html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // An origin that is not a header value (it came from a registered redirect URI, which is
    // checked) leaves only 'self': the stricter policy.
    let csp = HeaderValue::from_str(&csp)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"));
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    res
}

/// A file embedded in the binary (a stylesheet, a script, an icon), served with its type,
/// `nosniff`, and revalidated on each use (`no-cache`), so a new carnetd is never served an old one.
pub fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// A vendor-supplied URL as a page may link it: only `http` and `https`, parsed (a
/// `javascript:` or `data:` URL is never a link).
pub fn safe_url(url: &str) -> Option<url::Url> {
    url::Url::parse(url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_urls_are_links() {
        assert!(safe_url("https://shop.example/help").is_some());
        assert!(safe_url(" http://shop.example ").is_some());
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "//shop.example",
            "shop.example",
            "file:///etc/passwd",
            "http://",
        ] {
            assert!(safe_url(bad).is_none(), "{bad} must not become a link");
        }
    }

    #[test]
    fn every_page_refuses_frames_inline_code_and_caching() {
        let res = respond(
            StatusCode::OK,
            "<p>x</p>".into(),
            Some("https://shop.example"),
        );
        let h = res.headers();
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap_or("");
        assert!(csp.starts_with("default-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            csp.contains("form-action 'self' https://shop.example"),
            "{csp}"
        );
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        // An origin that cannot be a header value leaves the page at 'self'.
        let res = respond(StatusCode::OK, String::new(), Some("https://a\nb"));
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or("");
        assert!(csp.ends_with("form-action 'self'"), "{csp}");
    }
}
