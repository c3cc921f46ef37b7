//! Webhook delivery building blocks for Millwright (API spec §6).
//!
//! - [`signature`]: Standard Webhooks v1 secrets, signing and verification.
//! - [`ssrf`]: the webhook URL policy, forbidden addresses, a resolver that refuses them at
//!   connect time, and the delivery HTTP client.
//! - [`retry`]: the retry schedule (30 s doubling to 24 h, `Retry-After`) and the meaning of a
//!   response (2xx delivered, 410 disables the endpoint, anything else retried).
//! - [`deliver`]: one signed delivery attempt through that client, recorded as an [`Attempt`].
//! - [`dispatcher`]: the worker loop: outbox fan-out into deliveries (in the store), leased
//!   claims with a per-endpoint cap, sending, and recording each attempt and what comes next.

#![warn(missing_docs)]

pub mod deliver;
pub mod dispatcher;
pub mod retry;
pub mod signature;
pub mod ssrf;

pub use deliver::{Attempt, AttemptError, DeliveryRequest, WebhookClient};
pub use retry::{classify, next_attempt, Outcome};
pub use signature::{sign, signature_header, verify, Secret, SecretError, VerifyError};
pub use ssrf::{check_url, is_forbidden_ip, UrlError};
