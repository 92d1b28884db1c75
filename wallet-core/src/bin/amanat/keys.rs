//! The signing keys of registries and plugin publishers, kept in
//! passphrase-sealed files (`wallet_core::secret_file::NamedKey`).

use std::path::Path;

use anyhow::Result;
use wallet_core::secret_file::{KeyPurpose, NamedKey};
use wallet_core::vault::DEFAULT_KDF_LOG_N;

use crate::cli::KdfArg;
use crate::prompt;

/// Where a key's passphrase comes from in scripts, and the key in words.
fn passphrase_of(purpose: KeyPurpose) -> (&'static str, &'static str) {
    match purpose {
        KeyPurpose::Registry => ("AMANAT_REGISTRY_PASSPHRASE", "the registry key"),
        KeyPurpose::Publisher => ("AMANAT_PUBLISHER_PASSPHRASE", "your publisher key"),
    }
}

/// A new key named `name`, written to `path` under a new passphrase.
pub fn create(purpose: KeyPurpose, name: &str, path: &Path, kdf: &KdfArg) -> Result<NamedKey> {
    let key = NamedKey::generate(name);
    let (var, what) = passphrase_of(purpose);
    let pass = prompt::new(var, what)?;
    key.save(
        path,
        purpose,
        &pass,
        kdf.kdf_work_factor.unwrap_or(DEFAULT_KDF_LOG_N),
    )?;
    Ok(key)
}

/// The key at `path`, opened with its passphrase.
pub fn open(purpose: KeyPurpose, path: &Path) -> Result<NamedKey> {
    let (var, _) = passphrase_of(purpose);
    let pass = prompt::existing(var, &format!("Passphrase for {}: ", path.display()))?;
    Ok(NamedKey::load(path, purpose, &pass)?)
}
