//! Small secret files outside a wallet: a provider's identity
//! ([`crate::provider::identity`]), a registry's or publisher's key.
//!
//! Each is a standard age file encrypted to a passphrase (scrypt, pinned work
//! factor), holding JSON. The stock `age` tool opens them too.

use std::io::{Read, Write};
use std::path::Path;

use age::secrecy::SecretString;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Why a secret file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretFileError {
    /// No file.
    #[error("no {what} at {path} (create one first)")]
    Missing {
        /// What kind of file.
        what: &'static str,
        /// Where it was looked for.
        path: String,
    },
    /// The passphrase does not open it.
    #[error("wrong passphrase for {0}")]
    WrongPassphrase(String),
    /// Not what it should be.
    #[error("{0} is damaged or not the right kind of file")]
    Corrupt(String),
    /// A file system error.
    #[error("{0}")]
    Io(String),
    /// Exists already.
    #[error("{0} exists already; choose another path or remove it first")]
    Exists(String),
}

/// Writes `json` to a new file at `path`, age-encrypted to `passphrase`.
pub(crate) fn write_sealed(
    path: &Path,
    json: &[u8],
    passphrase: &SecretString,
    log_n: u8,
) -> Result<(), SecretFileError> {
    if path.exists() {
        return Err(SecretFileError::Exists(path.display().to_string()));
    }
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    recipient.set_work_factor(log_n);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .map_err(|e| SecretFileError::Io(e.to_string()))?;
    let mut out = Vec::new();
    let mut w = encryptor
        .wrap_output(&mut out)
        .map_err(|e| SecretFileError::Io(e.to_string()))?;
    w.write_all(json)
        .map_err(|e| SecretFileError::Io(e.to_string()))?;
    w.finish().map_err(|e| SecretFileError::Io(e.to_string()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| SecretFileError::Io(format!("{}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| SecretFileError::Io(format!("{}: {e}", path.display())))?;
    file.write_all(&out)
        .map_err(|e| SecretFileError::Io(format!("{}: {e}", path.display())))?;
    file.sync_all().map_err(|e| SecretFileError::Io(e.to_string()))
}

/// Reads and decrypts what [`write_sealed`] wrote; `what` names it in errors.
pub(crate) fn read_sealed(
    path: &Path,
    what: &'static str,
    passphrase: &SecretString,
) -> Result<Zeroizing<Vec<u8>>, SecretFileError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SecretFileError::Missing {
            what,
            path: path.display().to_string(),
        },
        _ => SecretFileError::Io(format!("{}: {e}", path.display())),
    })?;
    let name = path.display().to_string();
    let decryptor =
        age::Decryptor::new_buffered(&bytes[..]).map_err(|_| SecretFileError::Corrupt(name.clone()))?;
    let mut identity = age::scrypt::Identity::new(passphrase.clone());
    identity.set_max_work_factor(crate::vault::MAX_KDF_LOG_N);
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed => SecretFileError::WrongPassphrase(name.clone()),
            _ => SecretFileError::Corrupt(name.clone()),
        })?;
    let mut out = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut out)
        .map_err(|_| SecretFileError::Corrupt(name))?;
    Ok(out)
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct KeyFileBody {
    format: String,
    name: String,
    signing_key: String,
}

/// What a named signing key is for; part of its file format, so a registry key
/// cannot be used where a publisher key is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Signs registry snapshots.
    Registry,
    /// Signs plugins.
    Publisher,
}

impl KeyPurpose {
    fn format(self) -> &'static str {
        match self {
            KeyPurpose::Registry => "amanat-registry-key-v1",
            KeyPurpose::Publisher => "amanat-publisher-key-v1",
        }
    }

    fn what(self) -> &'static str {
        match self {
            KeyPurpose::Registry => "registry key",
            KeyPurpose::Publisher => "publisher key",
        }
    }
}

/// A named ed25519 signing key: a registry's or a plugin publisher's.
pub struct NamedKey {
    /// Who the key belongs to.
    pub name: String,
    /// The key.
    pub signing: ed25519_dalek::SigningKey,
}

impl NamedKey {
    /// A new key.
    pub fn generate(name: &str) -> NamedKey {
        NamedKey {
            name: name.trim().to_string(),
            signing: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// Writes it, encrypted with a passphrase.
    pub fn save(
        &self,
        path: &Path,
        purpose: KeyPurpose,
        passphrase: &SecretString,
        log_n: u8,
    ) -> Result<(), SecretFileError> {
        let file = KeyFileBody {
            format: purpose.format().into(),
            name: self.name.clone(),
            signing_key: B64URL.encode(self.signing.to_bytes()),
        };
        let json = Zeroizing::new(serde_json::to_vec(&file).unwrap_or_default());
        write_sealed(path, &json, passphrase, log_n)
    }

    /// Reads one.
    pub fn load(
        path: &Path,
        purpose: KeyPurpose,
        passphrase: &SecretString,
    ) -> Result<NamedKey, SecretFileError> {
        let json = read_sealed(path, purpose.what(), passphrase)?;
        let corrupt = || SecretFileError::Corrupt(path.display().to_string());
        let file: KeyFileBody = serde_json::from_slice(&json).map_err(|_| corrupt())?;
        if file.format != purpose.format() {
            return Err(SecretFileError::Corrupt(format!(
                "{} (not a {})",
                path.display(),
                purpose.what()
            )));
        }
        Ok(NamedKey {
            name: file.name.clone(),
            signing: signing_key(&file.signing_key).ok_or_else(corrupt)?,
        })
    }
}

/// An ed25519 key from its base64url secret bytes, as the files hold it.
pub(crate) fn signing_key(b64: &str) -> Option<ed25519_dalek::SigningKey> {
    let bytes = Zeroizing::new(B64URL.decode(b64).ok()?);
    let key: Zeroizing<[u8; 32]> = Zeroizing::new(bytes.as_slice().try_into().ok()?);
    Some(ed25519_dalek::SigningKey::from_bytes(&key))
}
