//! Sealing and opening upstream credentials with per-workspace data keys wrapped by the master
//! key. Unwrapped data keys are cached in memory for the life of the process.

use dashmap::DashMap;
use millwright_core::crypto::{CryptoError, Key};
use millwright_store::Workspace;

pub struct Keyring {
    master: Key,
    data_keys: DashMap<String, Key>,
}

impl Keyring {
    pub fn new(master: Key) -> Keyring {
        Keyring {
            master,
            data_keys: DashMap::new(),
        }
    }

    /// A fresh data key for a new workspace, wrapped for storage.
    pub fn new_wrapped_data_key(&self, workspace_id: &str) -> Vec<u8> {
        self.master.wrap(&Key::generate(), workspace_id)
    }

    fn data_key(&self, ws: &Workspace) -> Result<Key, CryptoError> {
        if let Some(k) = self.data_keys.get(&ws.id) {
            return Ok(k.clone());
        }
        let k = self.master.unwrap_key(&ws.wrapped_data_key, &ws.id)?;
        self.data_keys.insert(ws.id.clone(), k.clone());
        Ok(k)
    }

    /// Seals a secret of `record_id` (e.g. a connection's credentials) for workspace `ws`.
    pub fn seal(
        &self,
        ws: &Workspace,
        record_id: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        Ok(self.data_key(ws)?.seal(plaintext, record_id.as_bytes()))
    }

    pub fn open(
        &self,
        ws: &Workspace,
        record_id: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.data_key(ws)?.open(sealed, record_id.as_bytes())
    }
}
