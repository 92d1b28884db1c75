//! The Redis store: any number of stateless relays in front of one Redis
//! server or Redis Cluster.
//!
//! Every decision that must hold across relays is one Lua script, which Redis
//! runs atomically: a fetch checks revoked, expiry and uses, counts the use,
//! logs the access and returns the ciphertext in one step, so a use is counted
//! exactly once whichever relay answers. Keys (the `{…}` part is the Cluster
//! hash tag, so one share's keys live on one node and its scripts can run):
//!
//! | key | type | what | expires |
//! |---|---|---|---|
//! | `amanat:s:{ID}:m` | hash | owner, nbf, exp, max, uses, revoked, reader | exp + 30 days |
//! | `amanat:s:{ID}:b` | string | the ciphertext | exp |
//! | `amanat:s:{ID}:l` | list | `time n from` per fetch (first 10,000) | exp + 30 days |
//! | `amanat:q:{OWNER}:DAY` | hash | uploads and bytes of a key that day | 2 days |
//! | `amanat:{usage}` | hash | `s:DAY`, `b:DAY`: shares and bytes by expiry day | pruned by uploads |
//! | `amanat:r:{CLIENT}` | hash | token bucket | when full again |
//!
//! An upload runs three scripts (the key's quota, the store's size, the
//! share), which in a Cluster live on different nodes; a later step's refusal
//! gives back what the earlier steps took.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::{RedisError, RedisResult, Script};
use tokio::sync::OnceCell;

use super::{
    LinkGate, MAX_LOGGED, PasscodeCheck, Quotas, ShareMeta, ShareStore, StoreFuture, TOMBSTONE_SECONDS,
    Usage, checked, day,
};
use crate::relay::{Access, RelayError, Status};

/// Longest a relay waits for Redis before answering 503.
const TIMEOUT: Duration = Duration::from_secs(2);

enum Conn {
    Single(ConnectionManager),
    /// Connected on first use, so a relay can start before the Cluster is up.
    Cluster(Box<redis::cluster::ClusterClient>, OnceCell<ClusterConnection>),
}

/// The Redis store (single server or Cluster).
pub struct RedisStore {
    conn: Conn,
    scripts: Scripts,
}

struct Scripts {
    fetch: Script,
    wrong_passcode: Script,
    put: Script,
    quota: Script,
    usage_add: Script,
    revoke: Script,
    admit: Script,
}

/// Returns `{n, ciphertext}` for a counted use, or `{code, ""}`: -1 not
/// found (or not yet valid, or asked through the wrong routes: ARGV[7] is 1
/// through a SMART Health Link's), -2 revoked, -3 expired, -4 uses
/// exhausted, -5 provider only, -6 link dead (too many wrong passcodes).
const FETCH: &str = r"
local m = redis.call('HMGET', KEYS[1], 'nbf', 'exp', 'max', 'uses', 'revoked', 'reader', 'link', 'left')
if not m[2] then return {-1, ''} end
local link = m[7] or ''
if (link ~= '') ~= (ARGV[7] == '1') then return {-1, ''} end
if m[5] == '1' then return {-2, ''} end
if link ~= '' and link ~= 'open' and (tonumber(m[8]) or 0) <= 0 then return {-6, ''} end
if m[6] and m[6] ~= '' and m[6] ~= ARGV[6] then return {-5, ''} end
local now = tonumber(ARGV[1])
if now >= tonumber(m[2]) then return {-3, ''} end
if now < tonumber(m[1]) - tonumber(ARGV[3]) then return {-1, ''} end
local max = tonumber(m[3])
if max >= 0 and tonumber(m[4]) >= max then return {-4, ''} end
local blob = redis.call('GET', KEYS[2])
if not blob then return {-3, ''} end
local n = redis.call('HINCRBY', KEYS[1], 'uses', 1)
if n <= tonumber(ARGV[4]) then
  redis.call('RPUSH', KEYS[3], ARGV[1] .. ' ' .. n .. ' ' .. ARGV[2])
  redis.call('EXPIREAT', KEYS[3], tonumber(m[2]) + tonumber(ARGV[5]))
end
return {n, blob}
";

/// Counts a wrong passcode of a link share: the attempts left, or -1 if it
/// is not a link share.
const WRONG_PASSCODE: &str = r"
local g = redis.call('HMGET', KEYS[1], 'link', 'left')
if not g[1] or g[1] == '' then return -1 end
local left = math.max((tonumber(g[2]) or 0) - 1, 0)
redis.call('HSET', KEYS[1], 'left', left)
return left
";

/// Stores a share unless its id exists: 1 stored, 0 exists.
const PUT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'nbf', ARGV[2], 'exp', ARGV[3], 'max', ARGV[4], 'uses', 0, 'revoked', 0, 'reader', ARGV[7], 'link', ARGV[8], 'left', ARGV[9])
redis.call('EXPIREAT', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[5]))
redis.call('SET', KEYS[2], ARGV[6])
redis.call('EXPIREAT', KEYS[2], tonumber(ARGV[3]))
return 1
";

/// Takes one upload of ARGV[1] bytes from a key's day, unless over the limits
/// (ARGV[2] uploads, ARGV[3] bytes; 0 = none): 0 taken, 1 uploads, 2 bytes.
/// A negative size gives one upload back.
const QUOTA: &str = r"
local len = tonumber(ARGV[1])
local q = redis.call('HMGET', KEYS[1], 'n', 'bytes')
local n = tonumber(q[1]) or 0
local bytes = tonumber(q[2]) or 0
if len >= 0 then
  local maxn = tonumber(ARGV[2])
  local maxb = tonumber(ARGV[3])
  if maxn > 0 and n >= maxn then return 1 end
  if maxb > 0 and bytes + len > maxb then return 2 end
  redis.call('HSET', KEYS[1], 'n', n + 1, 'bytes', bytes + len)
else
  redis.call('HSET', KEYS[1], 'n', math.max(n - 1, 0), 'bytes', math.max(bytes + len, 0))
end
redis.call('EXPIRE', KEYS[1], 2 * 86400)
return 0
";

/// Adds ARGV[3] shares and ARGV[4] bytes to expiry day ARGV[2] unless the
/// store would pass ARGV[5] bytes (0 = no limit; only checked when adding).
/// Drops days before today (ARGV[1]). Returns 0 added, 1 full.
const USAGE_ADD: &str = r"
local today = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local stored = 0
for i = 1, #all, 2 do
  local d = tonumber(string.sub(all[i], 3))
  if d < today then
    redis.call('HDEL', KEYS[1], all[i])
  elseif string.sub(all[i], 1, 1) == 'b' then
    stored = stored + tonumber(all[i + 1])
  end
end
local bytes = tonumber(ARGV[4])
local max = tonumber(ARGV[5])
if bytes > 0 and max > 0 and stored + bytes > max then return 1 end
redis.call('HINCRBY', KEYS[1], 's:' .. ARGV[2], ARGV[3])
redis.call('HINCRBY', KEYS[1], 'b:' .. ARGV[2], ARGV[4])
return 0
";

/// Revokes: `{size of the deleted ciphertext, exp}`, or `{-1, 0}` if no such share.
const REVOKE: &str = r"
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp then return {-1, 0} end
redis.call('HSET', KEYS[1], 'revoked', 1)
local size = redis.call('STRLEN', KEYS[2])
redis.call('DEL', KEYS[2])
return {size, tonumber(exp)}
";

/// Token bucket: ARGV[1] tokens a second, bursts of twice that, ARGV[2] the
/// caller's clock in milliseconds. 1 admitted, 0 refused.
const ADMIT: &str = r"
local rate = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local burst = 2 * rate
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local ok = 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', math.max(now, at))
redis.call('PEXPIRE', KEYS[1], 3000)
return ok
";

const USAGE_KEY: &str = "amanat:{usage}";

/// A link gate as a hash field: empty for a plain share, `open` for a link
/// without a passcode, else the passcode check's salt and MAC in hex.
fn link_field(gate: Option<&LinkGate>) -> String {
    match gate {
        None => String::new(),
        Some(LinkGate { passcode: None, .. }) => "open".into(),
        Some(LinkGate {
            passcode: Some(check),
            ..
        }) => format!("{}{}", hex(&check.salt), hex(&check.mac)),
    }
}

fn share_keys(id: &str) -> [String; 3] {
    ["m", "b", "l"].map(|k| format!("amanat:s:{{{id}}}:{k}"))
}

/// Redis errors: connection trouble is "unavailable" (503) and heals by
/// itself; anything else is a relay fault. Details go to the operator's log.
fn failed(e: RedisError) -> RelayError {
    eprintln!("relay store (Redis): {e}");
    if e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_cluster_error()
        || e.is_unrecoverable_error()
    {
        RelayError::Unavailable
    } else {
        RelayError::Server(format!("store: {e}"))
    }
}

impl RedisStore {
    fn new(conn: Conn) -> RedisStore {
        RedisStore {
            conn,
            scripts: Scripts {
                fetch: Script::new(FETCH),
                wrong_passcode: Script::new(WRONG_PASSCODE),
                put: Script::new(PUT),
                quota: Script::new(QUOTA),
                usage_add: Script::new(USAGE_ADD),
                revoke: Script::new(REVOKE),
                admit: Script::new(ADMIT),
            },
        }
    }

    /// One Redis server, `redis://[:PASSWORD@]HOST:PORT[/DB]`. Connects
    /// lazily and reconnects by itself.
    pub fn single(url: &str) -> Result<RedisStore, RelayError> {
        let client =
            redis::Client::open(url).map_err(|e| RelayError::Server(format!("not a Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let manager = ConnectionManager::new_lazy_with_config(client, config).map_err(failed)?;
        Ok(Self::new(Conn::Single(manager)))
    }

    /// A Redis Cluster, from the URLs of any of its nodes.
    pub fn cluster(urls: &[String]) -> Result<RedisStore, RelayError> {
        let client = redis::cluster::ClusterClientBuilder::new(urls.to_vec())
            .connection_timeout(TIMEOUT)
            .response_timeout(TIMEOUT)
            .retries(2)
            .build()
            .map_err(|e| RelayError::Server(format!("not a Redis Cluster: {e}")))?;
        Ok(Self::new(Conn::Cluster(Box::new(client), OnceCell::new())))
    }

    /// Runs a script on the node that holds its keys.
    /// The Cluster connection, made on first use.
    async fn cluster_connection(
        client: &redis::cluster::ClusterClient,
        cell: &OnceCell<ClusterConnection>,
    ) -> Result<ClusterConnection, RelayError> {
        cell.get_or_try_init(|| client.get_async_connection())
            .await
            .cloned()
            .map_err(failed)
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        call: &redis::ScriptInvocation<'_>,
    ) -> Result<T, RelayError> {
        match &self.conn {
            Conn::Single(manager) => call.invoke_async(&mut manager.clone()).await,
            Conn::Cluster(client, cell) => {
                call.invoke_async(&mut Self::cluster_connection(client, cell).await?)
                    .await
            }
        }
        .map_err(failed)
    }

    /// Runs a command on the node that holds its key.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, RelayError> {
        async fn on<T: redis::FromRedisValue>(
            mut c: impl ConnectionLike,
            cmd: &redis::Cmd,
        ) -> RedisResult<T> {
            cmd.query_async(&mut c).await
        }
        match &self.conn {
            Conn::Single(manager) => on(manager.clone(), cmd).await,
            Conn::Cluster(client, cell) => on(Self::cluster_connection(client, cell).await?, cmd).await,
        }
        .map_err(failed)
    }

    async fn take_quota(
        &self,
        owner: &[u8; 32],
        now: i64,
        len: i64,
        quotas: Quotas,
    ) -> Result<(), RelayError> {
        let key = format!("amanat:q:{{{}}}:{}", hex(owner), day(now));
        let verdict: i64 = self
            .run(
                self.scripts
                    .quota
                    .key(key)
                    .arg(len)
                    .arg(quotas.uploads_per_key_per_day)
                    .arg(quotas.bytes_per_key_per_day),
            )
            .await?;
        match verdict {
            // Let the shared rule word the refusal.
            1 => quotas.check_key(u64::MAX, 0, 0),
            2 => quotas.check_key(0, u64::MAX, 1),
            _ => Ok(()),
        }
    }

    async fn add_usage(
        &self,
        now: i64,
        exp: i64,
        shares: i64,
        bytes: i64,
        max: u64,
    ) -> Result<(), RelayError> {
        let full: i64 = self
            .run(
                self.scripts
                    .usage_add
                    .key(USAGE_KEY)
                    .arg(day(now))
                    .arg(day(exp))
                    .arg(shares)
                    .arg(bytes)
                    .arg(max),
            )
            .await?;
        if full == 1 {
            Err(RelayError::StoreFull)
        } else {
            Ok(())
        }
    }

    async fn put_share(
        &self,
        id: &str,
        meta: ShareMeta,
        ciphertext: &[u8],
        now: i64,
        quotas: Quotas,
    ) -> Result<(), RelayError> {
        let len = ciphertext.len() as i64;
        self.take_quota(&meta.owner, now, len, quotas).await?;
        if let Err(e) = self
            .add_usage(now, meta.exp, 1, len, quotas.max_store_bytes)
            .await
        {
            self.take_quota(&meta.owner, now, -len, quotas).await?;
            return Err(e);
        }
        let [m, b, _] = share_keys(id);
        let stored: i64 = self
            .run(
                self.scripts
                    .put
                    .key(m)
                    .key(b)
                    .arg(hex(&meta.owner))
                    .arg(meta.nbf)
                    .arg(meta.exp)
                    .arg(meta.max_uses.map_or(-1, i64::from))
                    .arg(TOMBSTONE_SECONDS)
                    .arg(ciphertext)
                    .arg(meta.reader.map(|k| hex(&k)).unwrap_or_default())
                    .arg(link_field(meta.link.as_ref()))
                    .arg(meta.link.as_ref().map_or(0, |g| g.attempts_left)),
            )
            .await?;
        if stored == 1 {
            return Ok(());
        }
        self.add_usage(now, meta.exp, -1, -len, 0).await?;
        self.take_quota(&meta.owner, now, -len, quotas).await?;
        Err(RelayError::Taken)
    }

    async fn fetch_share(
        &self,
        id: &str,
        now: i64,
        from: &str,
        signer: Option<[u8; 32]>,
        link: bool,
    ) -> Result<Vec<u8>, RelayError> {
        let [m, b, l] = share_keys(id);
        let (n, blob): (i64, Vec<u8>) = self
            .run(
                self.scripts
                    .fetch
                    .key(m)
                    .key(b)
                    .key(l)
                    .arg(now)
                    .arg(from)
                    .arg(crate::share::grant::CLOCK_SKEW)
                    .arg(MAX_LOGGED)
                    .arg(TOMBSTONE_SECONDS)
                    .arg(signer.map(|k| hex(&k)).unwrap_or_default())
                    .arg(u8::from(link)),
            )
            .await?;
        match n {
            -1 => Err(RelayError::NotFound),
            -2 => Err(RelayError::Revoked),
            -3 => Err(RelayError::Expired),
            -4 => Err(RelayError::UsesExhausted),
            -5 => Err(RelayError::ProviderOnly),
            -6 => Err(RelayError::LinkDead),
            _ => Ok(blob),
        }
    }

    async fn meta_of(&self, id: &str) -> Result<ShareMeta, RelayError> {
        let [m, ..] = share_keys(id);
        let fields: Vec<Option<String>> = self
            .query(redis::cmd("HMGET").arg(m).arg(&[
                "owner", "nbf", "exp", "max", "uses", "revoked", "reader", "link", "left",
            ]))
            .await?;
        let bad = || RelayError::Server("store: a malformed share record".into());
        let [owner, nbf, exp, max, uses, revoked, reader, link, left] =
            <[Option<String>; 9]>::try_from(fields).map_err(|_| bad())?;
        let owner = owner.ok_or(RelayError::NotFound)?;
        let int = |v: Option<String>| v.and_then(|v| v.parse::<i64>().ok()).ok_or_else(bad);
        let max = int(max)?;
        Ok(ShareMeta {
            owner: unhex(&owner).ok_or_else(bad)?,
            nbf: int(nbf)?,
            exp: int(exp)?,
            max_uses: u32::try_from(max).ok(),
            uses: u32::try_from(int(uses)?).map_err(|_| bad())?,
            revoked: int(revoked)? == 1,
            reader: match reader.as_deref() {
                None | Some("") => None,
                Some(h) => Some(unhex(h).ok_or_else(bad)?),
            },
            link: match link.as_deref() {
                None | Some("") => None,
                Some(field) => Some(LinkGate {
                    passcode: match field {
                        "open" => None,
                        h => {
                            let (salt, mac) = h.split_at_checked(32).ok_or_else(bad)?;
                            Some(PasscodeCheck {
                                salt: unhex(salt).ok_or_else(bad)?,
                                mac: unhex(mac).ok_or_else(bad)?,
                            })
                        }
                    },
                    attempts_left: u32::try_from(int(left)?).map_err(|_| bad())?,
                }),
            },
        })
    }

    async fn count_wrong_passcode(&self, id: &str) -> Result<u32, RelayError> {
        let [m, ..] = share_keys(id);
        let left: i64 = self.run(&self.scripts.wrong_passcode.key(m)).await?;
        u32::try_from(left).map_err(|_| RelayError::NotFound)
    }

    async fn revoke_share(&self, id: &str, now: i64) -> Result<(), RelayError> {
        let [m, b, _] = share_keys(id);
        let (size, exp): (i64, i64) = self.run(self.scripts.revoke.key(m).key(b)).await?;
        if size < 0 {
            return Err(RelayError::NotFound);
        }
        if size > 0 {
            self.add_usage(now, exp, -1, -size, 0).await?;
        }
        Ok(())
    }

    async fn status_of(&self, id: &str) -> Result<Status, RelayError> {
        let meta = self.meta_of(id).await?;
        let [_, _, l] = share_keys(id);
        let lines: Vec<String> = self.query(redis::cmd("LRANGE").arg(l).arg(0).arg(-1)).await?;
        let accesses = lines
            .iter()
            .filter_map(|line| {
                let mut parts = line.splitn(3, ' ');
                Some(Access {
                    time: parts.next()?.parse().ok()?,
                    n: parts.next()?.parse().ok()?,
                    from: parts.next()?.to_string(),
                })
            })
            .collect();
        Ok(Status {
            uses: meta.uses,
            max_uses: meta.max_uses,
            exp: meta.exp,
            revoked: meta.revoked,
            accesses,
        })
    }

    async fn usage_now(&self, now: i64) -> Result<Usage, RelayError> {
        let all: std::collections::HashMap<String, i64> =
            self.query(redis::cmd("HGETALL").arg(USAGE_KEY)).await?;
        let today = day(now);
        let mut usage = Usage::default();
        for (field, value) in all {
            let Some((kind, d)) = field.split_once(':') else {
                continue;
            };
            if d.parse::<i64>().is_ok_and(|d| d >= today) {
                let value = u64::try_from(value).unwrap_or(0);
                match kind {
                    "s" => usage.shares += value,
                    "b" => usage.bytes += value,
                    _ => {}
                }
            }
        }
        Ok(usage)
    }
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    data_encoding::HEXLOWER
        .decode(text.as_bytes())
        .ok()?
        .try_into()
        .ok()
}

impl ShareStore for RedisStore {
    fn put<'a>(
        &'a self,
        id: &'a str,
        meta: ShareMeta,
        ciphertext: &'a [u8],
        now: i64,
        quotas: Quotas,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.put_share(checked(id)?, meta, ciphertext, now, quotas).await })
    }

    fn fetch<'a>(
        &'a self,
        id: &'a str,
        now: i64,
        from: &'a str,
        signer: Option<[u8; 32]>,
        link: bool,
    ) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move { self.fetch_share(checked(id)?, now, from, signer, link).await })
    }

    fn blob<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let [_, b, _] = share_keys(checked(id)?);
            let blob: Option<Vec<u8>> = self.query(redis::cmd("GET").arg(b)).await?;
            blob.ok_or(RelayError::Revoked)
        })
    }

    fn wrong_passcode<'a>(&'a self, id: &'a str) -> StoreFuture<'a, u32> {
        Box::pin(async move { self.count_wrong_passcode(checked(id)?).await })
    }

    fn meta<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ShareMeta> {
        Box::pin(async move { self.meta_of(checked(id)?).await })
    }

    fn revoke<'a>(&'a self, id: &'a str, now: i64) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.revoke_share(checked(id)?, now).await })
    }

    fn status<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Status> {
        Box::pin(async move { self.status_of(checked(id)?).await })
    }

    fn purge(&self, _now: i64) -> StoreFuture<'_, usize> {
        // Keys expire by themselves; past days leave the usage hash on the next upload.
        Box::pin(std::future::ready(Ok(0)))
    }

    fn admit<'a>(&'a self, client: &'a str, rate: u32, now_ms: i64) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let key = format!("amanat:r:{{{client}}}");
            let ok: i64 = self
                .run(self.scripts.admit.key(key).arg(rate).arg(now_ms))
                .await?;
            Ok(ok == 1)
        })
    }

    fn usage(&self, now: i64) -> StoreFuture<'_, Usage> {
        Box::pin(self.usage_now(now))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let _: String = self.query(&redis::cmd("PING")).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ids_never_reach_redis() {
        // Nothing listens on port 1: an id that got as far as Redis would be
        // "unavailable", not "bad request".
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = RedisStore::single("redis://127.0.0.1:1").unwrap();
            for id in ["a\0b", "a/b", "..", &"x".repeat(10_240), "ünïcode", "a}b"] {
                let err = store.fetch(id, 0, "x", None, false).await.unwrap_err();
                assert!(matches!(err, RelayError::BadRequest(_)), "{id:?}: {err}");
            }
            assert_eq!(
                store.fetch("wellformed", 0, "x", None, false).await.unwrap_err(),
                RelayError::Unavailable
            );
        });
    }

    #[test]
    fn one_share_lives_in_one_cluster_slot() {
        let keys = share_keys("k3vq8m2xk0fa77pz");
        assert!(keys.iter().all(|k| k.contains("{k3vq8m2xk0fa77pz}")));
    }

    #[test]
    fn owners_round_trip_through_hex() {
        let owner = [7u8; 32];
        assert_eq!(unhex(&hex(&owner)), Some(owner));
        assert_eq!(unhex::<32>("zz"), None);
        assert_eq!(unhex::<32>(&hex(&[1u8; 16])), None, "the wrong length");
        let gate = LinkGate {
            passcode: Some(PasscodeCheck::new("4711")),
            attempts_left: 10,
        };
        let field = link_field(Some(&gate));
        let check = gate.passcode.unwrap();
        assert_eq!(field, format!("{}{}", hex(&check.salt), hex(&check.mac)));
        assert_eq!(unhex::<16>(&field[..32]), Some(check.salt));
        assert_eq!(link_field(None), "");
    }
}
