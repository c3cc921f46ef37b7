//! Storage for Link (issue #7): the sessions through which a workspace's end users connect their
//! systems, the one-time public tokens those sessions hand out, and workspace branding.
//!
//! A session's life:
//!
//! ```text
//! pending ──complete──▶ completed ──exchange──▶ exchanged
//!    └── (expires_at passes) ──▶ expired           (public token past its own expiry: refused)
//! ```
//!
//! `expired` is never written: a `pending` row whose `expires_at` has passed reads as expired
//! ([`LinkSession::status_at`]). Both transitions are conditional updates (`… WHERE status = …`)
//! inside one transaction with everything they cause, so each happens exactly once however many
//! requests race for it:
//!
//! - completing a `create` session inserts the connection (credit check, `connection.created`)
//!   without any token; completing a `reauthorize` session replaces the connection's
//!   credentials (`connection.reauthorized` when it required reauthorization);
//! - exchanging the public token of a `create` session issues the connection's first token.
//!
//! Link tokens and public tokens are stored only as SHA-256 hashes.

use async_trait::async_trait;
use millwright_core::time::Timestamp;
use serde_json::Value;

use crate::{Connection, NewConnection, NewEvent, Page, PageRequest, StoreResult, TokenRecord};

/// What a Link session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Connect a new system: completing the session creates a connection.
    Create,
    /// Give new credentials to an existing connection (its id is the session's
    /// `connection_id`): same connection, data and token.
    Reauthorize,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Create => "create",
            LinkPurpose::Reauthorize => "reauthorize",
        }
    }

    pub fn parse(s: &str) -> Option<LinkPurpose> {
        [LinkPurpose::Create, LinkPurpose::Reauthorize]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSessionStatus {
    /// Waiting for the end user.
    Pending,
    /// The end user connected; the public token waits to be exchanged.
    Completed,
    /// Pending past its `expires_at` (derived, never stored).
    Expired,
    /// The public token was exchanged; the session is spent.
    Exchanged,
}

impl LinkSessionStatus {
    pub const ALL: [LinkSessionStatus; 4] = [
        LinkSessionStatus::Pending,
        LinkSessionStatus::Completed,
        LinkSessionStatus::Expired,
        LinkSessionStatus::Exchanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkSessionStatus::Pending => "pending",
            LinkSessionStatus::Completed => "completed",
            LinkSessionStatus::Expired => "expired",
            LinkSessionStatus::Exchanged => "exchanged",
        }
    }

    pub fn parse(s: &str) -> Option<LinkSessionStatus> {
        LinkSessionStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A stored Link session.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSession {
    /// `lks_…`
    pub id: String,
    pub workspace_id: String,
    /// SHA-256 (hex) of the link token in the end user's URL.
    pub link_token_hash: String,
    pub purpose: LinkPurpose,
    /// Connector ids the end user may choose from; never empty.
    pub connectors: Vec<String>,
    /// Name of the connection to create (the connector's name when `None`).
    pub name: Option<String>,
    /// Metadata given to the connection created (a JSON object of strings).
    pub metadata: Value,
    /// Where the end user is sent with the public token on success.
    pub redirect_uri: Option<String>,
    /// Origins (`scheme://host[:port]`) allowed to frame the flow and to receive its messages.
    pub allowed_origins: Vec<String>,
    /// The connection to reauthorize (purpose `reauthorize`), or the one created once a `create`
    /// session completed.
    pub connection_id: Option<String>,
    /// The stored status: `Pending`, `Completed` or `Exchanged` (see [`LinkSession::status_at`]).
    pub status: LinkSessionStatus,
    pub expires_at: Timestamp,
    /// SHA-256 (hex) of the one-time public token, once completed.
    pub public_token_hash: Option<String>,
    pub public_token_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub exchanged_at: Option<Timestamp>,
}

impl LinkSession {
    /// The status as seen at `now`: a pending session past its expiry is `Expired`.
    pub fn status_at(&self, now: Timestamp) -> LinkSessionStatus {
        match self.status {
            LinkSessionStatus::Pending if self.expires_at <= now => LinkSessionStatus::Expired,
            s => s,
        }
    }
}

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewLinkSession {
    pub id: String,
    pub workspace_id: String,
    pub link_token_hash: String,
    pub purpose: LinkPurpose,
    pub connectors: Vec<String>,
    pub name: Option<String>,
    pub metadata: Value,
    pub redirect_uri: Option<String>,
    pub allowed_origins: Vec<String>,
    /// Required for [`LinkPurpose::Reauthorize`], `None` for [`LinkPurpose::Create`].
    pub connection_id: Option<String>,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

/// Which sessions [`LinkStore::list_link_sessions`] returns.
#[derive(Debug, Clone, Copy)]
pub struct LinkSessionFilter {
    /// Only sessions in this status as seen at `now`; every session when `None`.
    pub status: Option<LinkSessionStatus>,
    pub now: Timestamp,
}

/// What completing a session does, besides marking it completed.
#[derive(Debug, Clone)]
pub enum LinkOutcome {
    /// Purpose `create`: insert this connection (no token yet; the exchange issues it) with its
    /// `connection.created` event, under the same credit check as
    /// [`crate::Store::create_connection`].
    Create {
        /// Boxed: it is much larger than the other outcome.
        connection: Box<NewConnection>,
        event: NewEvent,
    },
    /// Purpose `reauthorize`: replace the session's connection's credentials as
    /// [`crate::Store::replace_credentials`] does (`reauthorized` is appended only when the
    /// connection required reauthorization).
    Reauthorize {
        sealed_credentials: Vec<u8>,
        reauthorized: NewEvent,
    },
}

/// A completion of a pending session by the end user.
#[derive(Debug, Clone)]
pub struct LinkCompletion {
    pub session_id: String,
    pub workspace_id: String,
    pub public_token_hash: String,
    pub public_token_expires_at: Timestamp,
    pub outcome: LinkOutcome,
    pub now: Timestamp,
}

/// The result of a completion.
#[derive(Debug, Clone)]
pub struct LinkCompleted {
    pub session: LinkSession,
    /// The connection created or reauthorized.
    pub connection: Connection,
    /// Its status before the completion (`None` for a connection just created): tells the
    /// caller whether a reauthorization lifted `requires_reauthorization`.
    pub previous_status: Option<millwright_core::status::ConnectionStatus>,
}

/// An exchange of a public token by the workspace's backend.
#[derive(Debug, Clone)]
pub struct LinkExchange {
    /// The workspace presenting the token; another workspace's token is unknown to it.
    pub workspace_id: String,
    pub public_token_hash: String,
    /// The connection token to issue when the session created a connection (the store fills
    /// in the connection and workspace ids); ignored for a reauthorization, whose connection
    /// keeps its token.
    pub token_id: String,
    pub token_hash: String,
    pub token_scopes: Vec<millwright_core::scope::Scope>,
    pub now: Timestamp,
}

/// The result of an exchange.
#[derive(Debug, Clone)]
pub struct LinkExchanged {
    pub session: LinkSession,
    pub connection: Connection,
    /// The token issued (purpose `create`); `None` for a reauthorization.
    pub token: Option<TokenRecord>,
}

/// Why a link token or a public token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRejection {
    /// No such token (or another workspace's).
    Unknown,
    /// Past its expiry.
    Expired,
    /// Already used: the session completed, or the public token exchanged.
    Used,
}

impl std::fmt::Display for LinkRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkRejection::Unknown => "unknown",
            LinkRejection::Expired => "expired",
            LinkRejection::Used => "already used",
        })
    }
}

/// A workspace's branding, shown on its Link pages.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Branding {
    /// The workspace's name (`workspaces.name`), shown as the display name.
    pub name: String,
    /// A small `data:image/…;base64,…` URI.
    pub logo_data_uri: Option<String>,
    /// `#rrggbb`.
    pub accent_color: Option<String>,
    /// When branding was last changed; `None` if never.
    pub updated_at: Option<Timestamp>,
}

/// Changes to a workspace's branding: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct BrandingPatch {
    pub name: Option<String>,
    pub logo_data_uri: Option<Option<String>>,
    pub accent_color: Option<Option<String>>,
}

/// Part of [`crate::Store`]: Link sessions, their one-time public tokens, and workspace branding.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// Inserts a pending session. A reauthorization session's connection must be the
    /// workspace's ([`crate::StoreError::NotFound`]) and not disconnected
    /// ([`crate::StoreError::Disconnected`]).
    async fn create_link_session(&self, new: NewLinkSession) -> StoreResult<LinkSession>;

    async fn get_link_session(
        &self,
        workspace_id: &str,
        id: &str,
    ) -> StoreResult<Option<LinkSession>>;

    /// The session whose link token has this hash, in any status.
    async fn find_link_session(&self, link_token_hash: &str) -> StoreResult<Option<LinkSession>>;

    /// Newest first.
    async fn list_link_sessions(
        &self,
        workspace_id: &str,
        filter: &LinkSessionFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<LinkSession>>;

    /// Completes a pending, unexpired session with its outcome, in one transaction; exactly
    /// one of several concurrent completions succeeds. Refused, writing nothing, with
    /// [`crate::StoreError::LinkSessionClosed`] (`Expired` or `Used`),
    /// [`crate::StoreError::NotFound`] for an unknown session, an outcome that does not match
    /// the session's purpose ([`crate::StoreError::Backend`], a caller bug), and the errors of
    /// the connection write (`InsufficientCredits`, `Disconnected`).
    async fn complete_link_session(&self, completion: LinkCompletion)
        -> StoreResult<LinkCompleted>;

    /// Consumes the public token of a completed session and, for a `create` session, issues
    /// the connection's token (revoking any other), in one transaction; exactly one of several
    /// concurrent exchanges succeeds. Refused, writing nothing, with
    /// [`crate::StoreError::PublicTokenRejected`] (`Unknown`, `Expired` or `Used`), or
    /// [`crate::StoreError::Disconnected`] when the connection was disconnected meanwhile.
    async fn exchange_public_token(&self, exchange: LinkExchange) -> StoreResult<LinkExchanged>;

    /// The workspace's branding ([`crate::StoreError::NotFound`] for an unknown workspace).
    async fn get_branding(&self, workspace_id: &str) -> StoreResult<Branding>;

    /// Applies `patch` (the name goes to the workspace itself) and returns the result.
    async fn update_branding(
        &self,
        workspace_id: &str,
        patch: BrandingPatch,
        now: Timestamp,
    ) -> StoreResult<Branding>;
}
