//! Where the relay keeps shares: behind a trait, embedded sled by default.
//!
//! The relay needs little: put a share, fetch it while counting the use
//! atomically, revoke, report status, purge what expired. A national deployment
//! would put the same trait over a distributed store (Redis with key expiry and
//! `INCR` for uses, or an S3-compatible bucket with a small metadata table); the
//! server does not change.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Access, RelayError, Status};

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
}

/// How long after expiry a share's record is kept, so fetchers hear "expired"
/// rather than "not found".
pub const TOMBSTONE_SECONDS: i64 = 30 * 24 * 3600;

/// Fetches of one share kept in its access log.
pub const MAX_LOGGED: u32 = 10_000;

/// A relay's storage.
pub trait ShareStore: Send + Sync + 'static {
    /// Stores a new share; refuses an id that exists.
    fn put(&self, id: &str, meta: ShareMeta, ciphertext: &[u8]) -> Result<(), RelayError>;
    /// Returns the ciphertext and counts the use, unless revoked, expired or exhausted.
    fn fetch(&self, id: &str, now: i64, from: &str) -> Result<Vec<u8>, RelayError>;
    /// The share's metadata.
    fn meta(&self, id: &str) -> Result<ShareMeta, RelayError>;
    /// Revokes: deletes the ciphertext, keeps the record.
    fn revoke(&self, id: &str) -> Result<(), RelayError>;
    /// Uses, limits and the access log.
    fn status(&self, id: &str) -> Result<Status, RelayError>;
    /// Deletes ciphertext of expired shares, and records long expired; returns how many shares changed.
    fn purge(&self, now: i64) -> Result<usize, RelayError>;
}

/// The embedded store: one sled database with trees for metadata, ciphertext and logs.
pub struct SledStore {
    db: sled::Db,
    meta: sled::Tree,
    blobs: sled::Tree,
    log: sled::Tree,
}

fn storage(e: impl std::fmt::Display) -> RelayError {
    RelayError::Server(format!("storage: {e}"))
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
            db,
        })
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<(), RelayError> {
        self.db.flush().map(|_| ()).map_err(storage)
    }

    fn decode(bytes: &[u8]) -> Result<ShareMeta, RelayError> {
        postcard::from_bytes(bytes).map_err(storage)
    }

    fn log_key(id: &str, n: u32) -> Vec<u8> {
        let mut k = id.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(&n.to_be_bytes());
        k
    }
}

impl ShareStore for SledStore {
    fn put(&self, id: &str, meta: ShareMeta, ciphertext: &[u8]) -> Result<(), RelayError> {
        let bytes = postcard::to_allocvec(&meta).map_err(storage)?;
        let fresh = self
            .meta
            .compare_and_swap(id, None as Option<&[u8]>, Some(bytes))
            .map_err(storage)?;
        if fresh.is_err() {
            return Err(RelayError::BadRequest(
                "a share with this grant id exists already".into(),
            ));
        }
        self.blobs.insert(id, ciphertext).map_err(storage)?;
        self.flush()
    }

    fn fetch(&self, id: &str, now: i64, from: &str) -> Result<Vec<u8>, RelayError> {
        let mut verdict: Result<u32, RelayError> = Err(RelayError::NotFound);
        // Count the use atomically: two fetches of a one-use share cannot both win.
        self.meta
            .fetch_and_update(id, |old| {
                let old = old?;
                let mut meta = match Self::decode(old) {
                    Ok(m) => m,
                    Err(e) => {
                        verdict = Err(e);
                        return Some(old.to_vec());
                    }
                };
                verdict = if meta.revoked {
                    Err(RelayError::Revoked)
                } else if now >= meta.exp {
                    Err(RelayError::Expired)
                } else if now < meta.nbf - crate::grant::CLOCK_SKEW {
                    Err(RelayError::NotFound)
                } else if meta.max_uses.is_some_and(|m| meta.uses >= m) {
                    Err(RelayError::UsesExhausted)
                } else {
                    meta.uses += 1;
                    Ok(meta.uses)
                };
                Some(postcard::to_allocvec(&meta).unwrap_or_else(|_| old.to_vec()))
            })
            .map_err(storage)?;
        let n = verdict?;
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

    fn meta(&self, id: &str) -> Result<ShareMeta, RelayError> {
        let bytes = self.meta.get(id).map_err(storage)?.ok_or(RelayError::NotFound)?;
        Self::decode(&bytes)
    }

    fn revoke(&self, id: &str) -> Result<(), RelayError> {
        let mut found = false;
        self.meta
            .fetch_and_update(id, |old| {
                let old = old?;
                found = true;
                let mut meta = Self::decode(old).ok()?;
                meta.revoked = true;
                postcard::to_allocvec(&meta).ok()
            })
            .map_err(storage)?;
        if !found {
            return Err(RelayError::NotFound);
        }
        self.blobs.remove(id).map_err(storage)?;
        self.flush()
    }

    fn status(&self, id: &str) -> Result<Status, RelayError> {
        let meta = self.meta(id)?;
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

    fn purge(&self, now: i64) -> Result<usize, RelayError> {
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
        self.flush()?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(max_uses: Option<u32>) -> ShareMeta {
        ShareMeta {
            owner: [1; 32],
            nbf: 0,
            exp: 1_000,
            max_uses,
            uses: 0,
            revoked: false,
        }
    }

    #[test]
    fn uses_are_counted_and_limited() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        s.put("a", meta(Some(2)), b"ct").unwrap();
        assert!(s.put("a", meta(None), b"x").is_err(), "ids cannot be reused");
        assert_eq!(s.fetch("a", 10, "1.2.3.4").unwrap(), b"ct");
        assert_eq!(s.fetch("a", 11, "1.2.3.4").unwrap(), b"ct");
        assert_eq!(
            s.fetch("a", 12, "1.2.3.4").unwrap_err(),
            RelayError::UsesExhausted
        );
        let st = s.status("a").unwrap();
        assert_eq!((st.uses, st.accesses.len()), (2, 2));
        assert_eq!(s.fetch("b", 10, "x").unwrap_err(), RelayError::NotFound);
    }

    #[test]
    fn revoke_expire_and_purge() {
        let tmp = tempfile::tempdir().unwrap();
        let s = SledStore::open(tmp.path()).unwrap();
        s.put("a", meta(None), b"ct").unwrap();
        s.put("b", meta(None), b"ct").unwrap();
        s.revoke("a").unwrap();
        assert_eq!(s.fetch("a", 10, "x").unwrap_err(), RelayError::Revoked);
        assert_eq!(s.fetch("b", 1_000, "x").unwrap_err(), RelayError::Expired);
        assert_eq!(s.purge(1_001).unwrap(), 1);
        assert!(
            s.blobs.get("b").unwrap().is_none(),
            "expired ciphertext is deleted"
        );
        assert_eq!(s.fetch("b", 1_002, "x").unwrap_err(), RelayError::Expired);
        s.purge(1_000 + TOMBSTONE_SECONDS).unwrap();
        assert_eq!(
            s.fetch("b", 1_000 + TOMBSTONE_SECONDS, "x").unwrap_err(),
            RelayError::NotFound
        );
    }

    #[test]
    fn concurrent_fetches_never_exceed_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let s = std::sync::Arc::new(SledStore::open(tmp.path()).unwrap());
        s.put("a", meta(Some(10)), b"ct").unwrap();
        let wins: usize = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || (0..10).filter(|_| s.fetch("a", 5, "x").is_ok()).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(wins, 10);
    }
}
