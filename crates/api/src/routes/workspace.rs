//! The workspace itself: its name and the branding its Link pages show.

use axum::{extract::State, Json};
use base64::{engine::general_purpose::STANDARD, Engine};
use millwright_core::time::{self, Timestamp};
use millwright_store::{Branding, BrandingPatch, Workspace};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::{
    auth::WorkspaceAuth,
    extract::ApiJson,
    state::AppState,
    validate::{self, Problems},
    ApiResult,
};

/// Largest accepted logo, as a `data:` URI.
pub const MAX_LOGO_BYTES: usize = 64 * 1024;
/// The image types a logo may have (SVG is shown through `<img>`, where scripts never run).
const LOGO_PREFIXES: &[&str] = &[
    "data:image/png;base64,",
    "data:image/svg+xml;base64,",
    "data:image/jpeg;base64,",
];

/// How the workspace presents itself on Link pages.
#[derive(Debug, Serialize, ToSchema)]
pub struct BrandingView {
    /// `data:image/png|svg+xml|jpeg;base64,…`, at most 64 KiB.
    pub logo_data_uri: Option<String>,
    /// `#rrggbb`.
    pub accent_color: Option<String>,
    #[serde(with = "millwright_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Timestamp>,
}

/// The workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceView {
    /// `ws_…`
    pub id: String,
    /// Shown to end users on Link pages.
    pub name: String,
    pub credit_limit: i64,
    pub branding: BrandingView,
    #[serde(with = "millwright_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

fn view(ws: &Workspace, b: Branding) -> WorkspaceView {
    WorkspaceView {
        id: ws.id.clone(),
        name: b.name,
        credit_limit: ws.credit_limit,
        branding: BrandingView {
            logo_data_uri: b.logo_data_uri,
            accent_color: b.accent_color,
            updated_at: b.updated_at,
        },
        created_at: ws.created_at,
    }
}

/// Body of `PATCH /workspace`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWorkspace {
    pub name: Option<String>,
    pub branding: Option<PatchBranding>,
}

/// Branding changes: a field left out is kept, `null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchBranding {
    /// `data:image/png|svg+xml|jpeg;base64,…`, at most 64 KiB; `null` removes the logo.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub logo_data_uri: Option<Option<String>>,
    /// `#rrggbb`; `null` returns to the default colour.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub accent_color: Option<Option<String>>,
}

/// Tells a field set to `null` (`Some(None)`) from one left out (`None`, by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[utoipa::path(
    get, path = "/api/v1/workspace", tag = "workspace",
    responses((status = 200, body = WorkspaceView)),
    security(("bearer" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
) -> ApiResult<Json<WorkspaceView>> {
    let branding = state.store.get_branding(&ws.id).await?;
    Ok(Json(view(&ws, branding)))
}

#[utoipa::path(
    patch, path = "/api/v1/workspace", tag = "workspace",
    request_body = PatchWorkspace,
    responses((status = 200, body = WorkspaceView), (status = 422, description = "VALIDATION_FAILED", body = crate::error::ErrorBody)),
    security(("bearer" = []))
)]
pub async fn patch(
    State(state): State<AppState>,
    WorkspaceAuth(ws): WorkspaceAuth,
    ApiJson(body): ApiJson<PatchWorkspace>,
) -> ApiResult<Json<WorkspaceView>> {
    let mut p = Problems::default();
    if let Some(n) = &body.name {
        validate::name(&mut p, "name", n);
    }
    let b = body.branding.unwrap_or_default();
    let accent_color = b.accent_color.map(|c| {
        c.map(|c| {
            if !is_hex_colour(&c) {
                p.add(
                    "branding.accent_color",
                    "must be a colour #rrggbb, e.g. #0a7cff",
                );
            }
            c.to_ascii_lowercase()
        })
    });
    if let Some(Some(logo)) = &b.logo_data_uri {
        if let Err(m) = check_logo(logo) {
            p.add("branding.logo_data_uri", m);
        }
    }
    p.into_result()?;
    let branding = state
        .store
        .update_branding(
            &ws.id,
            BrandingPatch {
                name: body.name.map(|n| n.trim().to_string()),
                logo_data_uri: b.logo_data_uri,
                accent_color,
            },
            time::now(),
        )
        .await?;
    Ok(Json(view(&ws, branding)))
}

/// `#rrggbb`.
pub fn is_hex_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// A base64 `data:` URI of a PNG, SVG or JPEG image of at most [`MAX_LOGO_BYTES`].
pub fn check_logo(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_LOGO_BYTES {
        return Err(format!("must be at most {} KiB", MAX_LOGO_BYTES / 1024));
    }
    let Some(payload) = LOGO_PREFIXES.iter().find_map(|p| uri.strip_prefix(p)) else {
        return Err(
            "must be a data URI: data:image/png;base64,…, data:image/svg+xml;base64,… or \
             data:image/jpeg;base64,…"
                .into(),
        );
    };
    match STANDARD.decode(payload) {
        Ok(bytes) if !bytes.is_empty() => Ok(()),
        _ => Err("the base64 payload is empty or not valid base64".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_logos_are_checked() {
        assert!(is_hex_colour("#0a7CFF"));
        assert!(!is_hex_colour("0a7cff"));
        assert!(!is_hex_colour("#0a7cf"));
        assert!(!is_hex_colour("#0a7cfg"));
        assert!(!is_hex_colour("red"));
        assert!(check_logo("data:image/png;base64,iVBORw0KGgo=").is_ok());
        assert!(check_logo("data:image/svg+xml;base64,PHN2Zy8+").is_ok());
        assert!(check_logo("data:text/html;base64,PGgxPg==").is_err());
        assert!(check_logo("https://example.com/logo.png").is_err());
        assert!(check_logo("data:image/png;base64,%%%").is_err());
        let big = format!("data:image/png;base64,{}", "A".repeat(MAX_LOGO_BYTES));
        assert!(check_logo(&big).is_err());
    }
}
