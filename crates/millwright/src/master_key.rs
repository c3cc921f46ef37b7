//! The master key that wraps every workspace data key.

use std::{fs, io::Write, os::unix::fs::OpenOptionsExt, path::Path};

use anyhow::{bail, Context};
use millwright_core::crypto::Key;

pub const KEY_FILE: &str = "master.key";

/// `MILLWRIGHT_MASTER_KEY` when set; otherwise the key file in the data dir, created (mode
/// 0600) with a warning when missing.
pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<Key> {
    if let Some(k) = configured {
        return Key::from_base64(k).context("MILLWRIGHT_MASTER_KEY");
    }
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        return Key::from_base64(&text)
            .with_context(|| format!("{} holds no valid key", path.display()));
    }
    fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let key = Key::generate();
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(key.to_base64().as_bytes())?;
    f.sync_all()?;
    tracing::warn!(
        path = %path.display(),
        "MILLWRIGHT_MASTER_KEY is not set; generated a master key file. Back it up: without it stored credentials cannot be decrypted"
    );
    if !path.exists() {
        bail!("master key file vanished");
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generates_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let a = load(None, dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = load(None, dir.path()).unwrap();
        assert_eq!(a.to_base64(), b.to_base64());
        assert!(load(Some("bad"), dir.path()).is_err());
    }
}
