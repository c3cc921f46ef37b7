//! The status page's static files, embedded in the binary and served under
//! `/status/assets/`. Links carry a content hash (`?v=`), so the files can be cached for a year.

use std::sync::OnceLock;

use axum::{
    extract::Path,
    response::{IntoResponse, Response},
};
use http::{header, StatusCode};

const STYLESHEET: &str = include_str!("../../assets/status/status.css");
const ICON: &str = include_str!("../../assets/status/icon.svg");

/// FNV-1a over every asset: changes whenever one of them does.
fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in STYLESHEET.bytes().chain(ICON.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{:012x}", h & 0xffff_ffff_ffff)
    })
}

/// The stylesheet's URL, with its version.
pub fn stylesheet_url() -> String {
    format!("/status/assets/status.css?v={}", version())
}

/// The icon's URL, with its version.
pub fn icon_url() -> String {
    format!("/status/assets/icon.svg?v={}", version())
}

/// `GET /status/assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "status.css" => (STYLESHEET, "text/css; charset=utf-8"),
        "icon.svg" => (ICON, "image/svg+xml"),
        _ => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}
