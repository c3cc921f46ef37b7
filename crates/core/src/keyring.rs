//! Sealing and opening secrets with per-workspace data keys wrapped by the master key.
//! Unwrapped data keys are cached in memory for the life of the process.

use std::{collections::HashMap, sync::RwLock};

use crate::crypto::{CryptoError, Key};

pub struct Keyring {
    master: Key,
    data_keys: RwLock<HashMap<String, Key>>,
}

impl Keyring {
    pub fn new(master: Key) -> Keyring {
        Keyring {
            master,
            data_keys: RwLock::new(HashMap::new()),
        }
    }

    /// A fresh data key for a new workspace, wrapped for storage.
    pub fn new_wrapped_data_key(&self, workspace_id: &str) -> Vec<u8> {
        self.master.wrap(&Key::generate(), workspace_id)
    }

    fn data_key(&self, workspace_id: &str, wrapped: &[u8]) -> Result<Key, CryptoError> {
        if let Some(k) = self
            .data_keys
            .read()
            .ok()
            .and_then(|m| m.get(workspace_id).cloned())
        {
            return Ok(k);
        }
        let k = self.master.unwrap_key(wrapped, workspace_id)?;
        if let Ok(mut m) = self.data_keys.write() {
            m.insert(workspace_id.to_string(), k.clone());
        }
        Ok(k)
    }

    /// Seals a secret of `record_id` (e.g. a connection's credentials) for a workspace whose
    /// wrapped data key is `wrapped`.
    pub fn seal(
        &self,
        workspace_id: &str,
        wrapped: &[u8],
        record_id: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        Ok(self
            .data_key(workspace_id, wrapped)?
            .seal(plaintext, record_id.as_bytes()))
    }

    pub fn open(
        &self,
        workspace_id: &str,
        wrapped: &[u8],
        record_id: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.data_key(workspace_id, wrapped)?
            .open(sealed, record_id.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_per_workspace_and_record() {
        let ring = Keyring::new(Key::generate());
        let w1 = ring.new_wrapped_data_key("ws_1");
        let w2 = ring.new_wrapped_data_key("ws_2");
        let sealed = ring.seal("ws_1", &w1, "con_1", b"secret").unwrap();
        assert_eq!(ring.open("ws_1", &w1, "con_1", &sealed).unwrap(), b"secret");
        assert!(ring.open("ws_1", &w1, "con_2", &sealed).is_err());
        assert!(ring.open("ws_2", &w2, "con_1", &sealed).is_err());
    }
}
