//! The vault: an encrypted sled database of records, profiles and the audit log.
//!
//! On disk, a vault directory holds:
//!
//! | file          | what                                                        |
//! |---------------|-------------------------------------------------------------|
//! | `vault.json`  | `{"format":"amanat-vault","version":1}`: nothing personal    |
//! | `keyring.age` | the keys, age-encrypted with the passphrase (scrypt)        |
//! | `lock`        | held while a process has the vault open                     |
//! | `db/`         | sled: every value sealed under the data key (see `seal`)    |
//!
//! Keys in sled are random ids or sequence numbers; values are sealed. Every
//! change (records, catalog pages, dedup index, audit entry) is one atomic sled
//! batch, flushed before the call returns, so a crash leaves each change whole
//! or absent. See `docs/vault-format.md`.

mod catalog;
mod keyring;
mod migrate;
mod rebuild;
mod seal;

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::catalog::Query;
use self::catalog::{Directory, bucket_of, sort_newest_first};
use self::keyring::KeyringError;
pub use self::keyring::{DEFAULT_KDF_LOG_N, Keys, MAX_KDF_LOG_N, MIN_KDF_LOG_N};
use self::seal::Sealer;
use crate::audit::{Actor, AuditEntry, ChainError, Event};
use crate::fhir::Resource;
use crate::ids::{ProfileId, RecordId, WalletId};
use crate::profile::{Profile, Relationship};
use crate::record::{NewRecord, RecordMeta};

/// Why a vault operation failed. Messages say what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// There is no vault at the path.
    #[error("no Amanat wallet at {0} (create one with `amanat init`, or pass --vault)")]
    NotFound(PathBuf),
    /// `init` on a path that already holds a vault.
    #[error("a wallet already exists at {0}")]
    AlreadyExists(PathBuf),
    /// `init` on a directory that holds other files.
    #[error("{0} is not empty and holds no wallet: choose a new or empty directory (nothing was changed)")]
    NotEmpty(PathBuf),
    /// The passphrase did not open the keyring.
    #[error("wrong passphrase for the wallet at {0}")]
    WrongPassphrase(PathBuf),
    /// Another process has the vault open.
    #[error("the wallet at {0} is in use by another Amanat process (close it and try again)")]
    InUse(PathBuf),
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Which file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The database itself failed.
    #[error("the wallet database failed: {0}")]
    Storage(#[from] sled::Error),
    /// A stored value failed its integrity check.
    #[error("{0} fails its integrity check: its stored bytes were changed or damaged")]
    Integrity(String),
    /// The keyring could not be read.
    #[error("the wallet's keyring cannot be opened: {0}")]
    Keyring(String),
    /// The vault was written by a newer Amanat.
    #[error("the wallet at {path} has format version {found}; this Amanat reads version {VAULT_VERSION}")]
    Version {
        /// The vault.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// No record has that id.
    #[error("no record '{0}' in this wallet")]
    RecordNotFound(String),
    /// No share has that id.
    #[error("no share '{0}' in this wallet (see `amanat grants`)")]
    GrantNotFound(String),
    /// A short id matches several records.
    #[error("'{0}' matches {1} records; type more of the id")]
    AmbiguousId(String, usize),
    /// No profile has that handle.
    #[error("no profile '{0}' (see `amanat profile list`)")]
    ProfileNotFound(String),
    /// A profile handle is taken.
    #[error("a profile '{0}' already exists; choose another --handle")]
    ProfileExists(String),
    /// A profile with records cannot be removed.
    #[error("profile '{0}' still has {1} record(s); delete or export them first")]
    ProfileNotEmpty(String, usize),
    /// The owner's profile cannot be removed.
    #[error("the wallet owner's profile cannot be removed")]
    OwnerProfile,
    /// Passphrase parameters out of range.
    #[error("scrypt work factor {0} is out of range ({MIN_KDF_LOG_N}-{MAX_KDF_LOG_N})")]
    WorkFactor(u8),
}

type Result<T, E = VaultError> = std::result::Result<T, E>;

/// Records per atomic commit in [`Vault::import_records`].
pub const IMPORT_CHUNK: usize = 2000;

/// The vault format version this code writes. Version 1 wallets are upgraded
/// when they are first opened (`vault/migrate.rs`).
pub const VAULT_VERSION: u32 = 2;

const MARKER: &str = "vault.json";
const KEYRING: &str = "keyring.age";
const LOCK: &str = "lock";
const DB: &str = "db";

const K_INFO: &[u8] = b"m/info";
/// The catalog directory and the audit head, sealed together (version 2).
const K_STATE: &[u8] = b"m/state";
const P_RECORD: &[u8] = b"r/";
const P_PAGE: &[u8] = b"c/";
const P_DEDUP: &[u8] = b"h/";
const P_AUDIT: &[u8] = b"a/";
const P_PROFILE: &[u8] = b"p/";
const P_GRANT: &[u8] = b"g/";
const P_REGISTRY: &[u8] = b"t/";
const P_PLUGIN: &[u8] = b"w/";
const P_PLUGIN_BYTES: &[u8] = b"wb/";
const P_PLUGIN_CODE: &[u8] = b"wc/";

fn key(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + rest.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(rest);
    k
}

#[derive(Serialize, Deserialize)]
struct Marker {
    format: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct Info {
    created: i64,
    owner: ProfileId,
    /// The layout of `db/`: 2 once the wallet has `m/state` and keyed names.
    /// Sealed, so an old marker cannot talk a version 2 wallet into a
    /// "migration" that would accept a deleted state.
    #[serde(default)]
    layout: u32,
}

/// The catalog directory and the audit head in one sealed value, so neither
/// can be rolled back or deleted alone: an older head brings its older
/// directory with it, which no longer matches the catalog pages written since.
#[derive(Serialize, Deserialize)]
struct State {
    directory: Directory,
    head: AuditHead,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct AuditHead {
    seq: u64,
    hash: [u8; 32],
}

/// A trusted registry as stored.
#[derive(Serialize, Deserialize)]
struct TrustedRegistry {
    thumbprint: String,
    snapshot: String,
}

/// A record as stored: its catalog entry, the resource bytes, its dedup key.
#[derive(Serialize, Deserialize)]
struct StoredRecord {
    meta: RecordMeta,
    dedup: [u8; 32],
    resource: Vec<u8>,
}

/// A share as the wallet remembers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// Grant id (`jti`).
    pub id: String,
    /// The signed grant, compact JWS.
    pub jws: String,
    /// The link as given to the doctor (it holds the bearer key, so it stays sealed here).
    pub link: String,
    /// The relay's URL for this share, if it went through one.
    pub relay_url: Option<String>,
    /// Whose records.
    pub profile: ProfileId,
    /// Who may open it, in words.
    pub to: String,
    /// ABDM purpose code.
    pub purpose: String,
    /// `view` or `store`.
    pub mode: String,
    /// Number of records.
    pub records: usize,
    /// Which of the wallet's records were shared, in the grant's order: the
    /// grant names them by position (`1` is the first), the wallet by id.
    #[serde(default)]
    pub record_ids: Vec<String>,
    /// Created (seconds since 1970).
    pub created: i64,
    /// Expiry.
    pub expires: i64,
    /// Use limit.
    pub max_uses: Option<u32>,
    /// Revoked by the patient.
    pub revoked: bool,
    /// Uses the relay reported when last asked.
    pub uses: u32,
    /// Relay accesses already copied into the audit log.
    pub accesses_logged: u32,
}

/// A record read back from the vault.
#[derive(Debug, Clone)]
pub struct Record {
    /// Catalog entry.
    pub meta: RecordMeta,
    /// The resource.
    pub resource: Resource,
    /// The exact stored bytes (what a grant's SHA-256 covers).
    pub bytes: Vec<u8>,
}

/// A record hashed, described and sealed, ready to be written.
struct Prepared {
    id: RecordId,
    dedup: [u8; 32],
    meta: RecordMeta,
    sealed: Vec<u8>,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportOutcome {
    /// Records added.
    pub added: Vec<RecordId>,
    /// Records that were already in the wallet (the existing ids).
    pub duplicates: Vec<RecordId>,
}

/// Options for [`Vault::create`].
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// scrypt work factor for the passphrase.
    pub kdf_log_n: u8,
    /// The owner's profile.
    pub owner: Profile,
}

/// An open, unlocked vault. Dropping it releases the lock.
pub struct Vault {
    dir: PathBuf,
    _lock: File,
    /// Always `Some` outside [`Vault::checkpoint`].
    db: Option<sled::Db>,
    keys: Keys,
    records: Sealer,
    meta: Sealer,
    dedup_key: zeroize::Zeroizing<[u8; 32]>,
    names_key: zeroize::Zeroizing<[u8; 32]>,
    info: Info,
    profiles: Vec<Profile>,
    directory: Directory,
    audit_head: Option<AuditHead>,
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> VaultError + 'a {
    move |source| VaultError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `dir` holds a vault.
pub fn exists(dir: &Path) -> bool {
    dir.join(MARKER).is_file()
}

/// Whether a wallet may be created at `dir`: not over a wallet, and not in a
/// directory of someone else's files. Callers check before asking for a new
/// passphrase; [`Vault::create`] checks again.
pub fn check_new_location(dir: &Path) -> Result<()> {
    if exists(dir) {
        return Err(VaultError::AlreadyExists(dir.to_path_buf()));
    }
    if !empty_or_interrupted_init(dir) {
        return Err(VaultError::NotEmpty(dir.to_path_buf()));
    }
    Ok(())
}

/// Whether `dir` is missing, empty, or holds only what an interrupted `init`
/// leaves (it takes the lock, writes the keyring, then creates the database:
/// a database without a keyring is not ours). Anything else is someone's
/// files, which `init` must not clear.
fn empty_or_interrupted_init(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return !dir.exists();
    };
    let names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
    let ours = names.iter().all(|n| n == LOCK || n == KEYRING || n == DB);
    let db_after_keyring = !names.iter().any(|n| n == DB) || names.iter().any(|n| n == KEYRING);
    ours && db_after_keyring
}

fn lock(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("cannot open", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(VaultError::InUse(dir.to_path_buf())),
        Err(fs::TryLockError::Error(e)) => Err(io_err("cannot lock", &path)(e)),
    }
}

/// Writes a file so that a crash leaves either the old or the new content.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io_err("cannot create", &tmp))?;
    f.write_all(bytes).map_err(io_err("cannot write", &tmp))?;
    f.sync_all().map_err(io_err("cannot sync", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("cannot replace", path))?;
    if let Some(parent) = path.parent()
        && let Ok(d) = File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn make_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.exists() {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err("cannot protect", dir))
    } else {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err("cannot create", dir))
    }
}

#[cfg(not(unix))]
fn make_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(io_err("cannot create", dir))
}

impl Vault {
    /// Creates a new vault at `dir` and returns it open.
    pub fn create(dir: &Path, passphrase: &SecretString, options: CreateOptions) -> Result<Vault> {
        if !(MIN_KDF_LOG_N..=MAX_KDF_LOG_N).contains(&options.kdf_log_n) {
            return Err(VaultError::WorkFactor(options.kdf_log_n));
        }
        check_new_location(dir)?;
        make_private_dir(dir)?;
        let lock = lock(dir)?;
        // Leftovers of an interrupted `init` (no marker yet) hold no records.
        let db_path = dir.join(DB);
        if db_path.exists() {
            fs::remove_dir_all(&db_path).map_err(io_err("cannot clear", &db_path))?;
        }
        let keys = Keys::generate(options.kdf_log_n);
        write_atomic(&dir.join(KEYRING), &keyring::seal(&keys, passphrase))?;
        let db = open_db(&db_path)?;
        let mut vault = Vault::assemble(
            dir,
            lock,
            db,
            keys,
            Info {
                created: now(),
                owner: options.owner.id,
                layout: VAULT_VERSION,
            },
        );
        let mut batch = sled::Batch::default();
        batch.insert(K_INFO, vault.seal_json(K_INFO, &vault.info));
        vault.profiles.push(options.owner.clone());
        vault.put_profile(&mut batch, &options.owner);
        let wallet_id = vault.wallet_id().to_string();
        vault.append_audit(&mut batch, Actor::Patient, Event::VaultCreated { wallet_id });
        vault.commit(batch)?;
        vault.write_marker()?;
        Ok(vault)
    }

    /// Opens and unlocks the vault at `dir`.
    ///
    /// A wrong passphrase is reported before the database is touched, so it
    /// changes nothing on disk.
    pub fn open(dir: &Path, passphrase: &SecretString) -> Result<Vault> {
        let marker_path = dir.join(MARKER);
        let marker = match fs::read(&marker_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(VaultError::NotFound(dir.to_path_buf()));
            }
            Err(e) => return Err(io_err("cannot read", &marker_path)(e)),
        };
        let marker: Marker = serde_json::from_slice(&marker)
            .map_err(|_| VaultError::Integrity(format!("{}", marker_path.display())))?;
        if marker.format != "amanat-vault" || !(1..=VAULT_VERSION).contains(&marker.version) {
            return Err(VaultError::Version {
                path: dir.to_path_buf(),
                found: marker.version,
            });
        }
        let lock = lock(dir)?;
        rebuild::recover(dir)?;
        let keyring_path = dir.join(KEYRING);
        let sealed = fs::read(&keyring_path).map_err(io_err("cannot read", &keyring_path))?;
        let keys = keyring::open(&sealed, passphrase).map_err(|e| match e {
            KeyringError::WrongPassphrase => VaultError::WrongPassphrase(dir.to_path_buf()),
            other => VaultError::Keyring(other.to_string()),
        })?;
        let db = open_db(&dir.join(DB))?;
        let info_bytes = db
            .get(K_INFO)?
            .ok_or_else(|| VaultError::Integrity("the wallet's information block".into()))?;
        let mut vault = Vault::assemble(
            dir,
            lock,
            db,
            keys,
            Info {
                created: 0,
                owner: ProfileId::from_bytes([0; 5]),
                layout: 0,
            },
        );
        vault.info = match vault.open_json(K_INFO, &info_bytes, "the wallet's information block") {
            Ok(info) => info,
            // Neither of the two values every wallet has opens: the keyring
            // is not this database's (one damaged value is an integrity error).
            Err(_) if !vault.state_opens() => {
                return Err(VaultError::Keyring(
                    "keyring.age does not open this wallet's database: it is an old copy (from before `amanat passphrase --rotate-keys`) or another wallet's".into(),
                ));
            }
            Err(e) => return Err(e),
        };
        if vault.info.layout < 2 {
            vault.migrate_v1()?;
        }
        if marker.version != VAULT_VERSION {
            vault.write_marker()?;
        }
        vault.load_state()?;
        Ok(vault)
    }

    fn assemble(dir: &Path, lock: File, db: sled::Db, keys: Keys, info: Info) -> Vault {
        Vault {
            dir: dir.to_path_buf(),
            _lock: lock,
            db: Some(db),
            records: Sealer::derive(&keys.data_key, "records"),
            meta: Sealer::derive(&keys.data_key, "metadata"),
            dedup_key: seal::derive_key(&keys.index_key, "dedup"),
            names_key: seal::derive_key(&keys.index_key, "names"),
            keys,
            info,
            profiles: Vec::new(),
            directory: Directory::default(),
            audit_head: None,
        }
    }

    /// Whether the sealed state (or, in a version 1 wallet, the audit head)
    /// opens with these keys.
    fn state_opens(&self) -> bool {
        [K_STATE, b"m/audit-head".as_slice()]
            .iter()
            .any(|k| matches!(self.db().get(k), Ok(Some(v)) if self.meta.open(k, &v).is_ok()))
    }

    /// `vault.json` last, after the database it describes.
    fn write_marker(&self) -> Result<()> {
        let marker = Marker {
            format: "amanat-vault".into(),
            version: VAULT_VERSION,
        };
        write_atomic(
            &self.dir.join(MARKER),
            &serde_json::to_vec(&marker).unwrap_or_default(),
        )
    }

    fn load_state(&mut self) -> Result<()> {
        const WHAT: &str = "the wallet's state (its catalog directory and audit head)";
        // Every wallet has one from its first audit entry on: a missing state
        // is a deleted one (the audit log wiped), not an empty wallet.
        let bytes = self
            .read(K_STATE, || WHAT.into())?
            .ok_or_else(|| VaultError::Integrity(format!("{WHAT}: it is missing")))?;
        let state: State = self.open_postcard(K_STATE, &bytes, WHAT)?;
        self.directory = state.directory;
        self.audit_head = Some(state.head);
        let mut profiles = Vec::new();
        for item in self.db().scan_prefix(P_PROFILE) {
            let (k, v) = item?;
            profiles.push(self.open_json::<Profile>(&k, &v, "a profile")?);
        }
        profiles.sort_by_key(|p| (p.id != self.info.owner, p.handle.clone()));
        self.profiles = profiles;
        Ok(())
    }

    /// Reads a value; sled's own checksum failing on the page that holds it is
    /// reported as an integrity failure of `what`, like a failed seal.
    fn read(&self, k: &[u8], what: impl FnOnce() -> String) -> Result<Option<sled::IVec>> {
        self.db().get(k).map_err(|e| corruption(e, what))
    }

    fn db(&self) -> &sled::Db {
        #[allow(clippy::expect_used)]
        self.db
            .as_ref()
            .expect("the database is open outside checkpoint()")
    }

    /// Folds sled's write-ahead log into a snapshot by closing and reopening the
    /// database, so the next open does not replay it. sled only snapshots when it
    /// opens; after a large import the first open would otherwise take a tenth of
    /// a second per 100,000 records. Call it after bulk writes.
    pub fn checkpoint(&mut self) -> Result<()> {
        if let Some(db) = self.db.take() {
            db.flush()?;
            drop(db);
        }
        self.db = Some(open_db(&self.dir.join(DB))?);
        Ok(())
    }

    // ---- sealing helpers -------------------------------------------------

    fn seal_json<T: Serialize>(&self, k: &[u8], value: &T) -> Vec<u8> {
        self.meta.seal(
            k,
            &zeroize::Zeroizing::new(serde_json::to_vec(value).unwrap_or_default()),
        )
    }

    fn seal_postcard<T: Serialize>(&self, k: &[u8], value: &T) -> Vec<u8> {
        self.meta.seal(
            k,
            &zeroize::Zeroizing::new(postcard::to_allocvec(value).unwrap_or_default()),
        )
    }

    fn open_json<T: for<'de> Deserialize<'de>>(&self, k: &[u8], sealed: &[u8], what: &str) -> Result<T> {
        let plain = self.open_meta(k, sealed, what)?;
        serde_json::from_slice(&plain).map_err(|_| VaultError::Integrity(what.into()))
    }

    fn open_postcard<T: for<'de> Deserialize<'de>>(&self, k: &[u8], sealed: &[u8], what: &str) -> Result<T> {
        let plain = self.open_meta(k, sealed, what)?;
        postcard::from_bytes(&plain).map_err(|_| VaultError::Integrity(what.into()))
    }

    fn open_meta(&self, k: &[u8], sealed: &[u8], what: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.meta
            .open(k, sealed)
            .map_err(|_| VaultError::Integrity(what.into()))
    }

    fn put_profile(&self, batch: &mut sled::Batch, profile: &Profile) {
        let k = key(P_PROFILE, profile.id.as_bytes());
        batch.insert(k.clone(), self.seal_json(&k, profile));
    }

    /// Appends an audit entry to the batch and advances the in-memory head.
    /// The head is written with the batch, so entry and head land together.
    fn append_audit(&mut self, batch: &mut sled::Batch, actor: Actor, event: Event) -> AuditEntry {
        let entry = AuditEntry::next(
            self.audit_head.as_ref().map(|h| (h.seq, h.hash)),
            now(),
            actor,
            event,
        );
        let k = key(P_AUDIT, &entry.seq.to_be_bytes());
        batch.insert(k.clone(), self.seal_json(&k, &entry));
        let head = AuditHead {
            seq: entry.seq,
            hash: entry.hash,
        };
        self.audit_head = Some(head);
        entry
    }

    /// A storage name that says nothing without the wallet's keys: `prefix`
    /// then HMAC-SHA256 of what it names (a share id, a plugin name…), so a
    /// reader of the disk cannot learn which plugins are installed or use a
    /// share's id at its relay.
    fn name(&self, prefix: &[u8], kind: &str, plain: &[u8]) -> Vec<u8> {
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.names_key.as_ref())
            .expect("HMAC takes keys of any length");
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(plain);
        key(prefix, &mac.finalize().into_bytes())
    }

    /// Applies a batch atomically, with the state (the catalog directory and
    /// the audit head the batch's entries advanced), and waits until it is on disk.
    fn commit(&self, batch: sled::Batch) -> Result<()> {
        self.commit_with(batch, &self.directory)
    }

    /// [`Vault::commit`] for a batch that also changes the catalog: `directory`
    /// is the one it leaves (the caller adopts it once the batch is on disk).
    fn commit_with(&self, mut batch: sled::Batch, directory: &Directory) -> Result<()> {
        if let Some(head) = self.audit_head {
            let state = State {
                directory: directory.clone(),
                head,
            };
            batch.insert(K_STATE, self.seal_postcard(K_STATE, &state));
        }
        self.db().apply_batch(batch)?;
        self.db().flush()?;
        Ok(())
    }

    // ---- identity ----------------------------------------------------------

    /// The vault's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The wallet ID (fingerprint of the signing key).
    pub fn wallet_id(&self) -> WalletId {
        WalletId::from_public_key(&self.keys.signing.verifying_key())
    }

    /// The wallet's ed25519 public key.
    pub fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.keys.signing.verifying_key()
    }

    /// The wallet's age recipient (`age1…`): shares and backups addressed to this wallet.
    pub fn age_recipient(&self) -> age::x25519::Recipient {
        self.keys.age.to_public()
    }

    /// The wallet's age identity, for decrypting what was addressed to it.
    pub fn age_identity(&self) -> &age::x25519::Identity {
        &self.keys.age
    }

    /// The wallet's ed25519 signing key: it signs consent grants and requests to
    /// relays. It never leaves the process.
    pub fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.keys.signing
    }

    /// When the wallet was created (seconds since 1970).
    pub fn created(&self) -> i64 {
        self.info.created
    }

    /// Whether `passphrase` opens this wallet's keyring (before changing it, say).
    pub fn check_passphrase(&self, passphrase: &SecretString) -> Result<()> {
        let path = self.dir.join(KEYRING);
        let sealed = fs::read(&path).map_err(io_err("cannot read", &path))?;
        keyring::open(&sealed, passphrase)
            .map(|_| ())
            .map_err(|e| match e {
                KeyringError::WrongPassphrase => VaultError::WrongPassphrase(self.dir.clone()),
                other => VaultError::Keyring(other.to_string()),
            })
    }

    /// Changes the passphrase: rewrites only the keyring, atomically.
    pub fn change_passphrase(&mut self, new: &SecretString, kdf_log_n: Option<u8>) -> Result<()> {
        if let Some(n) = kdf_log_n {
            if !(MIN_KDF_LOG_N..=MAX_KDF_LOG_N).contains(&n) {
                return Err(VaultError::WorkFactor(n));
            }
            self.keys.kdf_log_n = n;
        }
        write_atomic(&self.dir.join(KEYRING), &keyring::seal(&self.keys, new))?;
        let mut batch = sled::Batch::default();
        self.append_audit(&mut batch, Actor::Patient, Event::PassphraseChanged);
        self.commit(batch)
    }

    // ---- profiles ------------------------------------------------------------

    /// All profiles, the owner first.
    pub fn profiles(&self) -> &[Profile] {
        &self.profiles
    }

    /// The owner's profile.
    pub fn owner(&self) -> &Profile {
        self.profiles
            .iter()
            .find(|p| p.id == self.info.owner)
            .unwrap_or(&self.profiles[0])
    }

    /// A profile by handle; `None` means the owner.
    pub fn profile(&self, handle: Option<&str>) -> Result<&Profile> {
        match handle {
            None => Ok(self.owner()),
            Some(h) => self
                .profiles
                .iter()
                .find(|p| p.handle == h)
                .ok_or_else(|| VaultError::ProfileNotFound(h.to_string())),
        }
    }

    /// A profile by id.
    pub fn profile_by_id(&self, id: ProfileId) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// Adds a dependant's profile (or any other).
    pub fn add_profile(&mut self, mut profile: Profile) -> Result<()> {
        if self.profiles.iter().any(|p| p.handle == profile.handle) {
            return Err(VaultError::ProfileExists(profile.handle));
        }
        if profile.relationship == Relationship::Owner {
            profile.relationship = Relationship::Other;
        }
        let mut batch = sled::Batch::default();
        self.put_profile(&mut batch, &profile);
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::ProfileAdded {
                handle: profile.handle.clone(),
            },
        );
        self.commit(batch)?;
        self.profiles.push(profile);
        Ok(())
    }

    /// Removes an empty profile.
    pub fn remove_profile(&mut self, handle: &str) -> Result<()> {
        let profile = self.profile(Some(handle))?.clone();
        if profile.id == self.info.owner {
            return Err(VaultError::OwnerProfile);
        }
        let count = self
            .list(&Query {
                profile: Some(profile.id),
                ..Query::default()
            })?
            .len();
        if count > 0 {
            return Err(VaultError::ProfileNotEmpty(handle.to_string(), count));
        }
        let mut batch = sled::Batch::default();
        batch.remove(key(P_PROFILE, profile.id.as_bytes()));
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::ProfileRemoved {
                handle: handle.to_string(),
            },
        );
        self.commit(batch)?;
        self.profiles.retain(|p| p.id != profile.id);
        Ok(())
    }

    // ---- records ---------------------------------------------------------------

    fn dedup_hash(&self, profile: ProfileId, identity: &[u8]) -> [u8; 32] {
        // HMAC so the index reveals nothing to someone who can guess a document.
        #[allow(clippy::expect_used)]
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.dedup_key.as_ref())
            .expect("HMAC takes keys of any length");
        mac.update(profile.as_bytes());
        mac.update(identity);
        mac.finalize().into_bytes().into()
    }

    fn load_page(&self, page: u64) -> Result<Vec<RecordMeta>> {
        let k = key(P_PAGE, &page.to_be_bytes());
        match self.read(&k, || format!("catalog page {page}"))? {
            Some(bytes) => {
                let plain = self
                    .meta
                    .open(&k, &bytes)
                    .map_err(|_| VaultError::Integrity(format!("catalog page {page}")))?;
                postcard::from_bytes(&plain)
                    .map_err(|_| VaultError::Integrity(format!("catalog page {page}")))
            }
            None => Ok(Vec::new()),
        }
    }

    /// Everything about a new record that does not depend on the others.
    fn prepare(&self, profile: ProfileId, record: NewRecord, added_at: i64) -> Prepared {
        let dedup = match &record.identity {
            Some(bytes) => self.dedup_hash(profile, bytes),
            None => self.dedup_hash(profile, &record.resource.canonical_bytes()),
        };
        let id = RecordId::random();
        let bytes = record.resource.to_bytes();
        let sha256: [u8; 32] = Sha256::digest(&bytes).into();
        let meta = RecordMeta::new(
            id,
            profile,
            record.resource.resource_type(),
            record.description,
            added_at,
            record.source,
            sha256,
            bytes.len() as u64,
        );
        let stored = StoredRecord {
            meta,
            dedup,
            resource: bytes,
        };
        let plain = zeroize::Zeroizing::new(postcard::to_allocvec(&stored).unwrap_or_default());
        let sealed = self.records.seal(&key(P_RECORD, id.as_bytes()), &plain);
        Prepared {
            id,
            dedup,
            meta: stored.meta,
            sealed,
        }
    }

    /// Adds records to a profile in one atomic step, skipping ones already present.
    ///
    /// `label` names the source in the audit log (a file name, `demo`).
    pub fn add_records(
        &mut self,
        profile: ProfileId,
        records: Vec<NewRecord>,
        actor: Actor,
        label: &str,
    ) -> Result<ImportOutcome> {
        let handle = self
            .profile_by_id(profile)
            .ok_or_else(|| VaultError::ProfileNotFound(profile.to_string()))?
            .handle
            .clone();
        let added_at = now();
        let mut outcome = ImportOutcome::default();
        let mut batch = sled::Batch::default();
        let mut directory = self.directory.clone();
        let mut pages: HashMap<u64, Vec<RecordMeta>> = HashMap::new();
        let mut seen: HashMap<[u8; 32], RecordId> = HashMap::new();
        // Hash, serialise and seal on every core; the catalog and batch are built after, in order.
        let prepared = crate::par::map_owned(records, |record| self.prepare(profile, record, added_at));
        for Prepared {
            id,
            dedup,
            meta,
            sealed,
        } in prepared
        {
            let dedup_key = key(P_DEDUP, &dedup);
            if let Some(existing) = seen.get(&dedup) {
                outcome.duplicates.push(*existing);
                continue;
            }
            if let Some(existing) = self.read(&dedup_key, || "the duplicate index".into())? {
                let id = <[u8; RecordId::LEN]>::try_from(existing.as_ref())
                    .map(RecordId::from_bytes)
                    .map_err(|_| VaultError::Integrity("the duplicate index".into()))?;
                outcome.duplicates.push(id);
                continue;
            }
            let page = directory.page_for_insert(bucket_of(meta.sort_key));
            if let std::collections::hash_map::Entry::Vacant(e) = pages.entry(page) {
                e.insert(self.load_page(page)?);
            }
            pages.entry(page).or_default().push(meta);
            batch.insert(key(P_RECORD, id.as_bytes()), sealed);
            batch.insert(dedup_key, id.as_bytes().to_vec());
            seen.insert(dedup, id);
            outcome.added.push(id);
        }
        for (page, metas) in &pages {
            let k = key(P_PAGE, &page.to_be_bytes());
            batch.insert(k.clone(), self.seal_postcard(&k, metas));
        }
        let event = Event::Imported {
            source: label.to_string(),
            profile: handle,
            added: outcome.added.len() as u64,
            duplicates: outcome.duplicates.len() as u64,
        };
        let head_before = self.audit_head;
        self.append_audit(&mut batch, actor, event);
        if let Err(e) = self.commit_with(batch, &directory) {
            self.audit_head = head_before;
            return Err(e);
        }
        self.directory = directory;
        Ok(outcome)
    }

    /// Adds many records in commits of [`IMPORT_CHUNK`], each atomic with its audit
    /// entry, so a crash keeps every finished chunk; `progress` is told how many
    /// records each chunk held. Returns (added, already present).
    pub fn import_records(
        &mut self,
        profile: ProfileId,
        mut records: Vec<NewRecord>,
        actor: Actor,
        label: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<(usize, usize)> {
        let (mut added, mut duplicates) = (0, 0);
        while !records.is_empty() {
            let rest = records.split_off(IMPORT_CHUNK.min(records.len()));
            let n = records.len();
            let outcome = self.add_records(profile, records, actor.clone(), label)?;
            added += outcome.added.len();
            duplicates += outcome.duplicates.len();
            progress(n);
            records = rest;
        }
        Ok((added, duplicates))
    }

    /// Records matching a query, newest first.
    pub fn list(&self, query: &Query) -> Result<Vec<RecordMeta>> {
        let words = query.words();
        let (lo, hi) = query.bucket_range();
        let mut out = Vec::new();
        for (_, pages) in self.directory.buckets_newest_first(lo, hi) {
            for page in pages {
                out.extend(
                    self.load_page(page)?
                        .into_iter()
                        .filter(|m| query.matches(m, &words)),
                );
            }
            if query.limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        sort_newest_first(&mut out);
        if let Some(limit) = query.limit {
            out.truncate(limit);
        }
        Ok(out)
    }

    /// Number of records in the wallet.
    pub fn record_count(&self) -> u64 {
        self.directory.total()
    }

    /// Finds the record whose id is, or starts with, `text`.
    pub fn resolve_id(&self, text: &str) -> Result<RecordId> {
        let text = text.trim().to_lowercase();
        if let Ok(id) = text.parse::<RecordId>()
            && self.db().contains_key(key(P_RECORD, id.as_bytes()))?
        {
            return Ok(id);
        }
        if text.len() < 4 || text.len() > 16 {
            return Err(VaultError::RecordNotFound(text));
        }
        // A prefix: ids are random, so scanning by their decoded leading bytes is cheap.
        let prefix = data_encoding_prefix(&text).ok_or_else(|| VaultError::RecordNotFound(text.clone()))?;
        let mut matches = Vec::new();
        for item in self.db().scan_prefix(key(P_RECORD, &prefix)) {
            let (k, _) = item?;
            if let Ok(bytes) = <[u8; RecordId::LEN]>::try_from(&k[P_RECORD.len()..]) {
                let id = RecordId::from_bytes(bytes);
                if id.to_string().starts_with(&text) {
                    matches.push(id);
                }
            }
        }
        match matches.len() {
            0 => Err(VaultError::RecordNotFound(text)),
            1 => Ok(matches[0]),
            n => Err(VaultError::AmbiguousId(text, n)),
        }
    }

    /// Reads one record, checking its integrity.
    pub fn get(&self, id: RecordId) -> Result<Record> {
        let k = key(P_RECORD, id.as_bytes());
        let sealed = self
            .read(&k, || format!("record {id}"))?
            .ok_or_else(|| VaultError::RecordNotFound(id.to_string()))?;
        let stored = self.open_record(&k, &sealed, id)?;
        let integrity = || VaultError::Integrity(format!("record {id}"));
        if <[u8; 32]>::from(Sha256::digest(&stored.resource)) != stored.meta.sha256 {
            return Err(integrity());
        }
        let resource = Resource::from_slice(&stored.resource).map_err(|_| integrity())?;
        Ok(Record {
            meta: stored.meta,
            resource,
            bytes: stored.resource,
        })
    }

    fn open_record(&self, k: &[u8], sealed: &[u8], id: RecordId) -> Result<StoredRecord> {
        let plain = self
            .records
            .open(k, sealed)
            .map_err(|_| VaultError::Integrity(format!("record {id}")))?;
        postcard::from_bytes(&plain).map_err(|_| VaultError::Integrity(format!("record {id}")))
    }

    /// Deletes a record.
    pub fn delete(&mut self, id: RecordId) -> Result<RecordMeta> {
        let k = key(P_RECORD, id.as_bytes());
        let sealed = self
            .read(&k, || format!("record {id}"))?
            .ok_or_else(|| VaultError::RecordNotFound(id.to_string()))?;
        // A damaged record can still be deleted: find its page by scanning.
        let (dedup, meta) = match self.open_record(&k, &sealed, id) {
            Ok(stored) => (Some(stored.dedup), Some(stored.meta)),
            Err(_) => (None, None),
        };
        let mut batch = sled::Batch::default();
        batch.remove(k);
        if let Some(d) = dedup {
            batch.remove(key(P_DEDUP, &d));
        } else {
            // Without the record we cannot know its dedup key; drop entries pointing at it.
            for item in self.db().scan_prefix(P_DEDUP) {
                let (dk, v) = item?;
                if v.as_ref() == id.as_bytes() {
                    batch.remove(dk);
                }
            }
        }
        let mut directory = self.directory.clone();
        let candidate_pages: Vec<u64> = match &meta {
            Some(m) => directory.pages_in(bucket_of(m.sort_key)).collect(),
            None => directory.pages.iter().map(|p| p.id).collect(),
        };
        let mut removed = meta.clone();
        for page in candidate_pages {
            let mut metas = self.load_page(page)?;
            let before = metas.len();
            if let Some(pos) = metas.iter().position(|m| m.id == id) {
                removed.get_or_insert_with(|| metas[pos].clone());
                metas.remove(pos);
            }
            if metas.len() != before {
                let pk = key(P_PAGE, &page.to_be_bytes());
                if metas.is_empty() {
                    batch.remove(pk);
                } else {
                    batch.insert(pk.clone(), self.seal_postcard(&pk, &metas));
                }
                directory.set_count(page, metas.len());
                break;
            }
        }
        let removed = removed.ok_or_else(|| VaultError::RecordNotFound(id.to_string()))?;
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::Deleted {
                record: id.to_string(),
                title: removed.title.clone(),
            },
        );
        self.commit_with(batch, &directory)?;
        self.directory = directory;
        Ok(removed)
    }

    // ---- shares ------------------------------------------------------------------

    /// Records a new share and its audit entry in one step.
    pub fn add_grant(&mut self, grant: &StoredGrant, event: Event) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.grant_key(&grant.id);
        batch.insert(k.clone(), self.seal_json(&k, grant));
        self.append_audit(&mut batch, Actor::Patient, event);
        self.commit(batch)
    }

    /// Updates a share (revoked, accesses seen) with its audit entries, in one step.
    pub fn update_grant(&mut self, grant: &StoredGrant, events: Vec<(Actor, Event)>) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.grant_key(&grant.id);
        batch.insert(k.clone(), self.seal_json(&k, grant));
        for (actor, event) in events {
            self.append_audit(&mut batch, actor, event);
        }
        self.commit(batch)
    }

    fn grant_key(&self, id: &str) -> Vec<u8> {
        self.name(P_GRANT, "grant", id.as_bytes())
    }

    /// Every share made from this wallet, newest first.
    pub fn grants(&self) -> Result<Vec<StoredGrant>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_GRANT) {
            let (k, v) = item?;
            out.push(self.open_json::<StoredGrant>(&k, &v, "a share's record")?);
        }
        out.sort_by_key(|g| std::cmp::Reverse(g.created));
        Ok(out)
    }

    /// The share whose id is, or starts with, `text`.
    pub fn grant(&self, text: &str) -> Result<StoredGrant> {
        let text = text.trim();
        let mut matches: Vec<StoredGrant> = self
            .grants()?
            .into_iter()
            .filter(|g| g.id.starts_with(text))
            .collect();
        match matches.len() {
            0 => Err(VaultError::GrantNotFound(text.to_string())),
            1 => Ok(matches.remove(0)),
            n => Err(VaultError::AmbiguousId(text.to_string(), n)),
        }
    }

    /// Trusts a registry's signed provider list (already verified by the caller).
    pub fn trust_registry(
        &mut self,
        thumbprint: &str,
        signed_snapshot: &str,
        events: Vec<Event>,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.registry_key(thumbprint);
        let value = TrustedRegistry {
            thumbprint: thumbprint.to_string(),
            snapshot: signed_snapshot.to_string(),
        };
        batch.insert(k.clone(), self.seal_json(&k, &value));
        for event in events {
            self.append_audit(&mut batch, Actor::Patient, event);
        }
        self.commit(batch)
    }

    /// The trusted registries: (key thumbprint, signed snapshot text).
    pub fn registries(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_REGISTRY) {
            let (k, v) = item?;
            let r: TrustedRegistry = self.open_json(&k, &v, "a trusted registry")?;
            out.push((r.thumbprint, r.snapshot));
        }
        Ok(out)
    }

    // ---- plugins -----------------------------------------------------------------

    /// Installs (or replaces) a plugin: its record, its component bytes and its
    /// compiled code, with the audit entry, in one step.
    pub fn put_plugin(
        &mut self,
        installed: &crate::plugin::Installed,
        component: &[u8],
        code: Option<(&str, &[u8])>,
        event: Event,
    ) -> Result<()> {
        let mut batch = sled::Batch::default();
        let k = self.plugin_key(&installed.manifest.name);
        batch.insert(k.clone(), self.seal_json(&k, installed));
        let bk = self.component_key(&installed.sha256);
        batch.insert(bk.clone(), self.meta.seal(&bk, component));
        if let Some((cache_key, bytes)) = code {
            let ck = self.code_key(&installed.sha256, cache_key);
            batch.insert(ck.clone(), self.meta.seal(&ck, bytes));
        }
        self.append_audit(&mut batch, Actor::Patient, event);
        self.commit(batch)
    }

    fn plugin_key(&self, name: &str) -> Vec<u8> {
        self.name(P_PLUGIN, "plugin", name.as_bytes())
    }

    /// A component's bytes, by its SHA-256 (hex).
    fn component_key(&self, sha256: &str) -> Vec<u8> {
        self.name(P_PLUGIN_BYTES, "component", sha256.as_bytes())
    }

    fn registry_key(&self, thumbprint: &str) -> Vec<u8> {
        self.name(P_REGISTRY, "registry", thumbprint.as_bytes())
    }

    /// Compiled code of a component for one engine: under the component's
    /// name, so removing the plugin finds every cached compilation of it.
    fn code_key(&self, sha256: &str, cache_key: &str) -> Vec<u8> {
        let mut k = self.code_prefix(sha256);
        k.extend_from_slice(&self.name(b"", "code", cache_key.as_bytes()));
        k
    }

    /// Where every compiled code of one component is kept.
    fn code_prefix(&self, sha256: &str) -> Vec<u8> {
        self.name(P_PLUGIN_CODE, "component", sha256.as_bytes())
    }

    /// Installed plugins.
    pub fn plugins(&self) -> Result<Vec<crate::plugin::Installed>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_PLUGIN) {
            let (k, v) = item?;
            out.push(self.open_json::<crate::plugin::Installed>(&k, &v, "an installed plugin")?);
        }
        Ok(out)
    }

    /// One installed plugin.
    pub fn plugin(&self, name: &str) -> Result<Option<crate::plugin::Installed>> {
        let k = self.plugin_key(name);
        match self.read(&k, || format!("plugin {name}"))? {
            Some(v) => Ok(Some(self.open_json(&k, &v, "an installed plugin")?)),
            None => Ok(None),
        }
    }

    /// A plugin's component bytes, by SHA-256 (hex).
    pub fn plugin_component(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let k = self.component_key(sha256);
        match self.read(&k, || format!("plugin component {sha256}"))? {
            Some(v) => Ok(Some(self.open_meta(&k, &v, "a plugin component")?.to_vec())),
            None => Ok(None),
        }
    }

    /// Cached compiled code for a plugin's component (by SHA-256, hex).
    ///
    /// Opened in place: compiled code is tens of megabytes for a Python or
    /// JavaScript runtime, and not secret (it is derived from the component),
    /// so it gets neither a second buffer nor a zeroizing pass.
    pub fn plugin_code(&self, sha256: &str, cache_key: &str) -> Result<Option<PluginCode>> {
        let k = self.code_key(sha256, cache_key);
        let Some(sealed) = self.read(&k, || "cached plugin code".to_string())? else {
            return Ok(None);
        };
        let mut sealed = sealed.to_vec();
        let text = self
            .meta
            .open_in_place(&k, &mut sealed)
            .map_err(|_| VaultError::Integrity("cached plugin code".into()))?;
        Ok(Some(PluginCode { sealed, text }))
    }

    /// Caches compiled code for a plugin's component (see [`PluginCode`]).
    pub fn put_plugin_code(&mut self, sha256: &str, cache_key: &str, bytes: &[u8]) -> Result<()> {
        let k = self.code_key(sha256, cache_key);
        let mut batch = sled::Batch::default();
        batch.insert(k.clone(), self.meta.seal(&k, bytes));
        self.commit(batch)
    }

    /// Removes a plugin, its component and its compiled code.
    pub fn remove_plugin(&mut self, name: &str) -> Result<bool> {
        let Some(installed) = self.plugin(name)? else {
            return Ok(false);
        };
        let mut batch = sled::Batch::default();
        batch.remove(self.plugin_key(name));
        batch.remove(self.component_key(&installed.sha256));
        for item in self.db().scan_prefix(self.code_prefix(&installed.sha256)) {
            let (k, _) = item?;
            batch.remove(k);
        }
        self.append_audit(
            &mut batch,
            Actor::Patient,
            Event::PluginRemoved {
                plugin: name.to_string(),
            },
        );
        self.commit(batch)?;
        Ok(true)
    }

    // ---- audit -------------------------------------------------------------------

    /// Records several events in the audit log, in one step.
    pub fn audit_many(&mut self, events: Vec<(Actor, Event)>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (actor, event) in events {
            self.append_audit(&mut batch, actor, event);
        }
        self.commit(batch)
    }

    /// Records an event in the audit log on its own.
    pub fn audit(&mut self, actor: Actor, event: Event) -> Result<AuditEntry> {
        let mut batch = sled::Batch::default();
        let entry = self.append_audit(&mut batch, actor, event);
        self.commit(batch)?;
        Ok(entry)
    }

    /// Every audit entry in order. An unreadable entry is reported as such.
    pub fn audit_entries(&self) -> Result<Vec<Result<AuditEntry, ChainError>>> {
        let mut out = Vec::new();
        for item in self.db().scan_prefix(P_AUDIT) {
            let (k, v) = item?;
            let seq = <[u8; 8]>::try_from(&k[P_AUDIT.len()..])
                .map(u64::from_be_bytes)
                .unwrap_or(0);
            out.push(
                self.open_json::<AuditEntry>(&k, &v, "audit entry")
                    .map_err(|_| ChainError::Unreadable { seq }),
            );
        }
        Ok(out)
    }

    /// Verifies the whole chain; returns the number of entries.
    pub fn verify_audit(&self) -> Result<Result<u64, ChainError>> {
        let mut entries = Vec::new();
        for entry in self.audit_entries()? {
            match entry {
                Ok(e) => entries.push(e),
                Err(e) => return Ok(Err(e)),
            }
        }
        let head = self.audit_head.as_ref().map(|h| (h.seq, h.hash));
        let count = match crate::audit::verify_chain(&entries, head) {
            Ok(count) => count,
            Err(e) => return Ok(Err(e)),
        };
        Ok(self
            .catalog_mismatch()?
            .map_or(Ok(count), |m| Err(ChainError::RolledBack(m))))
    }

    /// Whether the catalog pages on disk differ from the directory sealed with
    /// the audit head: pages written after the state that was put back.
    fn catalog_mismatch(&self) -> Result<Option<String>> {
        let mut on_disk = Vec::new();
        for item in self.db().scan_prefix(P_PAGE) {
            let (k, _) = item?;
            let id = <[u8; 8]>::try_from(&k[P_PAGE.len()..])
                .map(u64::from_be_bytes)
                .map_err(|_| VaultError::Integrity("a catalog page's key".into()))?;
            on_disk.push(id);
        }
        for id in &on_disk {
            let Some(info) = self.directory.pages.iter().find(|p| p.id == *id) else {
                return Ok(Some(format!("catalog page {id} is not in its directory")));
            };
            let held = self.load_page(*id)?.len();
            if held != info.count as usize {
                return Ok(Some(format!(
                    "catalog page {id} holds {held} record(s), its directory says {}",
                    info.count
                )));
            }
        }
        if let Some(gone) = self.directory.pages.iter().find(|p| !on_disk.contains(&p.id)) {
            return Ok(Some(format!("catalog page {} is missing", gone.id)));
        }
        Ok(None)
    }

    /// Raw access for tests that tamper with stored bytes, as an attacker with
    /// the disk would. Not for normal use.
    #[doc(hidden)]
    pub fn raw_db(&self) -> &sled::Db {
        self.db()
    }
}

/// Decodes the longest whole-byte prefix of an id typed in base32.
fn data_encoding_prefix(text: &str) -> Option<Vec<u8>> {
    // Pad with zeros to a full id, decode, keep the bytes fully determined by `text`.
    let mut padded = text.to_string();
    while padded.len() < 16 {
        padded.push('0');
    }
    let full: RecordId = padded.parse().ok()?;
    Some(full.as_bytes()[..text.len() * 5 / 8].to_vec())
}

fn corruption(e: sled::Error, what: impl FnOnce() -> String) -> VaultError {
    match e {
        sled::Error::Corruption { .. } => VaultError::Integrity(what()),
        other => VaultError::Storage(other),
    }
}

fn open_db(path: &Path) -> Result<sled::Db> {
    // Our own lock file already excludes other processes. sled's lock on its
    // files can still be held for a moment by threads of a database this process
    // just closed (see `checkpoint`), so a lock failure is retried briefly.
    let mut attempts = 0;
    loop {
        let result = sled::Config::new()
            .path(path)
            .mode(sled::Mode::HighThroughput)
            // Every commit flushes explicitly; no background flusher is needed.
            .flush_every_ms(None)
            .open();
        match result {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(io)) if is_lock_error(&io) && attempts < 100 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(sled::Error::Io(io)) if is_lock_error(&io) => {
                return Err(VaultError::InUse(path.to_path_buf()));
            }
            Err(other) => return Err(VaultError::Storage(other)),
        }
    }
}

fn is_lock_error(io: &std::io::Error) -> bool {
    io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock")
}

#[cfg(test)]
mod tests;

/// Compiled plugin code, opened (authenticated and decrypted) where it was
/// read; see [`Vault::plugin_code`].
pub struct PluginCode {
    sealed: Vec<u8>,
    /// Where in `sealed` the opened code is.
    text: std::ops::Range<usize>,
}

impl PluginCode {
    /// The code, exactly as `Runtime::serialize` produced it.
    pub fn bytes(&self) -> &[u8] {
        &self.sealed[self.text.clone()]
    }
}
