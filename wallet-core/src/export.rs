//! Exports: one FHIR Bundle of a profile's records, as a standard age file.
//!
//! The output opens with the stock `age` tool (`age -d -i key.txt` or with the
//! passphrase), so a backup stays readable without Amanat. `amanat import`
//! restores it.

use std::io::Write;

use age::secrecy::SecretString;
use serde_json::Value;

use crate::fhir::date::FhirDateTime;
use crate::fhir::{bundle, urn_uuid};
use crate::ids::ProfileId;
use crate::vault::{Query, Vault, VaultError};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A record could not be read.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A recipient string is not an age recipient.
    #[error("'{0}' is not an age recipient (expected age1…)")]
    Recipient(String),
    /// Encryption failed.
    #[error("encryption failed: {0}")]
    Encrypt(String),
}

/// Who can open the export.
pub enum ExportTo {
    /// age X25519 recipients (`age1…`).
    Recipients(Vec<age::x25519::Recipient>),
    /// A passphrase (age scrypt), with a pinned work factor.
    Passphrase(SecretString, u8),
}

/// Parses `age1…` recipient strings.
pub fn parse_recipients(texts: &[String]) -> Result<Vec<age::x25519::Recipient>, ExportError> {
    texts
        .iter()
        .map(|t| t.trim().parse().map_err(|_| ExportError::Recipient(t.clone())))
        .collect()
}

/// All of a profile's records, oldest first, as a FHIR Bundle of type collection
/// (a document whole, as one entry: its entries are inside it).
pub fn profile_bundle(vault: &Vault, profile: ProfileId, now: i64) -> Result<(Value, usize), ExportError> {
    let all = vault.list(&Query {
        profile: Some(profile),
        ..Query::default()
    })?;
    // Every record is in the file: a document's entries inside it.
    let count = all.len();
    let mut metas = crate::record::documents_whole(all);
    metas.reverse();
    let mut entries = Vec::with_capacity(metas.len());
    for meta in &metas {
        let record = vault.get(meta.id)?;
        entries.push((urn_uuid(meta.id.as_bytes()), record.resource.into_value()));
    }
    let id = format!("amanat-export-{}", now);
    Ok((
        bundle("collection", &id, &FhirDateTime::from_unix(now), entries),
        count,
    ))
}

/// Encrypts bytes as an age file (ASCII-armored when asked).
pub fn encrypt(plaintext: &[u8], to: &ExportTo, armor: bool) -> Result<Vec<u8>, ExportError> {
    let encryptor = match to {
        ExportTo::Recipients(rs) => {
            age::Encryptor::with_recipients(rs.iter().map(|r| r as &dyn age::Recipient))
        }
        ExportTo::Passphrase(pass, log_n) => {
            let mut r = age::scrypt::Recipient::new(pass.clone());
            r.set_work_factor(*log_n);
            age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
        }
    }
    .map_err(|e| ExportError::Encrypt(e.to_string()))?;
    let err = |e: std::io::Error| ExportError::Encrypt(e.to_string());
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    {
        let format = if armor {
            age::armor::Format::AsciiArmor
        } else {
            age::armor::Format::Binary
        };
        let armored = age::armor::ArmoredWriter::wrap_output(&mut out, format).map_err(err)?;
        let mut writer = encryptor.wrap_output(armored).map_err(err)?;
        writer.write_all(plaintext).map_err(err)?;
        writer.finish().and_then(|a| a.finish()).map_err(err)?;
    }
    Ok(out)
}
