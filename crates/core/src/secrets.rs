//! Bearer credentials: generation from the OS CSPRNG, SHA-256 hashing for storage, and
//! constant-time comparison. Dashboard passwords use argon2id.

use rand::{rngs::OsRng, Rng};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const WORKSPACE_KEY_PREFIX: &str = "mw_sk_";
pub const CONNECTION_TOKEN_PREFIX: &str = "mw_ct_";
/// A Link session's token: the secret in the end user's `/link/{token}` URL.
pub const LINK_TOKEN_PREFIX: &str = "mw_lt_";
/// The one-time token Link hands to the embedding page, exchanged for the connection.
pub const PUBLIC_TOKEN_PREFIX: &str = "mw_pt_";

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// 40 base62 characters carry ~238 bits of entropy.
const SECRET_LEN: usize = 40;

/// Which kind of bearer credential a string claims to be, judged by its prefix alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    WorkspaceKey,
    ConnectionToken,
}

impl CredentialKind {
    pub fn of(token: &str) -> Option<CredentialKind> {
        let body_ok =
            |rest: &str| rest.len() >= 32 && rest.bytes().all(|b| b.is_ascii_alphanumeric());
        if let Some(rest) = token.strip_prefix(WORKSPACE_KEY_PREFIX) {
            body_ok(rest).then_some(CredentialKind::WorkspaceKey)
        } else if let Some(rest) = token.strip_prefix(CONNECTION_TOKEN_PREFIX) {
            body_ok(rest).then_some(CredentialKind::ConnectionToken)
        } else {
            None
        }
    }
}

fn random_base62(len: usize) -> String {
    let mut rng = OsRng;
    (0..len)
        .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
        .collect()
}

/// A fresh workspace secret key, `mw_sk_…`.
pub fn new_workspace_key() -> String {
    format!("{WORKSPACE_KEY_PREFIX}{}", random_base62(SECRET_LEN))
}

/// A fresh connection token, `mw_ct_…`.
pub fn new_connection_token() -> String {
    format!("{CONNECTION_TOKEN_PREFIX}{}", random_base62(SECRET_LEN))
}

/// A fresh Link session token, `mw_lt_…` (URL-safe: base62 only).
pub fn new_link_token() -> String {
    format!("{LINK_TOKEN_PREFIX}{}", random_base62(SECRET_LEN))
}

/// A fresh one-time Link public token, `mw_pt_…`.
pub fn new_public_token() -> String {
    format!("{PUBLIC_TOKEN_PREFIX}{}", random_base62(SECRET_LEN))
}

/// The stored form of a key or token: lower-case hex SHA-256. Tokens carry 238 bits of
/// entropy, so a fast unsalted hash is enough and keeps lookups indexable.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Hashes a dashboard password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a PHC string produced by [`hash_password`].
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Random bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill(&mut b[..]);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_their_prefix_and_are_unique() {
        let a = new_workspace_key();
        let b = new_workspace_key();
        assert_ne!(a, b);
        assert_eq!(CredentialKind::of(&a), Some(CredentialKind::WorkspaceKey));
        assert_eq!(
            CredentialKind::of(&new_connection_token()),
            Some(CredentialKind::ConnectionToken)
        );
        assert_eq!(CredentialKind::of("mw_sk_short"), None);
        assert_eq!(CredentialKind::of("Bearer nonsense"), None);
    }

    #[test]
    fn hashes_are_stable_and_compared_exactly() {
        let t = new_connection_token();
        assert_eq!(hash_token(&t), hash_token(&t));
        assert_eq!(hash_token(&t).len(), 64);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a phc string"));
    }
}
