//! The relay: an HTTP store of encrypted shares that never sees plaintext.
//!
//! The patient's wallet uploads a share's age ciphertext with its signed grant;
//! whoever holds the link fetches it; the relay counts uses, refuses past expiry,
//! past the use limit or after revocation, and keeps an access log that only the
//! patient can read. Requests by the patient (revoke, read the log) are signed
//! with the key that signed the grant. The protocol is described in
//! `docs/relay.md`; this module holds the parts both sides need (and that the
//! browser needs): error codes and the request-signing message.

use serde::{Deserialize, Serialize};

#[cfg(feature = "native")]
pub mod client;
#[cfg(feature = "native")]
pub mod clients;
#[cfg(feature = "native")]
pub mod metrics;
#[cfg(feature = "native")]
pub mod server;
#[cfg(feature = "native")]
pub mod store;

/// A signed request is valid this many seconds either side of the relay's clock.
pub const SIGNATURE_WINDOW: i64 = 300;

/// The relay's refusals, as their JSON `error` codes say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The patient revoked the share.
    #[error("the patient revoked this share")]
    Revoked,
    /// Past its expiry.
    #[error("this share has expired at the relay")]
    Expired,
    /// Fetched as many times as the patient allowed.
    #[error("this share has been opened as many times as the patient allowed (uses exhausted)")]
    UsesExhausted,
    /// No such share (never uploaded, or removed long after expiry).
    #[error("the relay has no such share (not found)")]
    NotFound,
    /// Too many requests from this client.
    #[error("the relay is rate-limiting this client; try again in a moment")]
    RateLimited,
    /// Larger than the relay accepts.
    #[error("the share is larger than the relay accepts")]
    TooLarge,
    /// The request's signature did not verify.
    #[error("the relay refused the request's signature (only the patient who shared can do this)")]
    Unauthorized,
    /// A share for a named provider, fetched without their signature.
    #[error(
        "this share is for a named provider: the relay opens it only for a request signed with their key (receive it with their identity)"
    )]
    ProviderOnly,
    /// A share with this grant id is there already (an id is used once:
    /// Scan & Share takes the next token).
    #[error("the relay holds a share with this grant id already")]
    Taken,
    /// The upload's grant was refused.
    #[error("the relay refused the upload: {0}")]
    BadRequest(String),
    /// This wallet's key has uploaded as much as the relay allows in a day.
    #[error("the relay's daily limit for this wallet is reached: {0}")]
    QuotaExceeded(String),
    /// The relay holds as much as its operator allows; it never evicts a live share.
    #[error("the relay is full and accepts no new shares until older ones expire")]
    StoreFull,
    /// The relay is up but its store (e.g. Redis) is not reachable right now.
    #[error("the relay's store is unavailable right now; try again in a minute")]
    Unavailable,
    /// The relay's answer is longer than any share can be ([`crate::share::MAX_BUNDLE`]).
    #[error("the relay sent more than any share can be (over 64 MiB); refused")]
    Oversized,
    /// The relay could not be reached.
    #[error("the relay at {0} cannot be reached")]
    Unreachable(String),
    /// Anything else the relay said.
    #[error("the relay failed: {0}")]
    Server(String),
    /// A SMART Health Link's passcode was wrong.
    #[error("the passcode is wrong: {0} attempts left before the link stops working")]
    WrongPasscode(u32),
    /// A SMART Health Link disabled after too many wrong passcodes.
    #[error("this link no longer works: too many wrong passcodes")]
    LinkDead,
}

pub use crate::contract::ErrorBody;

impl RelayError {
    /// The error code on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            RelayError::Revoked => "revoked",
            RelayError::Expired => "expired",
            RelayError::UsesExhausted => "uses exhausted",
            RelayError::NotFound => "not found",
            RelayError::RateLimited => "rate limited",
            RelayError::TooLarge => "too large",
            RelayError::Unauthorized => "unauthorized",
            RelayError::ProviderOnly => "provider only",
            RelayError::Taken => "taken",
            RelayError::BadRequest(_) => "bad request",
            RelayError::QuotaExceeded(_) => "quota exceeded",
            RelayError::StoreFull => "store full",
            RelayError::Unavailable => "unavailable",
            RelayError::WrongPasscode(_) => "wrong passcode",
            RelayError::LinkDead => "link dead",
            RelayError::Oversized | RelayError::Unreachable(_) | RelayError::Server(_) => "server error",
        }
    }

    /// The HTTP status for the error.
    pub fn status(&self) -> u16 {
        match self {
            RelayError::Revoked | RelayError::Expired | RelayError::UsesExhausted | RelayError::LinkDead => {
                410
            }
            RelayError::WrongPasscode(_) => 401,
            RelayError::NotFound => 404,
            RelayError::RateLimited | RelayError::QuotaExceeded(_) => 429,
            RelayError::StoreFull => 507,
            RelayError::Unavailable => 503,
            RelayError::TooLarge => 413,
            RelayError::Unauthorized | RelayError::ProviderOnly => 401,
            RelayError::Taken => 409,
            RelayError::BadRequest(_) => 400,
            RelayError::Oversized | RelayError::Unreachable(_) | RelayError::Server(_) => 500,
        }
    }

    /// Reads an error body.
    pub fn from_body(body: &ErrorBody) -> RelayError {
        match body.error.as_str() {
            "revoked" => RelayError::Revoked,
            "expired" => RelayError::Expired,
            "uses exhausted" => RelayError::UsesExhausted,
            "not found" => RelayError::NotFound,
            "rate limited" => RelayError::RateLimited,
            "too large" => RelayError::TooLarge,
            "unauthorized" => RelayError::Unauthorized,
            "provider only" => RelayError::ProviderOnly,
            "taken" => RelayError::Taken,
            "bad request" => RelayError::BadRequest(body.message.clone()),
            "quota exceeded" => RelayError::QuotaExceeded(
                body.message
                    .rsplit_once(": ")
                    .map_or(body.message.as_str(), |(_, why)| why)
                    .to_string(),
            ),
            "store full" => RelayError::StoreFull,
            "link dead" => RelayError::LinkDead,
            "unavailable" => RelayError::Unavailable,
            _ => RelayError::Server(body.message.clone()),
        }
    }

    /// The body for the error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code().into(),
            message: self.to_string(),
        }
    }
}

/// Whether `id` can name a share: a grant id ([`crate::share::grant::valid_grant_id`]).
/// The relay checks this before any store sees the id, so no id can reach into
/// another share's keys (a NUL, `/` or `..`), or make a store key huge.
pub fn valid_share_id(id: &str) -> bool {
    crate::share::grant::valid_grant_id(id)
}

/// What the patient signs to act on a share: method, path and time, so a
/// signature cannot be reused for another request or much later.
pub fn signing_message(method: &str, path: &str, time: i64) -> String {
    format!("amanat-relay-v1\n{method}\n{path}\n{time}")
}

/// An upload: the grant (compact JWS) and the ciphertext (base64).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    /// The signed grant; its `jti` becomes the share's id.
    pub grant: String,
    /// The age ciphertext, standard base64; for a SMART Health Link, the
    /// compact JWE file (standard base64 of its text).
    pub ciphertext: String,
    /// Present for a SMART Health Link share: served at `/v1/shl/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkUpload>,
}

/// How a SMART Health Link share opens at the relay.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LinkUpload {
    /// The passcode the manifest asks for (flag `P`); the relay keeps only a
    /// salted hash and counts wrong attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode: Option<String>,
}

/// One fetch of a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// When (seconds since 1970).
    pub time: i64,
    /// The client's address as the relay saw it.
    pub from: String,
    /// The use number this fetch was.
    pub n: u32,
}

/// What the patient sees of a share at the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Uses so far.
    pub uses: u32,
    /// The limit, if any.
    pub max_uses: Option<u32>,
    /// Expiry (seconds since 1970).
    pub exp: i64,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Every fetch.
    pub accesses: Vec<Access>,
}
