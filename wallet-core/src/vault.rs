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

// The core (open, create, seal, commit) is here; each table's methods are an
// `impl Vault` block of their own.
mod audit;
mod catalog;
mod issuers;
mod keyring;
mod migrate;
mod plugins;
mod profiles;
mod rebuild;
mod records;
mod requests;
mod seal;
mod settings;
mod shares;

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use self::audit::AuditHead;
pub use self::catalog::Query;
use self::catalog::{Directory, bucket_of, sort_newest_first};
use self::keyring::KeyringError;
pub use self::keyring::{DEFAULT_KDF_LOG_N, Keys, MAX_KDF_LOG_N, MIN_KDF_LOG_N};
pub use self::plugins::{SealedCode, StoredPlugin};
pub use self::records::{ImportOutcome, Record};
pub use self::requests::HeldRequest;
use self::seal::{CodeSealer, Sealer};
pub use self::settings::Settings;
pub use self::shares::MadeShare;
use self::shares::TrustedRegistry;
use crate::audit::{Actor, AuditEntry, ChainError, Event};
use crate::clock::Clock;
use crate::fhir::Resource;
use crate::ids::{ProfileId, RecordId, WalletId};
use crate::profile::{Profile, Relationship};
use crate::record::{NewRecord, RecordMeta, Source};

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
    /// No trusted issuer has that address.
    #[error("you trust no issuer '{0}' (see `amanat issuers`)")]
    IssuerNotFound(String),
    /// No share has that id.
    #[error("no share '{0}' in this wallet (see `amanat grants`)")]
    ShareNotFound(String),
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
const K_SETTINGS: &[u8] = b"m/settings";
const P_RECORD: &[u8] = b"r/";
const P_PAGE: &[u8] = b"c/";
const P_DEDUP: &[u8] = b"h/";
const P_AUDIT: &[u8] = b"a/";
const P_PROFILE: &[u8] = b"p/";
const P_GRANT: &[u8] = b"g/";
const P_REGISTRY: &[u8] = b"t/";
const P_ISSUER: &[u8] = b"i/";
const P_REQUEST: &[u8] = b"q/";
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

/// Options for [`Vault::create`].
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// scrypt work factor for the passphrase.
    pub kdf_log_n: u8,
    /// The owner's profile.
    pub owner: Profile,
    /// The wallet's clock from its first moment (creation is audited).
    pub clock: Clock,
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
    /// Compiled plugin code (a cache; AES-256-GCM, see [`CodeSealer`]).
    code: CodeSealer,
    dedup_key: zeroize::Zeroizing<[u8; 32]>,
    names_key: zeroize::Zeroizing<[u8; 32]>,
    info: Info,
    profiles: Vec<Profile>,
    directory: Directory,
    audit_head: Option<AuditHead>,
    /// Stamps audit entries and imports; the edge sets it ([`Vault::with_clock`]).
    clock: Clock,
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
                created: options.clock.now(),
                owner: options.owner.id,
                layout: VAULT_VERSION,
            },
        );
        vault.clock = options.clock;
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
            code: CodeSealer::derive(&keys.data_key, "plugin code"),
            dedup_key: seal::derive_key(&keys.index_key, "dedup"),
            names_key: seal::derive_key(&keys.index_key, "names"),
            keys,
            info,
            profiles: Vec::new(),
            directory: Directory::default(),
            audit_head: None,
            clock: Clock::System,
        }
    }

    /// The vault with `clock` stamping what it records from now on.
    pub fn with_clock(mut self, clock: Clock) -> Vault {
        self.clock = clock;
        self
    }

    /// The vault's clock, for flows that act on its behalf.
    pub fn clock(&self) -> Clock {
        self.clock
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
