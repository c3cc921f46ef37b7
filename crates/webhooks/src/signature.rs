//! Standard Webhooks v1 symmetric signatures (HMAC-SHA256).
//!
//! The signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`, the key is the
//! base64-decoded part of a `whsec_…` secret, and a signature is written `v1,<base64>`. During a
//! secret rotation the `webhook-signature` header carries several signatures separated by
//! spaces, so that receivers holding either the old or the new secret accept the delivery.
//!
//! [`verify`] exists for Millwright's own tests and for users who cannot add the official
//! `standardwebhooks` library; the official libraries are the reference and must accept
//! everything [`signature_header`] produces (checked by `tests/official_library.rs`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use millwright_core::time::Timestamp;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying the message id (the event id; the same on every retry).
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the Unix time in seconds of this attempt.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying one or more space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// The prefix of a serialized symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Smallest key the Standard Webhooks spec allows.
pub const MIN_SECRET_BYTES: usize = 24;
/// Largest key the Standard Webhooks spec allows.
pub const MAX_SECRET_BYTES: usize = 64;
/// Size of the keys Millwright generates.
pub const GENERATED_SECRET_BYTES: usize = 32;
/// How far a timestamp may be from the receiver's clock, as the reference libraries enforce.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<Sha256>;

/// A webhook signing secret: 24–64 key bytes, serialized as `whsec_` + base64.
///
/// Neither `Debug` nor any other formatting prints the key; the serialized form is only
/// available through [`Secret::expose`], so that leaking it takes a deliberate call.
#[derive(Clone)]
pub struct Secret {
    key: Vec<u8>,
}

/// Why a string or byte slice is not a valid [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The string does not start with `whsec_`.
    #[error("a webhook secret starts with `whsec_`")]
    MissingPrefix,
    /// The part after the prefix is not standard base64.
    #[error("a webhook secret is `whsec_` followed by standard base64")]
    InvalidBase64,
    /// The decoded key is shorter than 24 or longer than 64 bytes.
    #[error("a webhook secret key is 24 to 64 bytes, got {0}")]
    InvalidLength(usize),
}

impl Secret {
    /// A new secret of 32 bytes from the operating system's CSPRNG.
    pub fn generate() -> Secret {
        let mut key = vec![0u8; GENERATED_SECRET_BYTES];
        OsRng.fill_bytes(&mut key);
        Secret { key }
    }

    /// Wraps raw key bytes, enforcing the spec's 24–64 byte range.
    pub fn from_bytes(key: &[u8]) -> Result<Secret, SecretError> {
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err(SecretError::InvalidLength(key.len()));
        }
        Ok(Secret { key: key.to_vec() })
    }

    /// Parses `whsec_<base64>`. Padding may be omitted, as the official libraries allow, so a
    /// secret copied from another Standard Webhooks producer parses too.
    pub fn parse(s: &str) -> Result<Secret, SecretError> {
        let encoded = s
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        let key = STANDARD
            .decode(encoded)
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(encoded.trim_end_matches('='))
            })
            .map_err(|_| SecretError::InvalidBase64)?;
        Secret::from_bytes(&key)
    }

    /// The serialized form `whsec_<base64>`, to show the user once or to encrypt at rest.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The raw HMAC key.
    pub fn key_bytes(&self) -> &[u8] {
        &self.key
    }

    fn mac(&self, msg_id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        // `new_from_slice` only fails for fixed-size-key MACs; HMAC takes any length.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_<redacted>)")
    }
}

// Constant time, like every other secret comparison in Millwright.
impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        bool::from(self.key.as_slice().ct_eq(other.key.as_slice()))
    }
}

impl Eq for Secret {}

impl FromStr for Secret {
    type Err = SecretError;
    fn from_str(s: &str) -> Result<Secret, SecretError> {
        Secret::parse(s)
    }
}

/// One signature `v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp_secs}.{body}">`.
///
/// `msg_id` must not contain `.` (the spec forbids it because it would make the signed content
/// ambiguous); Millwright's event ids (`evt_…`) never do.
pub fn sign(secret: &Secret, msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let mac = secret.mac(msg_id, &timestamp_secs.to_string(), body);
    format!("v1,{}", STANDARD.encode(mac))
}

/// The `webhook-signature` header value: one signature per secret, space-separated, in the
/// order given (pass the current secret first and the previous one during a rotation).
pub fn signature_header(
    secrets: &[&Secret],
    msg_id: &str,
    timestamp_secs: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp_secs, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why [`verify`] rejected a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A required header is empty.
    #[error("missing webhook-id, webhook-timestamp or webhook-signature")]
    MissingHeader,
    /// `webhook-timestamp` is not a whole number of seconds.
    #[error("webhook-timestamp is not Unix seconds")]
    InvalidTimestamp,
    /// The timestamp is older than the tolerance (possible replay).
    #[error("message timestamp too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the tolerance.
    #[error("message timestamp too new")]
    TimestampTooNew,
    /// No `v1` signature in the header matches.
    #[error("no matching signature found")]
    NoMatchingSignature,
}

/// Verifies a delivery the way the reference libraries do: the timestamp must be within
/// `tolerance` of `now` in either direction (use [`DEFAULT_TOLERANCE`]), and at least one `v1`
/// entry of `signature` must equal the expected HMAC, compared in constant time. Entries of
/// other versions (e.g. `v1a` asymmetric) are skipped.
pub fn verify(
    secret: &Secret,
    msg_id: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: Timestamp,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    if msg_id.is_empty() || timestamp.is_empty() || signature.is_empty() {
        return Err(VerifyError::MissingHeader);
    }
    // Only ASCII digits: `i64::from_str` would also accept a sign, which no producer sends.
    if !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::InvalidTimestamp);
    }
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| VerifyError::InvalidTimestamp)?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let now = now.timestamp();
    if ts < now.saturating_sub(tolerance) {
        return Err(VerifyError::TimestampTooOld);
    }
    if ts > now.saturating_add(tolerance) {
        return Err(VerifyError::TimestampTooNew);
    }

    // Sign the header text exactly as received, so the check covers the bytes that were sent.
    let expected = secret.mac(msg_id, timestamp, body);
    let mut matched = subtle::Choice::from(0);
    for entry in signature.split(' ') {
        let Some((version, encoded)) = entry.split_once(',') else {
            continue;
        };
        if version != "v1" {
            continue;
        }
        let Ok(candidate) = STANDARD.decode(encoded) else {
            continue;
        };
        // `ct_eq` on slices of different lengths is false without inspecting the contents.
        // Accumulate instead of returning early so the time does not reveal which entry matched.
        matched |= candidate.as_slice().ct_eq(&expected);
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    // The test vector of the Standard Webhooks spec and its reference libraries (the official
    // Python `standardwebhooks` 1.1.0 `Webhook.sign` produces this same signature).
    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TS: i64 = 1614265330;
    const VECTOR_BODY: &str = r#"{"test": 2432232314}"#;
    const VECTOR_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn at(secs: i64) -> Timestamp {
        Utc.timestamp_opt(secs, 0).unwrap()
    }

    #[test]
    fn matches_the_spec_test_vector() {
        let secret = Secret::parse(VECTOR_SECRET).unwrap();
        assert_eq!(
            sign(&secret, VECTOR_ID, VECTOR_TS, VECTOR_BODY.as_bytes()),
            VECTOR_SIG
        );
        let ts = VECTOR_TS.to_string();
        verify(
            &secret,
            VECTOR_ID,
            &ts,
            VECTOR_SIG,
            VECTOR_BODY.as_bytes(),
            at(VECTOR_TS),
            DEFAULT_TOLERANCE,
        )
        .unwrap();
    }

    #[test]
    fn generated_secrets_are_32_random_bytes_and_round_trip() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_eq!(a.key_bytes().len(), 32);
        assert_ne!(a, b);
        let exposed = a.expose();
        assert!(exposed.starts_with("whsec_"));
        assert_eq!(Secret::parse(&exposed).unwrap(), a);
        assert_eq!(exposed.parse::<Secret>().unwrap(), a);
    }

    #[test]
    fn debug_never_prints_the_key() {
        let s = Secret::generate();
        let debug = format!("{s:?} {:?}", vec![s.clone()]);
        let encoded = s.expose();
        assert!(!debug.contains(&encoded["whsec_".len()..]), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn parse_rejects_bad_secrets() {
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::MissingPrefix)
        );
        assert_eq!(
            Secret::parse("whsec_not*base64!"),
            Err(SecretError::InvalidBase64)
        );
        let short = format!("whsec_{}", STANDARD.encode([7u8; 23]));
        assert_eq!(Secret::parse(&short), Err(SecretError::InvalidLength(23)));
        let long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert_eq!(Secret::parse(&long), Err(SecretError::InvalidLength(65)));
        for n in [24, 33, 64] {
            let ok = format!("whsec_{}", STANDARD.encode(vec![7u8; n]));
            assert_eq!(Secret::parse(&ok).unwrap().key_bytes().len(), n);
            // Unpadded base64 is accepted too, as the reference libraries do.
            assert!(Secret::parse(ok.trim_end_matches('=')).is_ok());
        }
    }

    #[test]
    fn rotation_header_lists_current_first_and_either_secret_verifies() {
        let current = Secret::generate();
        let previous = Secret::generate();
        let other = Secret::generate();
        let body = br#"{"type":"webhook.test"}"#;
        let header = signature_header(&[&current, &previous], "evt_1", 1_700_000_000, body);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&current, "evt_1", 1_700_000_000, body));
        assert_eq!(parts[1], sign(&previous, "evt_1", 1_700_000_000, body));
        let now = at(1_700_000_000);
        for s in [&current, &previous] {
            verify(
                s,
                "evt_1",
                "1700000000",
                &header,
                body,
                now,
                DEFAULT_TOLERANCE,
            )
            .unwrap();
        }
        assert_eq!(
            verify(
                &other,
                "evt_1",
                "1700000000",
                &header,
                body,
                now,
                DEFAULT_TOLERANCE
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn verify_rejects_tampering_and_stale_or_future_timestamps() {
        let s = Secret::parse(VECTOR_SECRET).unwrap();
        let ts = VECTOR_TS.to_string();
        let body = VECTOR_BODY.as_bytes();
        let check = |id: &str, ts: &str, sig: &str, body: &[u8], now: i64| {
            verify(&s, id, ts, sig, body, at(now), DEFAULT_TOLERANCE)
        };
        let no_match = Err(VerifyError::NoMatchingSignature);
        assert_eq!(
            check(
                VECTOR_ID,
                &ts,
                VECTOR_SIG,
                br#"{"test": 2432232315}"#,
                VECTOR_TS
            ),
            no_match
        );
        assert_eq!(
            check("msg_other", &ts, VECTOR_SIG, body, VECTOR_TS),
            no_match
        );
        // Changing the timestamp header invalidates the signature even within the tolerance.
        let ts_plus_one = (VECTOR_TS + 1).to_string();
        assert_eq!(
            check(VECTOR_ID, &ts_plus_one, VECTOR_SIG, body, VECTOR_TS),
            no_match
        );
        // Exactly five minutes either way is accepted, one second more is not.
        assert!(check(VECTOR_ID, &ts, VECTOR_SIG, body, VECTOR_TS + 300).is_ok());
        assert!(check(VECTOR_ID, &ts, VECTOR_SIG, body, VECTOR_TS - 300).is_ok());
        assert_eq!(
            check(VECTOR_ID, &ts, VECTOR_SIG, body, VECTOR_TS + 301),
            Err(VerifyError::TimestampTooOld)
        );
        assert_eq!(
            check(VECTOR_ID, &ts, VECTOR_SIG, body, VECTOR_TS - 301),
            Err(VerifyError::TimestampTooNew)
        );
        assert_eq!(
            check(VECTOR_ID, "-1614265330", VECTOR_SIG, body, VECTOR_TS),
            Err(VerifyError::InvalidTimestamp)
        );
        assert_eq!(
            check(VECTOR_ID, "", VECTOR_SIG, body, VECTOR_TS),
            Err(VerifyError::MissingHeader)
        );
        // Unknown versions and garbage entries are skipped, a later valid entry still matches.
        let mixed = format!("v1a,AAAA v1,@@@ nocomma {VECTOR_SIG}");
        assert!(check(VECTOR_ID, &ts, &mixed, body, VECTOR_TS).is_ok());
        // The right bytes under another version tag are not a v1 signature.
        let v2 = VECTOR_SIG.replacen("v1,", "v2,", 1);
        assert_eq!(check(VECTOR_ID, &ts, &v2, body, VECTOR_TS), no_match);
        // A truncated signature must not match as a prefix.
        let truncated = &VECTOR_SIG[..VECTOR_SIG.len() - 8];
        assert_eq!(check(VECTOR_ID, &ts, truncated, body, VECTOR_TS), no_match);
    }
}
