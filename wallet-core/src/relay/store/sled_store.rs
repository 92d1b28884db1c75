//! The embedded store: one sled database, for a relay that runs alone.
//!
//! Trees: `meta` (id → postcard [`ShareMeta`]), `blobs` (id → ciphertext),
//! `log` (id ‖ 0 ‖ n → access JSON), `quota` (owner ‖ day → uploads, bytes),
//! `usage` (expiry day → shares, bytes). Rate-limit buckets live in memory:
//! one process serves them all.
//!
//! Durability: a write is flushed to disk before the call returns (an upload
//! before `201`, a counted use before the ciphertext goes out), so a relay
//! killed at any moment never forgets a use it answered. Concurrent callers
//! share one flush (group commit): see [`SledStore::durable`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{MAX_LOGGED, Quotas, ShareMeta, ShareStore, StoreFuture, TOMBSTONE_SECONDS, Usage, checked, day};
use crate::relay::{Access, RelayError, Status};

/// The embedded store.
pub struct SledStore {
    db: sled::Db,
    meta: sled::Tree,
    blobs: sled::Tree,
    log: sled::Tree,
    quota: sled::Tree,
    usage: sled::Tree,
    /// Serialises uploads' read-check-write of quotas and usage.
    accounting: Mutex<()>,
    /// Writes made so far, and how many of them a flush has covered.
    written: AtomicU64,
    flushed: AtomicU64,
    flushing: tokio::sync::Mutex<()>,
    buckets: Mutex<HashMap<String, (f64, i64)>>,
}

fn storage(e: impl std::fmt::Display) -> RelayError {
    RelayError::Server(format!("storage: {e}"))
}

fn pair(bytes: Option<sled::IVec>) -> Result<(u64, u64), RelayError> {
    bytes.map_or(Ok((0, 0)), |b| postcard::from_bytes(&b).map_err(storage))
}

fn ready<'a, T: Send + 'a>(r: Result<T, RelayError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(r))
}

impl SledStore {
    /// Opens or creates the store at `dir`.
    pub fn open(dir: &Path) -> Result<SledStore, RelayError> {
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(storage)?;
        Ok(SledStore {
            meta: db.open_tree("meta").map_err(storage)?,
            blobs: db.open_tree("blobs").map_err(storage)?,
            log: db.open_tree("log").map_err(storage)?,
            quota: db.open_tree("quota").map_err(storage)?,
            usage: db.open_tree("usage").map_err(storage)?,
            db,
            accounting: Mutex::new(()),
            written: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            flushing: tokio::sync::Mutex::new(()),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Returns once everything written before the call is on disk. Callers
    /// queue for one flush at a time; whoever flushes covers every write made
    /// before it started, so the callers that waited meanwhile return without
    /// another flush. Under load many uses share one fsync.
    async fn durable(&self) -> Result<(), RelayError> {
        let mine = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        if self.flushed.load(Ordering::SeqCst) >= mine {
            return Ok(());
        }
        let _turn = self.flushing.lock().await;
        if self.flushed.load(Ordering::SeqCst) >= mine {
            return Ok(());
        }
        let covered = self.written.load(Ordering::SeqCst);
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(storage)?
            .map_err(storage)?;
        self.flushed.fetch_max(covered, Ordering::SeqCst);
        Ok(())
    }

    fn decode(bytes: &[u8]) -> Result<ShareMeta, RelayError> {
        /// A share stored before SMART Health Links existed.
        #[derive(serde::Deserialize)]
        struct BeforeLinks {
            owner: [u8; 32],
            nbf: i64,
            exp: i64,
            max_uses: Option<u32>,
            uses: u32,
            revoked: bool,
            reader: Option<[u8; 32]>,
        }
        /// A share stored before provider-only fetches existed.
        #[derive(serde::Deserialize)]
        struct Before {
            owner: [u8; 32],
            nbf: i64,
            exp: i64,
            max_uses: Option<u32>,
            uses: u32,
            revoked: bool,
        }
        // postcard reads a prefix; a current record is only taken as such if
        // nothing is left over.
        if let Ok((meta, [])) = postcard::take_from_bytes::<ShareMeta>(bytes) {
            return Ok(meta);
        }
        let b = match postcard::take_from_bytes::<BeforeLinks>(bytes) {
            Ok((b, [])) => b,
            _ => {
                let b: Before = postcard::from_bytes(bytes).map_err(storage)?;
                BeforeLinks {
                    owner: b.owner,
                    nbf: b.nbf,
                    exp: b.exp,
                    max_uses: b.max_uses,
                    uses: b.uses,
                    revoked: b.revoked,
                    reader: None,
                }
            }
        };
        Ok(ShareMeta {
            owner: b.owner,
            nbf: b.nbf,
            exp: b.exp,
            max_uses: b.max_uses,
            uses: b.uses,
            revoked: b.revoked,
            reader: b.reader,
            link: None,
        })
    }

    fn log_key(id: &str, n: u32) -> Vec<u8> {
        let mut k = id.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(&n.to_be_bytes());
        k
    }

    fn quota_key(owner: &[u8; 32], day: i64) -> Vec<u8> {
        let mut k = owner.to_vec();
        k.extend_from_slice(&day.to_be_bytes());
        k
    }

    /// Adds `shares` and `bytes` (negative to give back) to a day's usage.
    fn add_usage(&self, day: i64, shares: i64, bytes: i64) -> Result<(), RelayError> {
        let key = day.to_be_bytes();
        let (s, b) = pair(self.usage.get(key).map_err(storage)?)?;
        let next = (s.saturating_add_signed(shares), b.saturating_add_signed(bytes));
        self.usage
            .insert(key, postcard::to_allocvec(&next).map_err(storage)?)
            .map_err(storage)?;
        Ok(())
    }

    fn put_now(
        &self,
        id: &str,
        meta: ShareMeta,
        ciphertext: &[u8],
        now: i64,
        quotas: Quotas,
    ) -> Result<(), RelayError> {
        let _one = self.accounting.lock().unwrap_or_else(|p| p.into_inner());
        if self.meta.contains_key(id).map_err(storage)? {
            return Err(RelayError::Taken);
        }
        let len = ciphertext.len() as u64;
        let qkey = Self::quota_key(&meta.owner, day(now));
        let (uploads, bytes) = pair(self.quota.get(&qkey).map_err(storage)?)?;
        quotas.check_key(uploads, bytes, len)?;
        quotas.check_store(self.usage_now(now)?.bytes, len)?;
        self.blobs.insert(id, ciphertext).map_err(storage)?;
        self.meta
            .insert(id, postcard::to_allocvec(&meta).map_err(storage)?)
            .map_err(storage)?;
        self.quota
            .insert(
                qkey,
                postcard::to_allocvec(&(uploads + 1, bytes + len)).map_err(storage)?,
            )
            .map_err(storage)?;
        self.add_usage(day(meta.exp), 1, len as i64)
    }

    fn fetch_now(
        &self,
        id: &str,
        now: i64,
        from: &str,
        signer: Option<[u8; 32]>,
        link: bool,
    ) -> Result<Vec<u8>, RelayError> {
        // Count the use atomically: two fetches of a one-use share cannot both win.
        let n = self.update_meta(id, |meta| {
            if meta.link.is_some() != link {
                return Err(RelayError::NotFound);
            }
            meta.openable(now, signer)?;
            meta.uses += 1;
            Ok(meta.uses)
        })??;
        let blob = self.blobs.get(id).map_err(storage)?.ok_or(RelayError::Revoked)?;
        // The use count is exact; the log keeps the first MAX_LOGGED fetches so an
        // unlimited share fetched in a loop cannot fill the disk.
        if n <= MAX_LOGGED {
            let access = Access {
                time: now,
                from: from.to_string(),
                n,
            };
            self.log
                .insert(
                    Self::log_key(id, n),
                    serde_json::to_vec(&access).map_err(storage)?,
                )
                .map_err(storage)?;
        }
        Ok(blob.to_vec())
    }

    fn wrong_passcode_now(&self, id: &str) -> Result<u32, RelayError> {
        self.update_meta(id, |meta| {
            let gate = meta.link.as_mut().ok_or(RelayError::NotFound)?;
            gate.attempts_left = gate.attempts_left.saturating_sub(1);
            Ok(gate.attempts_left)
        })?
    }

    /// Changes a share's record atomically with `change`, which says what to
    /// answer (its record is written back either way, changed or not); the
    /// outer error is for a missing or unreadable record.
    fn update_meta<T>(
        &self,
        id: &str,
        mut change: impl FnMut(&mut ShareMeta) -> Result<T, RelayError>,
    ) -> Result<Result<T, RelayError>, RelayError> {
        let mut answer = None;
        self.meta
            .fetch_and_update(id, |old| {
                let old = old?;
                match Self::decode(old) {
                    Ok(mut meta) => {
                        answer = Some(Ok(change(&mut meta)));
                        Some(postcard::to_allocvec(&meta).unwrap_or_else(|_| old.to_vec()))
                    }
                    Err(e) => {
                        answer = Some(Err(e));
                        Some(old.to_vec())
                    }
                }
            })
            .map_err(storage)?;
        answer.unwrap_or(Err(RelayError::NotFound))
    }

    fn meta_now(&self, id: &str) -> Result<ShareMeta, RelayError> {
        let bytes = self.meta.get(id).map_err(storage)?.ok_or(RelayError::NotFound)?;
        Self::decode(&bytes)
    }

    fn revoke_now(&self, id: &str) -> Result<(), RelayError> {
        let exp = self.update_meta(id, |meta| {
            meta.revoked = true;
            Ok(meta.exp)
        })??;
        if let Some(blob) = self.blobs.remove(id).map_err(storage)? {
            let _one = self.accounting.lock().unwrap_or_else(|p| p.into_inner());
            self.add_usage(day(exp), -1, -(blob.len() as i64))?;
        }
        Ok(())
    }

    fn status_now(&self, id: &str) -> Result<Status, RelayError> {
        let meta = self.meta_now(id)?;
        let mut prefix = id.as_bytes().to_vec();
        prefix.push(0);
        let accesses = self
            .log
            .scan_prefix(prefix)
            .values()
            .map(|v| {
                v.map_err(storage)
                    .and_then(|b| serde_json::from_slice(&b).map_err(storage))
            })
            .collect::<Result<Vec<Access>, _>>()?;
        Ok(Status {
            uses: meta.uses,
            max_uses: meta.max_uses,
            exp: meta.exp,
            revoked: meta.revoked,
            accesses,
        })
    }

    fn purge_now(&self, now: i64) -> Result<usize, RelayError> {
        let mut changed = 0;
        for item in self.meta.iter() {
            let (id, bytes) = item.map_err(storage)?;
            let meta = Self::decode(&bytes)?;
            if now >= meta.exp && self.blobs.remove(&id).map_err(storage)?.is_some() {
                changed += 1;
            }
            if now >= meta.exp + TOMBSTONE_SECONDS {
                self.meta.remove(&id).map_err(storage)?;
                let mut prefix = id.to_vec();
                prefix.push(0);
                for key in self.log.scan_prefix(prefix).keys() {
                    self.log.remove(key.map_err(storage)?).map_err(storage)?;
                }
                changed += 1;
            }
        }
        let today = day(now);
        let _one = self.accounting.lock().unwrap_or_else(|p| p.into_inner());
        for key in self.usage.range(..today.to_be_bytes()).keys() {
            self.usage.remove(key.map_err(storage)?).map_err(storage)?;
        }
        // Quota keys end with their day; yesterday's may still be read by a
        // relay whose clock is behind.
        for key in self.quota.iter().keys() {
            let key = key.map_err(storage)?;
            let kday = key
                .get(32..40)
                .and_then(|d| <[u8; 8]>::try_from(d).ok())
                .map(i64::from_be_bytes);
            if kday.is_none_or(|d| d < today - 1) {
                self.quota.remove(key).map_err(storage)?;
            }
        }
        Ok(changed)
    }

    fn usage_now(&self, now: i64) -> Result<Usage, RelayError> {
        let mut usage = Usage::default();
        // Day keys are big-endian: the range holds today and later days
        // (expiry days are never negative for a live share).
        for item in self.usage.range(day(now).max(0).to_be_bytes()..) {
            let (_, v) = item.map_err(storage)?;
            let (s, b) = pair(Some(v))?;
            usage.shares += s;
            usage.bytes += b;
        }
        Ok(usage)
    }

    fn admit_now(&self, client: &str, rate: u32, now_ms: i64) -> bool {
        let rate = f64::from(rate);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Forget idle clients rather than grow without bound.
            buckets.retain(|_, (_, last)| now_ms - *last < 60_000);
        }
        let (tokens, last) = buckets.entry(client.to_string()).or_insert((2.0 * rate, now_ms));
        let elapsed = (now_ms - *last).max(0) as f64 / 1000.0;
        *tokens = (*tokens + elapsed * rate).min(2.0 * rate);
        *last = now_ms.max(*last);
        if *tokens < 1.0 {
            return false;
        }
        *tokens -= 1.0;
        true
    }
}

impl ShareStore for SledStore {
    fn put<'a>(
        &'a self,
        id: &'a str,
        meta: ShareMeta,
        ciphertext: &'a [u8],
        now: i64,
        quotas: Quotas,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.put_now(checked(id)?, meta, ciphertext, now, quotas)?;
            self.durable().await
        })
    }

    fn fetch<'a>(
        &'a self,
        id: &'a str,
        now: i64,
        from: &'a str,
        signer: Option<[u8; 32]>,
        link: bool,
    ) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let blob = self.fetch_now(checked(id)?, now, from, signer, link)?;
            self.durable().await?;
            Ok(blob)
        })
    }

    fn blob<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Vec<u8>> {
        ready(checked(id).and_then(|id| {
            let blob = self.blobs.get(id).map_err(storage)?;
            Ok(blob.ok_or(RelayError::Revoked)?.to_vec())
        }))
    }

    fn wrong_passcode<'a>(&'a self, id: &'a str) -> StoreFuture<'a, u32> {
        Box::pin(async move {
            let left = self.wrong_passcode_now(checked(id)?)?;
            self.durable().await?;
            Ok(left)
        })
    }

    fn meta<'a>(&'a self, id: &'a str) -> StoreFuture<'a, ShareMeta> {
        ready(checked(id).and_then(|id| self.meta_now(id)))
    }

    fn revoke<'a>(&'a self, id: &'a str, _now: i64) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.revoke_now(checked(id)?)?;
            self.durable().await
        })
    }

    fn status<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Status> {
        ready(checked(id).and_then(|id| self.status_now(id)))
    }

    fn purge(&self, now: i64) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let changed = self.purge_now(now)?;
            self.durable().await?;
            Ok(changed)
        })
    }

    fn admit<'a>(&'a self, client: &'a str, rate: u32, now_ms: i64) -> StoreFuture<'a, bool> {
        ready(Ok(self.admit_now(client, rate, now_ms)))
    }

    fn usage(&self, now: i64) -> StoreFuture<'_, Usage> {
        ready(self.usage_now(now))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::store::{DAY, LinkGate, PasscodeCheck};

    fn meta(max_uses: Option<u32>) -> ShareMeta {
        ShareMeta {
            owner: [1; 32],
            nbf: 0,
            exp: 1_000,
            max_uses,
            uses: 0,
            revoked: false,
            reader: None,
            link: None,
        }
    }

    const OPEN: Quotas = Quotas {
        uploads_per_key_per_day: 0,
        bytes_per_key_per_day: 0,
        max_store_bytes: 0,
    };

    fn block<T>(f: StoreFuture<'_, T>) -> Result<T, RelayError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn uses_are_counted_and_limited() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        block(s.put("a", meta(Some(2)), b"ct", 0, OPEN)).unwrap();
        assert_eq!(
            block(s.put("a", meta(None), b"x", 0, OPEN)).unwrap_err(),
            RelayError::Taken,
            "ids cannot be reused"
        );
        assert_eq!(block(s.fetch("a", 10, "1.2.3.4", None, false)).unwrap(), b"ct");
        assert_eq!(block(s.fetch("a", 11, "1.2.3.4", None, false)).unwrap(), b"ct");
        assert_eq!(
            block(s.fetch("a", 12, "1.2.3.4", None, false)).unwrap_err(),
            RelayError::UsesExhausted
        );
        let st = block(s.status("a")).unwrap();
        assert_eq!((st.uses, st.accesses.len()), (2, 2));
        assert_eq!(
            block(s.fetch("b", 10, "x", None, false)).unwrap_err(),
            RelayError::NotFound
        );
    }

    #[test]
    fn revoke_expire_and_purge() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        block(s.put("a", meta(None), b"ct", 0, OPEN)).unwrap();
        block(s.put("b", meta(None), b"ct", 0, OPEN)).unwrap();
        block(s.revoke("a", 0)).unwrap();
        assert_eq!(
            block(s.fetch("a", 10, "x", None, false)).unwrap_err(),
            RelayError::Revoked
        );
        assert_eq!(
            block(s.fetch("b", 1_000, "x", None, false)).unwrap_err(),
            RelayError::Expired
        );
        assert_eq!(block(s.purge(1_001)).unwrap(), 1);
        assert!(
            s.blobs.get("b").unwrap().is_none(),
            "expired ciphertext is deleted"
        );
        assert_eq!(
            block(s.fetch("b", 1_002, "x", None, false)).unwrap_err(),
            RelayError::Expired
        );
        block(s.purge(1_000 + TOMBSTONE_SECONDS)).unwrap();
        assert_eq!(
            block(s.fetch("b", 1_000 + TOMBSTONE_SECONDS, "x", None, false)).unwrap_err(),
            RelayError::NotFound
        );
    }

    #[test]
    fn quotas_and_the_store_size_are_held_and_given_back() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        let q = Quotas {
            uploads_per_key_per_day: 3,
            bytes_per_key_per_day: 0,
            max_store_bytes: 10,
        };
        block(s.put("a", meta(None), b"1234", 0, q)).unwrap();
        block(s.put("b", meta(None), b"1234", 0, q)).unwrap();
        assert_eq!(
            block(s.put("c", meta(None), b"1234", 0, q)).unwrap_err(),
            RelayError::StoreFull
        );
        assert_eq!(block(s.usage(0)).unwrap(), Usage { shares: 2, bytes: 8 });
        // A revoke gives its bytes back; the key's daily count stays spent.
        block(s.revoke("a", 0)).unwrap();
        block(s.put("c", meta(None), b"1234", 0, q)).unwrap();
        assert!(matches!(
            block(s.put("d", meta(None), b"1", 0, q)).unwrap_err(),
            RelayError::QuotaExceeded(_)
        ));
        // Tomorrow the key may upload again; expired days no longer count.
        block(s.put("d", meta(None), b"1", DAY, q)).unwrap();
        assert_eq!(block(s.usage(DAY)).unwrap(), Usage::default());
        block(s.purge(DAY)).unwrap();
        assert_eq!(s.usage.len(), 0);
    }

    #[test]
    fn concurrent_fetches_never_exceed_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let s = std::sync::Arc::new(SledStore::open(tmp.path()).unwrap());
        block(s.put("a", meta(Some(10)), b"ct", 0, OPEN)).unwrap();
        let wins: usize = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..10)
                        .filter(|_| block(s.fetch("a", 5, "x", None, false)).is_ok())
                        .count()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(wins, 10);
    }

    #[test]
    fn token_buckets_refill_with_the_callers_clock() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        let admitted = (0..10).filter(|_| s.admit_now("1.2.3.4", 2, 0)).count();
        assert_eq!(admitted, 4, "a burst of twice the rate");
        assert!(s.admit_now("5.6.7.8", 2, 0), "buckets are per client");
        assert!(!s.admit_now("1.2.3.4", 2, 100));
        assert!(s.admit_now("1.2.3.4", 2, 600), "refilled at the rate");
    }

    #[test]
    fn a_share_stored_before_readers_existed_still_reads() {
        let before = postcard::to_allocvec(&([1u8; 32], 0i64, 1_000i64, Some(3u32), 2u32, false)).unwrap();
        let meta = SledStore::decode(&before).unwrap();
        assert_eq!(
            (meta.exp, meta.max_uses, meta.uses, meta.reader),
            (1_000, Some(3), 2, None)
        );
        let now = postcard::to_allocvec(&ShareMeta {
            reader: Some([2; 32]),
            ..meta
        })
        .unwrap();
        assert_eq!(SledStore::decode(&now).unwrap().reader, Some([2; 32]));
        // Before SMART Health Links: reader, no link gate.
        let before_links = postcard::to_allocvec(&(
            [1u8; 32],
            0i64,
            1_000i64,
            None::<u32>,
            0u32,
            false,
            Some([2u8; 32]),
        ))
        .unwrap();
        let meta = SledStore::decode(&before_links).unwrap();
        assert_eq!((meta.reader, meta.link), (Some([2; 32]), None));
    }

    #[test]
    fn a_link_share_opens_only_as_a_link_and_dies_after_its_wrong_passcodes() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        let gate = LinkGate {
            passcode: Some(PasscodeCheck::new("4711")),
            attempts_left: 3,
        };
        let linked = ShareMeta {
            link: Some(gate),
            ..meta(None)
        };
        block(s.put("l", linked, b"jwe", 0, OPEN)).unwrap();
        block(s.put("p", meta(None), b"ct", 0, OPEN)).unwrap();
        assert_eq!(
            block(s.fetch("l", 10, "x", None, false)).unwrap_err(),
            RelayError::NotFound
        );
        assert_eq!(
            block(s.fetch("p", 10, "x", None, true)).unwrap_err(),
            RelayError::NotFound
        );
        assert_eq!(block(s.fetch("l", 10, "x", None, true)).unwrap(), b"jwe");
        assert_eq!(block(s.wrong_passcode("p")).unwrap_err(), RelayError::NotFound);
        assert_eq!(block(s.wrong_passcode("l")).unwrap(), 2);
        assert_eq!(block(s.wrong_passcode("l")).unwrap(), 1);
        assert_eq!(block(s.wrong_passcode("l")).unwrap(), 0);
        assert_eq!(block(s.wrong_passcode("l")).unwrap(), 0);
        assert_eq!(
            block(s.fetch("l", 10, "x", None, true)).unwrap_err(),
            RelayError::LinkDead
        );
        let kept = block(s.meta("l")).unwrap().link.unwrap();
        assert!(
            kept.passcode.unwrap().matches("4711"),
            "the check survives storage"
        );
    }

    #[test]
    fn any_not_before_in_a_grant_is_compared_without_overflow() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        let early = ShareMeta {
            nbf: i64::MIN,
            ..meta(None)
        };
        let late = ShareMeta {
            nbf: i64::MAX,
            exp: i64::MAX,
            ..meta(None)
        };
        block(s.put("early", early, b"ct", 0, OPEN)).unwrap();
        block(s.put("late", late, b"ct", 0, OPEN)).unwrap();
        assert_eq!(block(s.fetch("early", 10, "x", None, false)).unwrap(), b"ct");
        assert_eq!(
            block(s.fetch("late", 10, "x", None, false)).unwrap_err(),
            RelayError::NotFound
        );
    }
}
