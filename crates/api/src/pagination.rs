//! Opaque list cursors and page sizes.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use millwright_store::{Page, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{ApiError, ApiResult};

const CURSOR_VERSION: &str = "v1:";

/// `cursor` and `page_size` of management lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1 to 100, default 50.
    pub page_size: Option<u32>,
}

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 100;

pub fn encode_cursor(after_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_VERSION}{after_id}"))
}

pub fn decode_cursor(cursor: &str) -> ApiResult<String> {
    let bad = || ApiError::InvalidRequest("`cursor` is not a cursor this API issued".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    let id = s.strip_prefix(CURSOR_VERSION).ok_or_else(bad)?;
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(bad());
    }
    Ok(id.to_string())
}

/// Validates `cursor` and `page_size` into a store page request.
pub fn page_request(
    cursor: Option<&str>,
    page_size: Option<u32>,
    default: u32,
    max: u32,
) -> ApiResult<PageRequest> {
    let limit = page_size.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(ApiError::InvalidRequest(format!(
            "`page_size` must be between 1 and {max}"
        )));
    }
    let after = cursor
        .filter(|c| !c.is_empty())
        .map(decode_cursor)
        .transpose()?;
    Ok(PageRequest { after, limit })
}

impl PageParams {
    pub fn to_request(&self) -> ApiResult<PageRequest> {
        page_request(
            self.cursor.as_deref(),
            self.page_size,
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
    }
}

/// `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> List<T> {
    pub fn from_page<S>(page: Page<S>, f: impl FnMut(S) -> T) -> List<T> {
        List {
            data: page.items.into_iter().map(f).collect(),
            next_cursor: page.next_after.as_deref().map(encode_cursor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor("con_01abc");
        assert_eq!(decode_cursor(&c).unwrap(), "con_01abc");
        assert!(decode_cursor("not-a-cursor!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("v2:x")).is_err());
        assert!(page_request(None, Some(0), 50, 100).is_err());
        assert!(page_request(None, Some(101), 50, 100).is_err());
        assert_eq!(page_request(None, None, 50, 100).unwrap().limit, 50);
    }
}
