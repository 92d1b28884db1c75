//! Providers and registries (ABDM's Healthcare Professionals Registry, DigiDoctor).
//!
//! A provider (a doctor, a facility) has an ed25519 key that proves who they are
//! and an age key that records can be encrypted to. Their public **card** is what a
//! patient passes to `amanat share --to`. A **registry snapshot** is a list of cards
//! signed by a registry's key (a medical council, a facility registry); a wallet
//! that trusts the registry can name a provider by registration number, and a
//! doctor's client can show that a registration was vouched for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::share::grant::{Grantee, thumbprint};

pub mod facility;
#[cfg(feature = "native")]
pub mod identity;
pub mod request;
pub mod signed;

/// Card text starts with this.
pub const CARD_PREFIX: &str = "AMANAT-CARD:";

/// Why a card or registry snapshot was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// Not a card.
    #[error("not a provider card: {0}")]
    Card(String),
    /// Not a registry snapshot, or its signature fails.
    #[error("the registry snapshot is not valid: {0}")]
    Registry(String),
    /// The snapshot was signed by a registry this wallet does not trust.
    #[error("the registry snapshot is signed by key {0}, which is not the registry's key you gave")]
    UntrustedRegistry(String),
}

/// A provider's public card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderCard {
    /// Format version (1).
    pub v: u32,
    /// Name, e.g. `Dr. Imran Rao`.
    pub name: String,
    /// Registration number with the council's prefix, e.g. `PMDC-12345-P` or an HPR id.
    pub registration: String,
    /// ed25519 public key, base64url.
    pub key: String,
    /// age recipient, `age1…`.
    pub age: String,
}

impl ProviderCard {
    /// Checks that the keys parse.
    pub fn validate(&self) -> Result<(), ProviderError> {
        if self.v != 1 {
            return Err(ProviderError::Card(format!("version {} is not known", self.v)));
        }
        if self.name.trim().is_empty() || self.registration.trim().is_empty() {
            return Err(ProviderError::Card(
                "a card needs a name and a registration number".into(),
            ));
        }
        self.verifying_key()?;
        if !crate::share::age_open::is_x25519_recipient(&self.age) {
            return Err(ProviderError::Card(format!(
                "'{}' is not an age recipient",
                self.age
            )));
        }
        Ok(())
    }

    /// The provider's ed25519 key.
    pub fn verifying_key(&self) -> Result<VerifyingKey, ProviderError> {
        let bytes: [u8; 32] = B64URL
            .decode(&self.key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ProviderError::Card("the signing key is not 32 bytes of base64url".into()))?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| ProviderError::Card("the signing key is invalid".into()))
    }

    /// The provider's age recipient.
    #[cfg(feature = "native")]
    pub fn recipient(&self) -> Result<age::x25519::Recipient, ProviderError> {
        self.age
            .parse()
            .map_err(|_| ProviderError::Card(format!("'{}' is not an age recipient", self.age)))
    }

    /// The compact text form: `AMANAT-CARD:` + base64url(JSON).
    pub fn to_text(&self) -> String {
        format!(
            "{CARD_PREFIX}{}",
            B64URL.encode(serde_json::to_vec(self).unwrap_or_default())
        )
    }

    /// Parses the text form, or the JSON form.
    pub fn parse(text: &str) -> Result<ProviderCard, ProviderError> {
        let text = text.trim();
        let json = if let Some(rest) = text.strip_prefix(CARD_PREFIX) {
            B64URL
                .decode(rest.trim())
                .map_err(|_| ProviderError::Card("the text after AMANAT-CARD: is not base64url".into()))?
        } else if text.starts_with('{') {
            text.as_bytes().to_vec()
        } else {
            return Err(ProviderError::Card(format!(
                "it should start with {CARD_PREFIX} or be JSON"
            )));
        };
        let card: ProviderCard =
            serde_json::from_slice(&json).map_err(|e| ProviderError::Card(e.to_string()))?;
        card.validate()?;
        Ok(card)
    }

    /// The grantee a grant names for this provider.
    pub fn grantee(&self, registry: Option<String>) -> Grantee {
        Grantee::Provider {
            name: self.name.clone(),
            registration: self.registration.clone(),
            key: self.key.clone(),
            age: self.age.clone(),
            registry,
        }
    }
}

/// A registry's signed list of provider cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrySnapshot {
    /// Format version (1).
    pub v: u32,
    /// The registry's name, e.g. `Pakistan Medical & Dental Council`.
    pub registry: String,
    /// When the snapshot was issued (seconds since 1970).
    pub issued: i64,
    /// The providers it vouches for.
    pub providers: Vec<ProviderCard>,
    /// The plugin publishers it vouches for (a lab association or a national
    /// plugin directory signs these); absent in provider-only snapshots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<Publisher>,
}

/// A plugin publisher a registry vouches for: the key its plugins are signed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// The publisher's name as the registry knows it.
    pub name: String,
    /// Its ed25519 key, base64url (a plugin manifest's `publisher_key`).
    pub key: String,
}

#[derive(Serialize, Deserialize)]
struct SignedSnapshot {
    snapshot: String,
    key: String,
    signature: String,
}

impl RegistrySnapshot {
    /// Signs the snapshot: a JSON file `{snapshot, key, signature}` where
    /// `snapshot` is the base64url JSON that was signed.
    pub fn sign(&self, key: &SigningKey) -> String {
        let body = serde_json::to_vec(self).unwrap_or_default();
        let signed = SignedSnapshot {
            snapshot: B64URL.encode(&body),
            key: B64URL.encode(key.verifying_key().as_bytes()),
            signature: B64URL.encode(key.sign(&body).to_bytes()),
        };
        serde_json::to_string_pretty(&signed).unwrap_or_default()
    }

    /// Verifies a signed snapshot, optionally against the expected registry key
    /// (base64url or its thumbprint). Returns the snapshot and the signer's key.
    pub fn verify(
        text: &str,
        expected_key: Option<&str>,
    ) -> Result<(RegistrySnapshot, VerifyingKey), ProviderError> {
        let bad = |m: &str| ProviderError::Registry(m.to_string());
        let signed: SignedSnapshot = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let key_bytes: [u8; 32] = B64URL
            .decode(&signed.key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the registry key is not 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| bad("the registry key is invalid"))?;
        if let Some(expected) = expected_key
            && expected != signed.key
            && expected != thumbprint(&key)
        {
            return Err(ProviderError::UntrustedRegistry(thumbprint(&key)));
        }
        let body = B64URL
            .decode(&signed.snapshot)
            .map_err(|_| bad("the snapshot is not base64url"))?;
        let sig: [u8; 64] = B64URL
            .decode(&signed.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the signature is not 64 bytes"))?;
        key.verify_strict(&body, &Signature::from_bytes(&sig))
            .map_err(|_| bad("its signature does not verify (it was altered)"))?;
        let snapshot: RegistrySnapshot = serde_json::from_slice(&body).map_err(|e| bad(&e.to_string()))?;
        for card in &snapshot.providers {
            card.validate()?;
        }
        Ok((snapshot, key))
    }

    /// The publisher whose plugins are signed with `key` (base64url), if listed.
    pub fn publisher(&self, key: &str) -> Option<&Publisher> {
        self.publishers.iter().find(|p| p.key == key)
    }

    /// The card with this registration number (case-insensitive).
    pub fn find(&self, registration: &str) -> Option<&ProviderCard> {
        self.providers
            .iter()
            .find(|c| c.registration.eq_ignore_ascii_case(registration.trim()))
    }
}

/// Whether `s` is plain words a wallet can show: not blank, at most `max`
/// bytes, no control characters (the fields of requests and cards).
pub(crate) fn plain(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control)
}

/// Where a provider stands with the registries the patient trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "listed", rename_all = "lowercase")]
pub enum Listing {
    /// Listed with this key by this registry.
    Yes {
        /// The registry's name.
        registry: String,
    },
    /// In no registry the patient trusts.
    No,
}

/// Whether a registry among `registries` lists `registration` with `key`.
/// A registry that lists it with another key is an `Err` naming that
/// registry: someone else signed in that provider's name.
pub fn listing(
    registries: &[RegistrySnapshot],
    registration: &str,
    key: &VerifyingKey,
) -> Result<Listing, String> {
    for r in registries {
        if let Some(card) = r.find(registration) {
            if card.verifying_key().ok().as_ref() != Some(key) {
                return Err(r.registry.clone());
            }
            return Ok(Listing::Yes {
                registry: r.registry.clone(),
            });
        }
    }
    Ok(Listing::No)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(seed: u8) -> ProviderCard {
        let key = SigningKey::from_bytes(&[seed; 32]);
        ProviderCard {
            v: 1,
            name: "Dr. Imran Rao".into(),
            registration: format!("PMDC-{seed}"),
            key: B64URL.encode(key.verifying_key().as_bytes()),
            age: age::x25519::Identity::generate().to_public().to_string(),
        }
    }

    #[test]
    fn card_text_round_trip_and_validation() {
        let c = card(1);
        assert_eq!(ProviderCard::parse(&c.to_text()).unwrap(), c);
        assert_eq!(
            ProviderCard::parse(&serde_json::to_string(&c).unwrap()).unwrap(),
            c
        );
        let mut bad = c.clone();
        bad.age = "age1nope".into();
        assert!(
            ProviderCard::parse(&bad.to_text())
                .unwrap_err()
                .to_string()
                .contains("not an age recipient")
        );
        assert!(ProviderCard::parse("hello").is_err());
    }

    #[test]
    fn registry_snapshot_signature_and_trust() {
        let registry = SigningKey::from_bytes(&[42; 32]);
        let snap = RegistrySnapshot {
            v: 1,
            registry: "PMDC".into(),
            issued: 0,
            providers: vec![card(1), card(2)],
            publishers: Vec::new(),
        };
        let text = snap.sign(&registry);
        let thumb = thumbprint(&registry.verifying_key());
        let (back, _) = RegistrySnapshot::verify(&text, Some(&thumb)).unwrap();
        assert_eq!(back.find("pmdc-2").unwrap().registration, "PMDC-2");
        let other = thumbprint(&SigningKey::from_bytes(&[1; 32]).verifying_key());
        assert!(matches!(
            RegistrySnapshot::verify(&text, Some(&other)),
            Err(ProviderError::UntrustedRegistry(_))
        ));
        let tampered = text.replacen("\"snapshot\": \"ey", "\"snapshot\": \"ex", 1);
        assert!(RegistrySnapshot::verify(&tampered, None).is_err());
    }
}
