//! Administrative actions shared by the command line, the demo and tests.

use anyhow::{bail, Context};
use millwright_core::keyring::Keyring;
use millwright_core::{
    credits::DEFAULT_CREDIT_LIMIT,
    crypto::Key,
    ids::{self, prefix},
    secrets, time,
};
use millwright_store::{NewUser, NewWorkspace, Store, User, Workspace};

/// A new workspace and its secret key (shown once; only its hash is stored).
pub async fn create_workspace(
    store: &dyn Store,
    master: &Key,
    name: &str,
    credits: Option<i64>,
    rate_limit_per_minute: Option<i64>,
) -> anyhow::Result<(Workspace, String)> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    if credits.is_some_and(|c| c < 0) {
        bail!("--credits must not be negative");
    }
    if rate_limit_per_minute.is_some_and(|r| r < 0) {
        bail!("--rate-limit-per-minute must not be negative");
    }
    let id = ids::new_id(prefix::WORKSPACE);
    let secret_key = secrets::new_workspace_key();
    let keyring = Keyring::new(master.clone());
    let ws = store
        .create_workspace(NewWorkspace {
            wrapped_data_key: keyring.new_wrapped_data_key(&id),
            id,
            name: name.trim().to_string(),
            credit_limit: credits.unwrap_or(DEFAULT_CREDIT_LIMIT),
            rate_limit_per_minute,
            secret_key_hash: secrets::hash_token(&secret_key),
            created_at: time::now(),
        })
        .await
        .context("creating the workspace")?;
    Ok((ws, secret_key))
}

/// A dashboard user with an argon2id password hash.
pub async fn create_user(
    store: &dyn Store,
    workspace_id: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<User> {
    let email = email.trim().to_ascii_lowercase();
    if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        bail!("--email must be an e-mail address");
    }
    if password.chars().count() < 8 {
        bail!("the password must be at least 8 characters");
    }
    if store.get_workspace(workspace_id).await?.is_none() {
        bail!("no workspace {workspace_id}");
    }
    let hash = secrets::hash_password(password)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    let user = store
        .create_user(NewUser {
            id: ids::new_id(prefix::USER),
            workspace_id: workspace_id.to_string(),
            email,
            password_hash: hash,
            created_at: time::now(),
        })
        .await
        .context("creating the user")?;
    Ok(user)
}
