//! Envelope encryption of secrets at rest. Each workspace has a random 256-bit data key; the
//! data key is stored wrapped (encrypted) by the master key. Secrets are sealed with
//! XChaCha20-Poly1305 under the data key, with the owning record's id as associated data so a
//! ciphertext cannot be moved to another record.

use base64::Engine;
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};

use crate::secrets::random_bytes;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the master key must be base64 of exactly 32 bytes")]
    BadMasterKey,
    #[error("ciphertext is malformed or was not sealed with this key")]
    Open,
}

/// A 256-bit key. Its `Debug` never prints the bytes.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    pub fn generate() -> Key {
        Key(random_bytes::<32>())
    }

    /// Parses the `MILLWRIGHT_MASTER_KEY` form: standard base64 of 32 bytes.
    pub fn from_base64(s: &str) -> Result<Key, CryptoError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|_| CryptoError::BadMasterKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadMasterKey)?;
        Ok(Key(arr))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Seals `plaintext`, binding it to `aad`. Output: version byte, nonce, ciphertext+tag.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce = random_bytes::<NONCE_LEN>();
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what [`Key::seal`] produced with the same `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(CryptoError::Open);
        }
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad,
                },
            )
            .map_err(|_| CryptoError::Open)
    }

    /// Wraps a workspace data key under this (master) key.
    pub fn wrap(&self, data_key: &Key, workspace_id: &str) -> Vec<u8> {
        self.seal(&data_key.0, workspace_id.as_bytes())
    }

    /// Unwraps a workspace data key.
    pub fn unwrap_key(&self, wrapped: &[u8], workspace_id: &str) -> Result<Key, CryptoError> {
        let bytes = self.open(wrapped, workspace_id.as_bytes())?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Open)?;
        Ok(Key(arr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let master = Key::generate();
        let data = Key::generate();
        let wrapped = master.wrap(&data, "ws_1");
        let data2 = master.unwrap_key(&wrapped, "ws_1").unwrap();
        let sealed = data.seal(b"hunter2", b"con_1");
        assert_eq!(data2.open(&sealed, b"con_1").unwrap(), b"hunter2");
        assert_eq!(data2.open(&sealed, b"con_2"), Err(CryptoError::Open));
        assert!(master.unwrap_key(&wrapped, "ws_2").is_err());
        assert!(Key::generate().open(&sealed, b"con_1").is_err());
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn master_key_parsing() {
        let k = Key::generate();
        assert!(Key::from_base64(&k.to_base64()).is_ok());
        assert_eq!(
            Key::from_base64("c2hvcnQ=").unwrap_err(),
            CryptoError::BadMasterKey
        );
        assert_eq!(
            Key::from_base64("%%%").unwrap_err(),
            CryptoError::BadMasterKey
        );
        assert_eq!(format!("{:?}", k), "Key(..)");
    }
}
