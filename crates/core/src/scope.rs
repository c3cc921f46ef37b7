//! What a connection token may do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Read the unified API.
    Read,
    /// Create, update and delete through the unified API.
    Write,
    /// Call the source system through `POST /passthrough`.
    Passthrough,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Passthrough];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Passthrough => "passthrough",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Scopes as stored: a space-separated list, the OAuth way.
pub fn join(scopes: &[Scope]) -> String {
    let mut v: Vec<_> = scopes.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// The inverse of [`join`]; unknown words are dropped.
pub fn split(s: &str) -> Vec<Scope> {
    s.split_whitespace().filter_map(Scope::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_and_split_round_trip() {
        let s = join(&[Scope::Write, Scope::Read, Scope::Read]);
        assert_eq!(s, "read write");
        assert_eq!(split(&s), vec![Scope::Read, Scope::Write]);
    }
}
