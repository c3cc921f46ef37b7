//! The list cursor: where the next page starts (after which id) and the incremental boundary the
//! listing began with, so that every page of one listing uses the same filter even if the caller
//! passes another `modified_since` later. Opaque to callers; `t1:<after id>:<boundary µs>`.
//!
//! Keyset paging on `id` instead of an offset: a record deleted while a sync pages through
//! would shift every later offset by one and hide a record; ids never shift.

use chrono::{TimeZone, Utc};
use millwright_core::time::Timestamp;

use crate::ConnectorError;

/// A position in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The next page holds records with ids above this.
    pub after_id: i64,
    /// Only records changed at or after this instant.
    pub since: Option<Timestamp>,
}

impl Cursor {
    /// The first page.
    pub fn start(since: Option<Timestamp>) -> Cursor {
        Cursor { after_id: 0, since }
    }

    /// The cursor's text.
    pub fn encode(&self) -> String {
        let since = self
            .since
            .map(|t| t.timestamp_micros().to_string())
            .unwrap_or_default();
        format!("t1:{}:{since}", self.after_id)
    }

    /// Reads a cursor this connector wrote; anything else is [`ConnectorError::Invalid`].
    pub fn decode(text: &str) -> Result<Cursor, ConnectorError> {
        let bad = || ConnectorError::Invalid {
            field: "cursor".into(),
            message: "is not a cursor of the Tryton connector".into(),
        };
        let mut parts = text.split(':');
        if parts.next() != Some("t1") {
            return Err(bad());
        }
        let after_id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let since = match parts.next().ok_or_else(bad)? {
            "" => None,
            micros => Some(
                micros
                    .parse::<i64>()
                    .ok()
                    .and_then(|m| Utc.timestamp_micros(m).single())
                    .ok_or_else(bad)?,
            ),
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Cursor { after_id, since })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_foreign_text() {
        let since = millwright_core::time::parse("2026-11-27T13:01:07.364308Z");
        for cursor in [
            Cursor::start(None),
            Cursor {
                after_id: 1200,
                since,
            },
        ] {
            assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        }
        assert_eq!(
            Cursor {
                after_id: 5,
                since: None
            }
            .encode(),
            "t1:5:"
        );
        for bad in ["", "5", "t1:x:", "t2:5:", "t1:5:abc", "t1:5::"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }
}
