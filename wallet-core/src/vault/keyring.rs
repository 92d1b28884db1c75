//! The keyring: the wallet's secret keys, sealed with the passphrase.
//!
//! `keyring.age` is a standard age file encrypted to an scrypt recipient, so the
//! owner can open it with the stock `age` tool if Amanat is ever gone. Inside:
//! the age X25519 identity (shares addressed to this wallet), the ed25519 signing
//! key (consent grants), and the vault data key that every stored value is sealed
//! under. Changing the passphrase rewrites only this small file.

use std::io::{Read, Write};
use std::iter;

use age::secrecy::{ExposeSecret, SecretString};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The scrypt work factor (log2 N) used unless told otherwise: about a second here.
///
/// age calibrates its own factor to the machine's momentary speed, which varies
/// with load; a pinned value makes unlock time predictable and reproducible.
pub const DEFAULT_KDF_LOG_N: u8 = 18;

/// Lowest work factor accepted (for tests and very small devices).
pub const MIN_KDF_LOG_N: u8 = 10;

/// Highest work factor accepted when opening, so a hostile keyring cannot demand
/// hours of work and gigabytes of memory.
pub const MAX_KDF_LOG_N: u8 = 22;

/// The wallet's secret keys, wiped from memory when dropped.
pub struct Keys {
    pub(crate) age: age::x25519::Identity,
    pub(crate) signing: ed25519_dalek::SigningKey,
    pub(crate) data_key: Zeroizing<[u8; 32]>,
    /// What the storage names (dedup index, share, plugin and registry keys)
    /// are keyed with. Rotating the data key keeps it, so names stay put and
    /// need no content to recompute; a wallet made before it existed uses its
    /// first data key, which is what its names were made with.
    pub(crate) index_key: Zeroizing<[u8; 32]>,
    pub(crate) kdf_log_n: u8,
}

impl Keys {
    /// Fresh random keys.
    pub(crate) fn generate(kdf_log_n: u8) -> Self {
        Self {
            age: age::x25519::Identity::generate(),
            signing: ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng),
            data_key: Zeroizing::new(rand::random()),
            index_key: Zeroizing::new(rand::random()),
            kdf_log_n,
        }
    }
}

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct KeyringFile {
    format: String,
    version: u32,
    age_identity: String,
    signing_key: String,
    data_key: String,
    /// Absent in keyrings written before key rotation existed: then the data key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index_key: Option<String>,
    kdf_log_n: u8,
}

const FORMAT: &str = "amanat-keyring";
const VERSION: u32 = 1;

/// Why the keyring could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The passphrase does not open it.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// It asks for more scrypt work than allowed.
    #[error("the keyring asks for scrypt work factor {0}, above the limit of {MAX_KDF_LOG_N}")]
    ExcessiveWork(u8),
    /// It is not a keyring this version understands.
    #[error("the keyring is damaged or from an unknown version: {0}")]
    Corrupt(String),
}

/// Seals the keys with the passphrase as an age scrypt file.
pub(crate) fn seal(keys: &Keys, passphrase: &SecretString) -> Vec<u8> {
    let file = KeyringFile {
        format: FORMAT.into(),
        version: VERSION,
        age_identity: keys.age.to_string().expose_secret().to_string(),
        signing_key: B64.encode(keys.signing.to_bytes()),
        data_key: B64.encode(&keys.data_key[..]),
        index_key: Some(B64.encode(&keys.index_key[..])),
        kdf_log_n: keys.kdf_log_n,
    };
    let plaintext = Zeroizing::new(serde_json::to_vec(&file).unwrap_or_default());
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    recipient.set_work_factor(keys.kdf_log_n);
    let mut out = Vec::with_capacity(plaintext.len() + 256);
    // An scrypt recipient alone always forms a valid recipient set, and writing to
    // a Vec cannot fail.
    if let Ok(encryptor) = age::Encryptor::with_recipients(iter::once(&recipient as &dyn age::Recipient))
        && let Ok(mut writer) = encryptor.wrap_output(&mut out)
    {
        let _ = writer.write_all(&plaintext);
        let _ = writer.finish();
    }
    out
}

/// Opens a sealed keyring.
pub(crate) fn open(sealed: &[u8], passphrase: &SecretString) -> Result<Keys, KeyringError> {
    let decryptor = age::Decryptor::new_buffered(sealed).map_err(|e| KeyringError::Corrupt(e.to_string()))?;
    if !decryptor.is_scrypt() {
        return Err(KeyringError::Corrupt("not passphrase-encrypted".into()));
    }
    let mut identity = age::scrypt::Identity::new(passphrase.clone());
    identity.set_max_work_factor(MAX_KDF_LOG_N);
    let mut reader = decryptor
        .decrypt(iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::ExcessiveWork { required, .. } => KeyringError::ExcessiveWork(required),
            age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::NoMatchingKeys => KeyringError::WrongPassphrase,
            other => KeyringError::Corrupt(other.to_string()),
        })?;
    let mut plaintext = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut plaintext)
        .map_err(|e| KeyringError::Corrupt(e.to_string()))?;
    let file: KeyringFile =
        serde_json::from_slice(&plaintext).map_err(|e| KeyringError::Corrupt(e.to_string()))?;
    if file.format != FORMAT || file.version != VERSION {
        return Err(KeyringError::Corrupt(format!(
            "format {} version {}",
            file.format, file.version
        )));
    }
    let age = file
        .age_identity
        .parse::<age::x25519::Identity>()
        .map_err(|_| KeyringError::Corrupt("age identity".into()))?;
    let signing = decode32(&file.signing_key)?;
    let data_key = decode32(&file.data_key)?;
    let index_key = match &file.index_key {
        Some(text) => decode32(text)?,
        None => data_key.clone(),
    };
    Ok(Keys {
        age,
        signing: ed25519_dalek::SigningKey::from_bytes(&signing),
        data_key,
        index_key,
        kdf_log_n: file.kdf_log_n,
    })
}

fn decode32(text: &str) -> Result<Zeroizing<[u8; 32]>, KeyringError> {
    let bytes = Zeroizing::new(
        B64.decode(text)
            .map_err(|_| KeyringError::Corrupt("key encoding".into()))?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(KeyringError::Corrupt("key length".into()));
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_wrong_passphrase() {
        let keys = Keys::generate(MIN_KDF_LOG_N);
        let sealed = seal(&keys, &SecretString::from("correct horse"));
        assert!(sealed.starts_with(b"age-encryption.org/v1"));
        let opened = open(&sealed, &SecretString::from("correct horse")).unwrap();
        assert_eq!(opened.signing.to_bytes(), keys.signing.to_bytes());
        assert_eq!(*opened.data_key, *keys.data_key);
        assert!(matches!(
            open(&sealed, &SecretString::from("wrong")),
            Err(KeyringError::WrongPassphrase)
        ));
    }
}
