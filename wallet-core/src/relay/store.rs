//! Where the relay keeps shares: behind one trait, embedded sled by default or
//! Redis (single or Cluster) for many relays.
//!
//! The relay needs little: put a share, fetch it while counting the use
//! atomically, revoke, report status, purge what expired, and the state that
//! must be shared by every relay in front of one store: upload quotas, the
//! store's size, rate-limit buckets. Every method takes the caller's clock, so
//! a test can set it and relays never disagree about whose clock counts.
//!
//! Accounting model (both stores): bytes and shares are counted per UTC day of
//! a share's *expiry*. A share adds to its day at upload and gives back at
//! revoke; a day's count is dropped once the day has passed (every share in it
//! has expired, so its ciphertext is gone). The stored total is the sum over
//! today and later days: never less than what is stored, at most one day's
//! expired shares more, so a full store refuses uploads slightly early and
//! never evicts a live share.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::{RelayError, Status, valid_share_id};

mod redis_store;
mod sled_store;

pub use redis_store::RedisStore;
pub use sled_store::SledStore;

/// A share as the relay holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareMeta {
    /// The patient's ed25519 key (from the grant): only it may revoke or read the log.
    pub owner: [u8; 32],
    /// Not before (seconds since 1970).
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Use limit.
    pub max_uses: Option<u32>,
    /// Uses so far.
    pub uses: u32,
    /// Revoked by the patient.
    pub revoked: bool,
    /// For a share to a named provider, their ed25519 key (from the grant):
    /// a fetch counts, and is answered, only when signed with it, so whoever
    /// photographs the QR code cannot use up the provider's uses.
    pub reader: Option<[u8; 32]>,
    /// For a SMART Health Link share, how it opens: only through its link's
    /// routes (`/v1/shl/{id}`), never as a plain share, and the reverse.
    pub link: Option<LinkGate>,
}

impl ShareMeta {
    /// Whether the share may be handed out now (not counting a use): the
    /// checks every fetch makes, in the order the refusals should be seen.
    pub fn openable(&self, now: i64, signer: Option<[u8; 32]>) -> Result<(), RelayError> {
        if self.revoked {
            Err(RelayError::Revoked)
        } else if self.link.as_ref().is_some_and(LinkGate::dead) {
            Err(RelayError::LinkDead)
        } else if self.reader.is_some() && self.reader != signer {
            Err(RelayError::ProviderOnly)
        } else if now >= self.exp {
            Err(RelayError::Expired)
        } else if now.saturating_add(crate::share::grant::CLOCK_SKEW) < self.nbf {
            Err(RelayError::NotFound)
        } else if self.max_uses.is_some_and(|m| self.uses >= m) {
            Err(RelayError::UsesExhausted)
        } else {
            Ok(())
        }
    }
}

/// A SMART Health Link share's lock at the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkGate {
    /// For a link with a passcode (flag `P`).
    pub passcode: Option<PasscodeCheck>,
    /// Wrong passcodes still allowed; at 0 the link is dead for good.
    pub attempts_left: u32,
}

impl LinkGate {
    /// Too many wrong passcodes.
    pub fn dead(&self) -> bool {
        self.passcode.is_some() && self.attempts_left == 0
    }
}

/// What the relay keeps of a link's passcode: HMAC-SHA256 under a random
/// salt. The passcode is a gate, not a key (the files are encrypted to the
/// key in the link, which the relay never sees), and the attempt count is
/// what stops guessing, so a slow hash would add nothing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasscodeCheck {
    /// Random, per link.
    pub salt: [u8; 16],
    /// HMAC-SHA256(salt, passcode).
    pub mac: [u8; 32],
}

impl std::fmt::Debug for PasscodeCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasscodeCheck(…)")
    }
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl PasscodeCheck {
    /// The check for a new passcode. Passcodes are compared in the form
    /// [`crate::share::key_text`] gives them, so a capital a phone keyboard
    /// added or a missing dash in a wallet-made passcode does not count as wrong.
    pub fn new(passcode: &str) -> PasscodeCheck {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut salt);
        let mac = hmac::Mac::finalize(Self::mac(&salt, Self::form(passcode).expose_secret().as_bytes()))
            .into_bytes()
            .into();
        PasscodeCheck { salt, mac }
    }

    fn form(passcode: &str) -> secrecy::SecretString {
        crate::share::key_text(&secrecy::SecretString::from(passcode))
    }

    fn mac(key: &[u8], message: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        hmac::Mac::update(&mut mac, message);
        mac
    }

    /// Whether `passcode` is the one (in constant time).
    pub fn matches(&self, passcode: &str) -> bool {
        let form = Self::form(passcode);
        hmac::Mac::verify_slice(Self::mac(&self.salt, form.expose_secret().as_bytes()), &self.mac).is_ok()
    }
}

/// How long after expiry a share's record is kept, so fetchers hear "expired"
/// rather than "not found".
pub const TOMBSTONE_SECONDS: i64 = 30 * 24 * 3600;

/// Fetches of one share kept in its access log.
pub const MAX_LOGGED: u32 = 10_000;

/// Seconds in a day: quotas and usage are counted per UTC day.
pub const DAY: i64 = 24 * 3600;

/// Limits on what may be uploaded, held across every relay on one store.
/// Zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Uploads one patient key may make in a UTC day.
    pub uploads_per_key_per_day: u32,
    /// Ciphertext bytes one patient key may upload in a UTC day.
    pub bytes_per_key_per_day: u64,
    /// Ciphertext bytes the whole store may hold (see the accounting model).
    pub max_store_bytes: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            uploads_per_key_per_day: 500,
            bytes_per_key_per_day: 256 * 1024 * 1024,
            max_store_bytes: 16 * 1024 * 1024 * 1024,
        }
    }
}

impl Quotas {
    /// Whether an upload of `len` bytes fits a key that has made `uploads`
    /// uploads of `bytes` bytes today; the refusal says which limit.
    pub fn check_key(&self, uploads: u64, bytes: u64, len: u64) -> Result<(), RelayError> {
        let limit = u64::from(self.uploads_per_key_per_day);
        if limit > 0 && uploads >= limit {
            return Err(RelayError::QuotaExceeded(format!(
                "{limit} shares a day; try again tomorrow (UTC)"
            )));
        }
        if self.bytes_per_key_per_day > 0 && bytes + len > self.bytes_per_key_per_day {
            return Err(RelayError::QuotaExceeded(format!(
                "{} bytes a day; try again tomorrow (UTC)",
                self.bytes_per_key_per_day
            )));
        }
        Ok(())
    }

    /// Whether `len` more bytes fit a store holding `stored`.
    pub fn check_store(&self, stored: u64, len: u64) -> Result<(), RelayError> {
        if self.max_store_bytes > 0 && stored + len > self.max_store_bytes {
            return Err(RelayError::StoreFull);
        }
        Ok(())
    }
}

/// What a store holds, by the accounting model above.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Shares not yet expired (or expired today).
    pub shares: u64,
    /// Their ciphertext bytes.
    pub bytes: u64,
}

/// What a store's methods return: a boxed future, so the relay can hold any
/// store behind `dyn ShareStore`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RelayError>> + Send + 'a>>;

/// A relay's storage. Every method that takes a share id refuses an id that
/// [`valid_share_id`] refuses, before touching storage.
pub trait ShareStore: Send + Sync + 'static {
    /// Stores a new share; refuses an id that exists, a key over its daily
    /// quota, and a full store. Durable when it returns.
    fn put<'a>(
        &'a self,
        id: &'a str,
        meta: ShareMeta,
        ciphertext: &'a [u8],
        now: i64,
        quotas: Quotas,
    ) -> StoreFuture<'a, ()>;
    /// Returns the ciphertext and counts the use, unless revoked, expired or
    /// exhausted. The use is counted durably before the ciphertext is returned,
    /// so a crash can never hand out more uses than the limit.
    /// `signer` is the key that signed the request (already verified), if any;
    /// `link`: asked through a SMART Health Link's routes (a link share is
    /// not found otherwise, nor a plain share through them).
    fn fetch<'a>(
        &'a self,
        id: &'a str,
        now: i64,
        from: &'a str,
        signer: Option<[u8; 32]>,
        link: bool,
    ) -> StoreFuture<'a, Vec<u8>>;
    /// Counts a wrong passcode for a link share; returns the attempts left.
    fn wrong_passcode<'a>(&'a self, id: &'a str) -> StoreFuture<'a, u32>;
    /// The ciphertext, without counting a use or checking anything: for a
    /// caller that checked [`ShareMeta::openable`] and holds a proof that the
    /// use was counted (a link file's ticket).
    fn blob<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Vec<u8>>;
    /// The share's metadata.
    fn meta<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ShareMeta>;
    /// Revokes: deletes the ciphertext, keeps the record, gives the bytes back.
    fn revoke<'a>(&'a self, id: &'a str, now: i64) -> StoreFuture<'a, ()>;
    /// Uses, limits and the access log.
    fn status<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Status>;
    /// Deletes what expired (ciphertext at expiry, records and logs after the
    /// tombstone, counts of past days); returns how many shares changed. A
    /// store with key expiry (Redis) has nothing to do.
    fn purge(&self, now: i64) -> StoreFuture<'_, usize>;
    /// Token bucket for a client (an address, or an IPv6 /64): `rate` requests
    /// a second, bursts of twice that. `now_ms` is the caller's clock.
    fn admit<'a>(&'a self, client: &'a str, rate: u32, now_ms: i64) -> StoreFuture<'a, bool>;
    /// Shares and bytes held, by the accounting model.
    fn usage(&self, now: i64) -> StoreFuture<'_, Usage>;
    /// Whether the store answers.
    fn ping(&self) -> StoreFuture<'_, ()>;
}

/// Refuses an id that cannot name a share.
pub(crate) fn checked(id: &str) -> Result<&str, RelayError> {
    if valid_share_id(id) {
        Ok(id)
    } else {
        Err(RelayError::BadRequest(
            "that is not a share id (1-64 letters, digits, '-' or '_')".into(),
        ))
    }
}

/// The UTC day a time falls in.
pub(crate) fn day(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// Where a relay keeps its shares, as `--store` names it.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// A directory for the embedded sled store.
    Sled(PathBuf),
    /// One Redis server: `redis://[:PASSWORD@]HOST:PORT[/DB]`.
    Redis(String),
    /// A Redis Cluster: `redis+cluster://HOST:PORT,HOST:PORT,…` (any of its nodes).
    RedisCluster(Vec<String>),
}

impl std::str::FromStr for StoreSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(nodes) = s.strip_prefix("redis+cluster://") {
            let (auth, nodes) = match nodes.rsplit_once('@') {
                Some((auth, nodes)) => (format!("{auth}@"), nodes),
                None => (String::new(), nodes),
            };
            let urls: Vec<String> = nodes
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| format!("redis://{auth}{n}"))
                .collect();
            if urls.is_empty() {
                return Err("redis+cluster:// needs at least one HOST:PORT".into());
            }
            urls.iter().try_for_each(|u| check_redis_url(u))?;
            return Ok(StoreSpec::RedisCluster(urls));
        }
        if s.starts_with("redis://") || s.starts_with("rediss://") {
            check_redis_url(s)?;
            return Ok(StoreSpec::Redis(s.to_string()));
        }
        if s.contains("://") {
            return Err(format!(
                "'{s}' is neither a directory nor redis://HOST:PORT[/DB] nor redis+cluster://HOST:PORT,…"
            ));
        }
        Ok(StoreSpec::Sled(PathBuf::from(s)))
    }
}

/// Refuses a Redis URL the client cannot use, at argument time (without a
/// connection), naming it without its password.
fn check_redis_url(url: &str) -> Result<(), String> {
    redis::Client::open(url).map(|_| ()).map_err(|e| {
        format!(
            "'{}' is not a Redis URL like redis://HOST:PORT/DB ({e})",
            redacted(url)
        )
    })
}

/// Hides a password in a Redis URL.
fn redacted(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://…@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Shown in logs: never a password.
impl std::fmt::Display for StoreSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreSpec::Sled(dir) => write!(f, "{}", dir.display()),
            StoreSpec::Redis(url) => f.write_str(&redacted(url)),
            StoreSpec::RedisCluster(urls) => {
                let nodes: Vec<String> = urls.iter().map(|u| redacted(u)).collect();
                write!(f, "Redis Cluster {}", nodes.join(","))
            }
        }
    }
}

impl std::fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl StoreSpec {
    /// Opens the store. Redis connects lazily: a relay starts while Redis is
    /// down and answers 503 until it is back.
    pub fn open(&self) -> Result<Arc<dyn ShareStore>, RelayError> {
        Ok(match self {
            StoreSpec::Sled(dir) => Arc::new(SledStore::open(dir)?),
            StoreSpec::Redis(url) => Arc::new(RedisStore::single(url)?),
            StoreSpec::RedisCluster(urls) => Arc::new(RedisStore::cluster(urls)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_parse_and_never_print_a_password() {
        let spec: StoreSpec = "redis://:s3cret@10.0.0.5:6379/2".parse().unwrap();
        assert_eq!(spec, StoreSpec::Redis("redis://:s3cret@10.0.0.5:6379/2".into()));
        assert_eq!(spec.to_string(), "redis://…@10.0.0.5:6379/2");
        let spec: StoreSpec = "redis+cluster://:pw@a:7000, b:7001".parse().unwrap();
        assert_eq!(
            spec,
            StoreSpec::RedisCluster(vec!["redis://:pw@a:7000".into(), "redis://:pw@b:7001".into()])
        );
        assert!(!spec.to_string().contains("pw"));
        assert_eq!(
            "/var/lib/relay".parse::<StoreSpec>().unwrap(),
            StoreSpec::Sled("/var/lib/relay".into())
        );
        assert!("s3://bucket".parse::<StoreSpec>().is_err());
        assert!("redis+cluster://".parse::<StoreSpec>().is_err());
        let bad = "redis://:hunter2@127.0.0.1:notaport"
            .parse::<StoreSpec>()
            .unwrap_err();
        assert!(
            bad.contains("is not a Redis URL") && !bad.contains("hunter2"),
            "{bad}"
        );
        let bad = "redis+cluster://a:7000,b:x".parse::<StoreSpec>().unwrap_err();
        assert!(bad.contains("'redis://b:x' is not a Redis URL"), "{bad}");
    }

    #[test]
    fn quotas_name_the_limit_that_refused() {
        let q = Quotas {
            uploads_per_key_per_day: 2,
            bytes_per_key_per_day: 100,
            max_store_bytes: 1000,
        };
        assert!(q.check_key(1, 50, 50).is_ok());
        assert!(matches!(q.check_key(2, 0, 1), Err(RelayError::QuotaExceeded(m)) if m.contains("2 shares")));
        assert!(
            matches!(q.check_key(0, 60, 50), Err(RelayError::QuotaExceeded(m)) if m.contains("100 bytes"))
        );
        assert_eq!(q.check_store(990, 20), Err(RelayError::StoreFull));
        let none = Quotas {
            uploads_per_key_per_day: 0,
            bytes_per_key_per_day: 0,
            max_store_bytes: 0,
        };
        assert!(none.check_key(u64::MAX / 2, u64::MAX / 2, 1).is_ok());
        assert!(none.check_store(u64::MAX / 2, 1).is_ok());
    }

    #[test]
    fn bad_ids_are_refused_before_any_store() {
        for id in [
            "",
            "a\0b",
            "a/b",
            "..",
            "../x",
            &"x".repeat(10_000),
            "ümlaut",
            "a b",
            "a:b",
        ] {
            assert!(checked(id).is_err(), "{id:?}");
        }
        assert!(checked("k3vq8m2xk0fa77pz").is_ok());
    }
}
