//! Passthrough: a caller's raw request to the source system, sent with the connection's stored
//! credentials. The rules every connector shares live here, so that no connector can let the
//! stored credentials travel somewhere else: the path is relative to the vendor's API prefix
//! and may not leave it ([`target`]), and the caller may not set credentials or hop-by-hop
//! headers ([`caller_headers`]).

use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE},
    Method, Url,
};
use serde_json::Value;

use crate::{
    http::{ApiResponse, HttpClient},
    ConnectorError,
};

/// A raw request to the source system, as the caller of `POST /passthrough` describes it.
#[derive(Debug, Clone)]
pub struct PassthroughRequest {
    /// The HTTP method.
    pub method: Method,
    /// Path (and optional `?query`) relative to the vendor's API prefix (`/workorders?limit=5`
    /// for MaintainX, under `/v1`).
    pub path: String,
    /// Extra headers; credentials and hop-by-hop headers are refused by [`caller_headers`].
    pub headers: Vec<(String, String)>,
    /// The body: JSON is sent as `application/json`, a JSON string as its text.
    pub body: Option<Value>,
}

/// The source system's answer, whatever its status.
#[derive(Debug, Clone)]
pub struct PassthroughResponse {
    /// The source's HTTP status.
    pub status: u16,
    /// The source's headers, without hop-by-hop headers, cookies and tokens.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Headers the caller may not set: hop-by-hop headers (RFC 9110 §7.6.1), those the HTTP layer
/// computes, and every header that carries a credential or a session in one of the vendors'
/// APIs, so a caller can neither replace the stored credentials nor ride another session.
const REFUSED_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "apikey",
    "maxauth",
    "x-csrf-token",
    "x-organization-id",
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "accept-encoding",
];

/// Response headers not handed back: hop-by-hop headers, the body framing (the body is
/// re-encoded), and the vendor's session material (cookies, CSRF tokens), which belongs to
/// the stored credentials and not to the caller.
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "set-cookie",
    "x-csrf-token",
    "content-length",
    "content-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "www-authenticate",
];

fn invalid(field: &str, message: impl Into<String>) -> ConnectorError {
    ConnectorError::Invalid {
        field: field.to_string(),
        message: message.into(),
    }
}

/// The URL `path` names under `root` (the vendor's API prefix, e.g. `https://host/v1`).
///
/// Refused, as [`ConnectorError::Invalid`] on `path`: absolute URLs, scheme-relative paths
/// (`//host`), backslashes, fragments, control characters, dot segments (`..`, `.`, also
/// percent-encoded) and encoded slashes, so that the result always stays on the root's scheme,
/// host and port and under its path.
pub fn target(root: &Url, path: &str) -> Result<Url, ConnectorError> {
    const FIELD: &str = "path";
    if path.is_empty() {
        return Err(invalid(FIELD, "must not be empty"));
    }
    if path.contains("://") || path.starts_with("//") || path.contains('\\') {
        return Err(invalid(
            FIELD,
            "must be a path relative to the source system's API, not a URL",
        ));
    }
    if path.chars().any(|c| c.is_control() || c == ' ') {
        return Err(invalid(
            FIELD,
            "must not contain spaces or control characters",
        ));
    }
    if path.contains('#') {
        return Err(invalid(FIELD, "must not contain a fragment"));
    }
    let (route, query) = match path.split_once('?') {
        Some((route, query)) => (route, Some(query)),
        None => (path, None),
    };
    let lower = route.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") {
        return Err(invalid(FIELD, "must not contain encoded slashes"));
    }
    let dotted = lower.replace("%2e", ".");
    if dotted
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err(invalid(FIELD, "must not contain `.` or `..` segments"));
    }
    let mut url = root.clone();
    let prefix = root.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}/{}", route.trim_start_matches('/')));
    url.set_query(query.filter(|q| !q.is_empty()));
    // Belt and braces: whatever the parser made of the path, it must still be the root's origin
    // and under its prefix.
    let same_origin = url.scheme() == root.scheme()
        && url.host_str() == root.host_str()
        && url.port_or_known_default() == root.port_or_known_default();
    if !same_origin || !url.path().starts_with(prefix) {
        return Err(invalid(FIELD, "must stay within the source system's API"));
    }
    Ok(url)
}

/// The caller's headers as a [`HeaderMap`]; a refused or malformed header is
/// [`ConnectorError::Invalid`] naming it (`headers.authorization`).
pub fn caller_headers(headers: &[(String, String)]) -> Result<HeaderMap, ConnectorError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let field = format!("headers.{name}");
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(&field, "is not a valid header name"))?;
        if REFUSED_REQUEST_HEADERS.contains(&header.as_str()) {
            return Err(invalid(
                &field,
                "may not be set: Millwright sends the connection's own credentials and manages the connection",
            ));
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| invalid(&field, "is not a valid header value"))?;
        map.append(header, value);
    }
    Ok(map)
}

/// The body to send and its default content type: JSON as `application/json`, a string as
/// `text/plain` (the caller's `Content-Type`, if any, wins).
pub fn body_bytes(body: &Option<Value>) -> Option<(Vec<u8>, &'static str)> {
    match body {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some((text.clone().into_bytes(), "text/plain; charset=utf-8")),
        Some(json) => Some((
            serde_json::to_vec(json).unwrap_or_default(),
            "application/json",
        )),
    }
}

/// Sends one passthrough request: the caller's headers plus `auth` (the connector's credential
/// and default headers), the body as [`body_bytes`] makes it. Answers the source's response whatever its
/// status; only a failure below HTTP is an error.
pub async fn send(
    http: &HttpClient,
    url: Url,
    request: &PassthroughRequest,
    auth: HeaderMap,
) -> Result<PassthroughResponse, ConnectorError> {
    let mut headers = caller_headers(&request.headers)?;
    let body = body_bytes(&request.body);
    if let Some((_, content_type)) = &body {
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
    }
    // The caller cannot have set a credential header (refused above), so what it did set (an
    // `Accept`, say) wins over the connector's defaults.
    for (name, value) in auth.iter() {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    let response = http
        .send_raw(request.method.clone(), url, headers, body.map(|(b, _)| b))
        .await?;
    Ok(answer(response))
}

/// The source's response as handed back to the caller.
pub fn answer(response: ApiResponse) -> PassthroughResponse {
    let headers = response
        .headers
        .iter()
        .filter(|(name, _)| !DROPPED_RESPONSE_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_string(), v.to_string()))
        })
        .collect();
    PassthroughResponse {
        status: response.status.as_u16(),
        headers,
        body: response.body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_the_vendor_prefix() {
        let root = Url::parse("http://127.0.0.1:9000/v1").unwrap();
        assert_eq!(
            target(&root, "/workorders?limit=5").unwrap().as_str(),
            "http://127.0.0.1:9000/v1/workorders?limit=5"
        );
        assert_eq!(
            target(&root, "assets/12").unwrap().as_str(),
            "http://127.0.0.1:9000/v1/assets/12"
        );
        for bad in [
            "http://evil.example/v1/users",
            "//evil.example/users",
            "../admin",
            "/users/../../admin",
            "/%2e%2e/admin",
            "/users/%2E%2E",
            "/a%2fb",
            "\\\\evil",
            "/users#frag",
            "/users\n",
            "",
        ] {
            let err = target(&root, bad).err();
            assert!(
                matches!(&err, Some(ConnectorError::Invalid { field, .. }) if field == "path"),
                "{bad:?} → {err:?}"
            );
        }
        let odata = Url::parse("https://s4.example/sap/opu/odata/sap").unwrap();
        assert_eq!(
            target(&odata, "/API_EQUIPMENT/Equipment?$top=1")
                .unwrap()
                .as_str(),
            "https://s4.example/sap/opu/odata/sap/API_EQUIPMENT/Equipment?$top=1"
        );
    }

    #[test]
    fn credentials_and_hop_by_hop_headers_are_refused() {
        for name in [
            "Authorization",
            "cookie",
            "APIKEY",
            "Transfer-Encoding",
            "Host",
        ] {
            let err = caller_headers(&[(name.into(), "x".into())]).err();
            assert!(
                matches!(&err, Some(ConnectorError::Invalid { field, .. }) if field == &format!("headers.{name}")),
                "{name} → {err:?}"
            );
        }
        let ok = caller_headers(&[("Accept".into(), "application/json".into())]).unwrap();
        assert_eq!(ok["accept"], "application/json");
        assert!(caller_headers(&[("bad name".into(), "x".into())]).is_err());
    }

    #[test]
    fn bodies_are_json_or_text() {
        assert!(body_bytes(&None).is_none());
        let (bytes, ct) = body_bytes(&Some(serde_json::json!({"a": 1}))).unwrap();
        assert_eq!(
            (bytes.as_slice(), ct),
            (&b"{\"a\":1}"[..], "application/json")
        );
        let (bytes, ct) = body_bytes(&Some(Value::String("<x/>".into()))).unwrap();
        assert_eq!(bytes, b"<x/>");
        assert!(ct.starts_with("text/plain"));
    }
}
