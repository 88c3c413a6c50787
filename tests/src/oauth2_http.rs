//! The HTTP transport the `oauth2` crate needs, over the tests' blocking reqwest client (its
//! own reqwest feature is tied to another reqwest major version). Redirects are not followed.

pub type HttpRequest = oauth2::HttpRequest;
pub type HttpResponse = oauth2::HttpResponse;

/// A `SyncHttpClient` for `oauth2` requests.
pub fn client() -> impl Fn(HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let http = crate::http();
    move |req: HttpRequest| {
        let (parts, body) = req.into_parts();
        let mut builder = http.request(parts.method, parts.uri.to_string()).body(body);
        for (name, value) in &parts.headers {
            builder = builder.header(name, value);
        }
        let res = builder.send()?;
        let mut out = http::Response::builder().status(res.status());
        for (name, value) in res.headers() {
            out = out.header(name, value);
        }
        let bytes = res.bytes()?.to_vec();
        Ok(out
            .body(bytes)
            .unwrap_or_else(|_| http::Response::new(Vec::new())))
    }
}
