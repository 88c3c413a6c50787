//! The web app's files, embedded in the binary and served from `/app/` (nothing is fetched
//! from elsewhere): its stylesheet, its one script (progressive enhancement only), the web
//! app manifest and the icons that make it installable to a phone's home screen.

use axum::Router;
use axum::response::Response;
use axum::routing::get;

use crate::html::asset;
use crate::state::AppState;

const CSS: &str = include_str!("../../assets/app/app.css");
const JS: &str = include_str!("../../assets/app/app.js");
const MANIFEST: &str = include_str!("../../assets/app/manifest.webmanifest");
const ICON_SVG: &str = include_str!("../../assets/app/icon.svg");
const ICON_192: &[u8] = include_bytes!("../../assets/app/icon-192.png");
const ICON_512: &[u8] = include_bytes!("../../assets/app/icon-512.png");

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS.as_bytes())
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS.as_bytes())
}

async fn manifest() -> Response {
    asset("application/manifest+json", MANIFEST.as_bytes())
}

async fn icon_svg() -> Response {
    asset("image/svg+xml", ICON_SVG.as_bytes())
}

async fn icon_192() -> Response {
    asset("image/png", ICON_192)
}

async fn icon_512() -> Response {
    asset("image/png", ICON_512)
}

/// The files, served to anyone (they hold nothing of the vault).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/app.css", get(css))
        .route("/app/app.js", get(js))
        .route("/app/manifest.webmanifest", get(manifest))
        .route("/app/icon.svg", get(icon_svg))
        .route("/app/icon-192.png", get(icon_192))
        .route("/app/icon-512.png", get(icon_512))
}
