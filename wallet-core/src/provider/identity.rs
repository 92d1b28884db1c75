//! A provider's identity: their card and the secret keys behind it, kept in a
//! passphrase-encrypted age file (see [`crate::secret_file`]) on the doctor's
//! machine, never in a wallet.

use std::path::Path;

use age::secrecy::SecretString;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::ProviderCard;
use crate::secret_file::{SecretFileError, read_sealed, signing_key, write_sealed};

#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
struct IdentityFile {
    format: String,
    name: String,
    registration: String,
    signing_key: String,
    age_identity: String,
}

/// A provider's identity: their card and the secret keys behind it.
pub struct ProviderIdentity {
    /// The public card.
    pub card: ProviderCard,
    /// The ed25519 key.
    pub signing: ed25519_dalek::SigningKey,
    /// The age key shares are encrypted to.
    pub age: age::x25519::Identity,
}

impl ProviderIdentity {
    /// A new identity.
    pub fn generate(name: &str, registration: &str) -> ProviderIdentity {
        let signing = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
        let age = age::x25519::Identity::generate();
        ProviderIdentity::of(name.trim(), registration.trim(), signing, age)
    }

    /// The identity of these keys, with the card that publishes them.
    fn of(
        name: &str,
        registration: &str,
        signing: ed25519_dalek::SigningKey,
        age: age::x25519::Identity,
    ) -> ProviderIdentity {
        let card = ProviderCard {
            v: 1,
            name: name.to_string(),
            registration: registration.to_string(),
            key: B64URL.encode(signing.verifying_key().as_bytes()),
            age: age.to_public().to_string(),
        };
        ProviderIdentity { card, signing, age }
    }

    /// Writes it, encrypted with a passphrase.
    pub fn save(&self, path: &Path, passphrase: &SecretString, log_n: u8) -> Result<(), SecretFileError> {
        use age::secrecy::ExposeSecret;
        let file = IdentityFile {
            format: "amanat-provider-identity-v1".into(),
            name: self.card.name.clone(),
            registration: self.card.registration.clone(),
            signing_key: B64URL.encode(self.signing.to_bytes()),
            age_identity: self.age.to_string().expose_secret().to_string(),
        };
        let json = Zeroizing::new(serde_json::to_vec(&file).unwrap_or_default());
        write_sealed(path, &json, passphrase, log_n)
    }

    /// Reads one.
    pub fn load(path: &Path, passphrase: &SecretString) -> Result<ProviderIdentity, SecretFileError> {
        let json = read_sealed(path, "provider identity", passphrase)?;
        let corrupt = || SecretFileError::Corrupt(path.display().to_string());
        let file: IdentityFile = serde_json::from_slice(&json).map_err(|_| corrupt())?;
        if file.format != "amanat-provider-identity-v1" {
            return Err(corrupt());
        }
        let signing = signing_key(&file.signing_key).ok_or_else(corrupt)?;
        let age: age::x25519::Identity = file.age_identity.parse().map_err(|_| corrupt())?;
        Ok(ProviderIdentity::of(&file.name, &file.registration, signing, age))
    }
}
