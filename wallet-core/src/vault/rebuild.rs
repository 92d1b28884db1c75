//! Rewriting the whole database into a fresh one and swapping it in, for key
//! rotation (every value sealed again under a new data key) and for format
//! upgrades. A fresh database, not changes in place: sled keeps overwritten
//! and deleted bytes in its files until it reuses the space, so only a new
//! file is sure to hold nothing of what was replaced.
//!
//! Crash safety. The new database is written beside the old one (`db.new`) and
//! flushed, with the new keyring (`keyring.new`) when the keys change; then
//! `db` → `db.old`, `db.new` → `db`, `keyring.new` → `keyring.age`, and
//! `db.old` is removed. [`recover`] runs before every open and finishes or
//! undoes an interrupted swap from which of these exist, so the wallet is
//! always wholly old (old keyring, old database) or wholly new.

use std::fs;
use std::path::Path;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::seal::{CodeSealer, Sealer};
use super::{
    DB, KEYRING, Keys, MAX_KDF_LOG_N, MIN_KDF_LOG_N, P_DEDUP, P_PLUGIN_CODE, P_RECORD, Result, Vault,
    VaultError, io_err, keyring, open_db,
};
use crate::audit::{Actor, Event};

const DB_NEW: &str = "db.new";
const DB_OLD: &str = "db.old";
const KEYRING_NEW: &str = "keyring.new";

/// Entries written per batch into the new database.
const BATCH: usize = 1_000;

/// Finishes or undoes a rebuild a crash interrupted. Runs under the wallet's
/// lock, before the keyring is read; needs no passphrase.
pub(super) fn recover(dir: &Path) -> Result<()> {
    let (db, new, old, keyring_new) = (
        dir.join(DB),
        dir.join(DB_NEW),
        dir.join(DB_OLD),
        dir.join(KEYRING_NEW),
    );
    if new.exists() && db.exists() {
        // Stopped while the new database was being written: undo.
        fs::remove_dir_all(&new).map_err(io_err("cannot remove", &new))?;
    } else if new.exists() {
        // Stopped between the two renames: the new database is complete.
        fs::rename(&new, &db).map_err(io_err("cannot rename", &new))?;
    }
    if old.exists() {
        // The new database is in place: its keyring goes with it.
        if keyring_new.exists() {
            fs::rename(&keyring_new, dir.join(KEYRING)).map_err(io_err("cannot rename", &keyring_new))?;
        }
        fs::remove_dir_all(&old).map_err(io_err("cannot remove", &old))?;
    } else if keyring_new.exists() {
        fs::remove_file(&keyring_new).map_err(io_err("cannot remove", &keyring_new))?;
    }
    Ok(())
}

impl Vault {
    /// Writes every entry of the database, as `entry` maps it (to nothing, or
    /// to new key-value pairs), and then `extra`, into a fresh `db.new`.
    /// Returns how many entries were written.
    pub(super) fn copy_db(
        &self,
        mut entry: impl FnMut(&[u8], &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>,
        extra: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> Result<u64> {
        let path = self.dir.join(DB_NEW);
        if path.exists() {
            fs::remove_dir_all(&path).map_err(io_err("cannot remove", &path))?;
        }
        let fresh = open_db(&path)?;
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        let mut written = 0;
        let mut put = |batch: &mut sled::Batch, k: Vec<u8>, v: Vec<u8>| -> Result<()> {
            batch.insert(k, v);
            pending += 1;
            written += 1;
            if pending == BATCH {
                fresh.apply_batch(std::mem::take(batch))?;
                pending = 0;
            }
            Ok(())
        };
        for item in self.db().iter() {
            let (k, v) = item?;
            for (k, v) in entry(&k, &v)? {
                put(&mut batch, k, v)?;
            }
        }
        for (k, v) in extra {
            put(&mut batch, k, v)?;
        }
        fresh.apply_batch(batch)?;
        fresh.flush()?;
        Ok(written)
    }

    /// Swaps the database [`Vault::copy_db`] wrote in, with `keyring` (the new
    /// keyring file's bytes) when the keys change, and reopens it.
    pub(super) fn swap_db(&mut self, keyring: Option<&[u8]>) -> Result<()> {
        let dir = self.dir.clone();
        if let Some(bytes) = keyring {
            super::write_atomic(&dir.join(KEYRING_NEW), bytes)?;
        }
        if let Some(db) = self.db.take() {
            db.flush()?;
            drop(db);
        }
        let (db, new, old) = (dir.join(DB), dir.join(DB_NEW), dir.join(DB_OLD));
        fs::rename(&db, &old).map_err(io_err("cannot rename", &db))?;
        fs::rename(&new, &db).map_err(io_err("cannot rename", &new))?;
        sync_dir(&dir)?;
        recover(&dir)?;
        sync_dir(&dir)?;
        self.db = Some(open_db(&db)?);
        Ok(())
    }
}

/// Makes renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| VaultError::Io {
            action: "cannot sync",
            path: dir.to_path_buf(),
            source,
        })
}

impl Vault {
    /// Seals every value again under a new data key, and the keyring under
    /// `passphrase`, so an old copy of `keyring.age` (with the passphrase it
    /// was sealed with) opens nothing any more. The wallet's identity (signing
    /// key and age key) stays, so its shares and wallet ID stay valid; the
    /// index key stays too, so storage names need no recomputing. Returns how
    /// many values were sealed again.
    pub fn rotate_keys(&mut self, passphrase: &SecretString, kdf_log_n: Option<u8>) -> Result<u64> {
        let kdf_log_n = kdf_log_n.unwrap_or(self.keys.kdf_log_n);
        if !(MIN_KDF_LOG_N..=MAX_KDF_LOG_N).contains(&kdf_log_n) {
            return Err(VaultError::WorkFactor(kdf_log_n));
        }
        let keys = Keys {
            age: self.keys.age.clone(),
            signing: self.keys.signing.clone(),
            data_key: Zeroizing::new(rand::random()),
            index_key: self.keys.index_key.clone(),
            kdf_log_n,
        };
        let records = Sealer::derive(&keys.data_key, "records");
        let meta = Sealer::derive(&keys.data_key, "metadata");
        let code = CodeSealer::derive(&keys.data_key, "plugin code");
        let copied = self.copy_db(
            |k, v| {
                // The duplicate index holds plain record ids.
                if k.starts_with(P_DEDUP) {
                    return Ok(vec![(k.to_vec(), v.to_vec())]);
                }
                let damaged = |_| {
                    VaultError::Integrity(format!(
                        "a stored value (key {}…); nothing was changed",
                        String::from_utf8_lossy(&k[..k.len().min(2)])
                    ))
                };
                if let Some(len) = CodeSealer::opened_len(v).filter(|_| k.starts_with(P_PLUGIN_CODE)) {
                    let mut plain = vec![0; len];
                    self.code.open_into(k, v, &mut plain).map_err(damaged)?;
                    return Ok(vec![(k.to_vec(), code.seal(k, &plain))]);
                }
                let (old, new) = if k.starts_with(P_RECORD) {
                    (&self.records, &records)
                } else {
                    (&self.meta, &meta)
                };
                let plain = old.open(k, v).map_err(damaged)?;
                Ok(vec![(k.to_vec(), new.seal(k, &plain))])
            },
            Vec::new(),
        );
        let copied = match copied {
            Ok(n) => n,
            Err(e) => {
                let _ = fs::remove_dir_all(self.dir.join(DB_NEW));
                return Err(e);
            }
        };
        self.swap_db(Some(&keyring::seal(&keys, passphrase)))?;
        self.records = records;
        self.meta = meta;
        self.code = code;
        self.keys = keys;
        self.audit(Actor::Patient, Event::KeysRotated { values: copied })?;
        Ok(copied)
    }
}
