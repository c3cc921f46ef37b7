//! List cursors.
//!
//! MaintainX cursors are opaque strings passed back as `cursor` [CODE]. Here a cursor names the
//! resource and the last id served, base64url-encoded without padding so it survives a URL
//! unescaped. Lists are in id order and new records always get higher ids, so "everything
//! after this id" never skips or repeats a record while others change. A cursor from another
//! resource, or one that was tampered with, is a 400.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::error::ApiError;

/// The cursor resuming `resource` after `last_id`.
pub(crate) fn encode(resource: &str, last_id: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{resource}:{last_id}"))
}

/// The last id served, from a cursor issued for `resource`.
pub(crate) fn decode(resource: &str, cursor: &str) -> Result<u64, ApiError> {
    let invalid = || ApiError::bad_request("Invalid cursor");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (name, id) = text.split_once(':').ok_or_else(invalid)?;
    if name != resource {
        return Err(invalid());
    }
    id.parse().map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = encode("workorders", 12_345);
        assert!(c
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode("workorders", &c).unwrap(), 12_345);
    }

    #[test]
    fn rejects_foreign_and_garbage_cursors() {
        assert!(decode("assets", &encode("workorders", 1)).is_err());
        assert!(decode("assets", "not a cursor!").is_err());
        assert!(decode("assets", &URL_SAFE_NO_PAD.encode("assets:x")).is_err());
    }
}
