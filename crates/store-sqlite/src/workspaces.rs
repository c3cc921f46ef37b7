//! Workspaces and dashboard users.

use millwright_store::{NewUser, NewWorkspace, StoreResult, User, Workspace};
use rusqlite::{params, Connection as SqlConn};

use crate::decode::{self, micros, optional, USER_COLS, WORKSPACE_COLS};
use crate::error::Db;

pub(crate) fn create_workspace(c: &SqlConn, new: &NewWorkspace) -> StoreResult<Workspace> {
    let sql = format!(
        "INSERT INTO workspaces (id, name, credit_limit, rate_limit_per_minute, secret_key_hash, \
         wrapped_data_key, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {WORKSPACE_COLS}"
    );
    let stmt = c.prepare_cached(&sql).db()?;
    let p = params![
        new.id,
        new.name,
        new.credit_limit,
        new.rate_limit_per_minute,
        new.secret_key_hash,
        new.wrapped_data_key,
        micros(&new.created_at),
    ];
    optional(stmt, p, decode::workspace)?.ok_or_else(|| inserted_nothing("workspace"))
}

pub(crate) fn get_workspace(c: &SqlConn, id: &str) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {WORKSPACE_COLS} FROM workspaces WHERE id = ?1");
    optional(c.prepare_cached(&sql).db()?, [id], decode::workspace)
}

pub(crate) fn find_workspace_by_key_hash(
    c: &SqlConn,
    key_hash: &str,
) -> StoreResult<Option<Workspace>> {
    let sql = format!("SELECT {WORKSPACE_COLS} FROM workspaces WHERE secret_key_hash = ?1");
    optional(c.prepare_cached(&sql).db()?, [key_hash], decode::workspace)
}

/// E-mails are stored lower-case, so the unique index makes them unique case-insensitively.
pub(crate) fn create_user(c: &SqlConn, new: &NewUser) -> StoreResult<User> {
    let sql = format!(
        "INSERT INTO users (id, workspace_id, email, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING {USER_COLS}"
    );
    let stmt = c.prepare_cached(&sql).db()?;
    let p = params![
        new.id,
        new.workspace_id,
        new.email.to_lowercase(),
        new.password_hash,
        micros(&new.created_at),
    ];
    optional(stmt, p, decode::user)?.ok_or_else(|| inserted_nothing("user"))
}

pub(crate) fn find_user_by_email(c: &SqlConn, email: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users WHERE email = ?1");
    optional(
        c.prepare_cached(&sql).db()?,
        [email.to_lowercase()],
        decode::user,
    )
}

/// An `INSERT … RETURNING` without a conflict clause either fails or returns its row.
pub(crate) fn inserted_nothing(what: &str) -> millwright_store::StoreError {
    millwright_store::StoreError::Backend(format!("inserting the {what} returned no row"))
}
