//! Records signed by the provider who wrote them (docs/provenance.md).
//!
//! A doctor signs a prescription, a lab a result: a JWS (RFC 7515, EdDSA)
//! whose payload is the resource's exact JSON bytes, by the provider's key,
//! its header naming the provider and the registry that lists them. The
//! wallet imports it only when the signature verifies *and* a registry the
//! patient trusts lists that registration with that key, and keeps the
//! signature (detached, RFC 7515 Appendix F) with the record; a share carries
//! it beside the record's bytes, so the doctor's client verifies it again.
//!
//! The payload is the resource's compact JSON, exactly as the wallet stores
//! it (and as `JSON.stringify` writes it): otherwise the signature could not
//! travel with the record, so such a record is refused, saying so.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{ProviderCard, RegistrySnapshot};
use crate::fhir::Resource;
use crate::share::grant::thumbprint;

/// A signed record's text (a file's content, a QR code) starts with this.
pub const RECORD_PREFIX: &str = "AMANAT-RECORD:";

/// The JWS `typ` of a signed record.
pub const RECORD_TYP: &str = "amanat-record+jws";

/// The largest signed record read (a prescription or a report, not a scan).
pub const MAX_SIGNED_RECORD: usize = 1 << 20;

/// Why a signed record was refused. Each says what the patient can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignedRecordError {
    /// Not a signed record at all.
    #[error("not a signed record: {0}")]
    Malformed(String),
    /// Signed with an algorithm or key type Amanat does not take.
    #[error("the record is signed with {0}; Amanat takes EdDSA (Ed25519) signatures only")]
    Algorithm(String),
    /// The signature does not verify over these bytes.
    #[error("the record or its signature was altered: the signature does not verify")]
    Altered,
    /// The signed bytes are not the resource's compact JSON.
    #[error(
        "the signed bytes are not the record's compact JSON (as JSON.stringify writes it), so the signature could not travel with it; ask the signer to sign the compact form"
    )]
    NotCompact,
    /// The signed bytes are not one valid FHIR resource.
    #[error("the signed record is not a valid FHIR resource {0}")]
    Fhir(#[from] crate::fhir::FhirError),
    /// The signer is not listed by a registry the patient trusts.
    #[error(
        "signed by {name} ({registration}), who is not listed by {registry}, or that registry is not one you trust: trust its snapshot first (amanat registry trust FILE --key THUMBPRINT)"
    )]
    Unlisted {
        /// The name the signature claims.
        name: String,
        /// The registration number it claims.
        registration: String,
        /// The registry it names.
        registry: String,
    },
    /// The registry lists the registration with another key.
    #[error(
        "signed by a key that is not the one {registry} lists for {registration}: refused (someone else signed it in that doctor's name)"
    )]
    WrongKey {
        /// The registration number the signature claims.
        registration: String,
        /// The registry that lists it with another key.
        registry: String,
    },
    /// A plugin proposed a record signed by a key other than the one its
    /// publisher signed the plugin with.
    #[error(
        "the record is signed by a key that is not this plugin's publisher's: refused (a plugin proposes signed records only as its publisher signed them)"
    )]
    NotThePublisher,
}

/// Who signed a record, as its signature states them (and, in a wallet,
/// as a trusted registry confirmed at import).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The provider's name, e.g. `Dr. Imran Rao`.
    pub name: String,
    /// Their registration number, e.g. `PMDC-12345-P`.
    pub registration: String,
    /// The registry that lists them.
    pub registry: String,
    /// RFC 7638 thumbprint of the signing key.
    pub key: String,
}

impl std::fmt::Display for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.registration, self.registry)
    }
}

/// Who signed, in the header: what the registry must confirm.
#[derive(Serialize, Deserialize)]
struct Claim {
    name: String,
    registration: String,
    registry: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    #[serde(flatten)]
    jws: crate::jws::Header,
    /// When it was signed (seconds since 1970).
    iat: i64,
    signer: Claim,
}

/// Signs `resource` as `card`'s provider, listed by `registry`: the text of a
/// signed record (`AMANAT-RECORD:` and a compact JWS).
pub fn sign(resource: &Resource, key: &SigningKey, card: &ProviderCard, registry: &str, now: i64) -> String {
    let claim = Claim {
        name: card.name.clone(),
        registration: card.registration.clone(),
        registry: registry.trim().to_string(),
    };
    sign_claim(resource, key, claim, now)
}

/// What a plugin publisher's claim names as its registration: the
/// publisher is known by its key, which a registry lists among publishers.
pub const PUBLISHER: &str = "plugin publisher";

/// Signs `resource` as a plugin's publisher (a lab's system signing the
/// report its plugin then proposes), with the key the plugin is signed with;
/// `registry` is the one that lists that key among its publishers.
pub fn sign_as_publisher(
    resource: &Resource,
    key: &SigningKey,
    publisher: &str,
    registry: &str,
    now: i64,
) -> String {
    let claim = Claim {
        name: publisher.trim().to_string(),
        registration: PUBLISHER.into(),
        registry: registry.trim().to_string(),
    };
    sign_claim(resource, key, claim, now)
}

fn sign_claim(resource: &Resource, key: &SigningKey, signer: Claim, now: i64) -> String {
    let header = Header {
        jws: crate::jws::Header::new(RECORD_TYP, &key.verifying_key()),
        iat: now,
        signer,
    };
    let input = format!(
        "{}.{}",
        B64URL.encode(serde_json::to_vec(&header).unwrap_or_default()),
        B64URL.encode(resource.to_bytes())
    );
    let signature = key.sign(input.as_bytes());
    format!("{RECORD_PREFIX}{input}.{}", B64URL.encode(signature.to_bytes()))
}

/// Whether `bytes` look like a signed record (judged by the prefix).
pub fn is_signed_record(bytes: &[u8]) -> bool {
    bytes.trim_ascii_start().starts_with(RECORD_PREFIX.as_bytes())
}

/// A signed record whose signature verified over its bytes; who signed it
/// is still only a claim until [`Opened::listed`] checks a registry.
pub struct Opened {
    /// The record.
    pub resource: Resource,
    /// The signature without its payload (`header..signature`): what the
    /// wallet keeps and shares carry beside the record's bytes.
    pub detached: String,
    /// When it was signed, as the signer says (seconds since 1970).
    pub signed_at: i64,
    claim: Claim,
    key: VerifyingKey,
}

/// Verifies a signed record's text: its signature over its bytes, and that
/// those bytes are one FHIR resource in the compact form the wallet stores.
pub fn open(text: &[u8]) -> Result<Opened, SignedRecordError> {
    if text.len() > MAX_SIGNED_RECORD {
        return Err(SignedRecordError::Malformed(format!(
            "{} bytes is more than a signed record's {MAX_SIGNED_RECORD}",
            text.len()
        )));
    }
    let text = std::str::from_utf8(text)
        .map_err(|_| SignedRecordError::Malformed("it is not text".into()))?
        .trim();
    let [h, p, s] = crate::jws::parts(text, RECORD_PREFIX, "a signed record")?;
    let payload = B64URL
        .decode(p)
        .map_err(|_| SignedRecordError::Malformed("the payload is not base64url".into()))?;
    let (header, key) = verify(h, p, s)?;
    let resource = Resource::from_slice(&payload)?;
    resource.describe()?;
    if resource.to_bytes() != payload {
        return Err(SignedRecordError::NotCompact);
    }
    Ok(Opened {
        resource,
        detached: format!("{h}..{s}"),
        signed_at: header.iat,
        claim: header.signer,
        key,
    })
}

impl crate::jws::Headed for Header {
    fn jws(&self) -> &crate::jws::Header {
        &self.jws
    }
}

impl From<crate::jws::Failed> for SignedRecordError {
    fn from(failed: crate::jws::Failed) -> SignedRecordError {
        match failed {
            crate::jws::Failed::Algorithm(alg) => SignedRecordError::Algorithm(alg),
            crate::jws::Failed::Malformed(words) => SignedRecordError::Malformed(words),
            crate::jws::Failed::Altered => SignedRecordError::Altered,
        }
    }
}

/// Checks a signature's header and the signature over `h.p`, returning the
/// header and the signer's key.
fn verify(h: &str, p: &str, s: &str) -> Result<(Header, VerifyingKey), SignedRecordError> {
    Ok(crate::jws::verify_compact(
        [h, p, s],
        RECORD_TYP,
        "a signed record",
    )?)
}

impl Opened {
    /// Checks that it is signed with `publisher`, the key that signed the
    /// plugin proposing it (the patient approved that plugin at install,
    /// and the wallet judges its publisher as it judges the plugin).
    pub fn by_publisher(&self, publisher: &VerifyingKey) -> Result<(), SignedRecordError> {
        if &self.key != publisher {
            return Err(SignedRecordError::NotThePublisher);
        }
        Ok(())
    }

    /// The signing key's RFC 7638 thumbprint.
    pub fn key_thumbprint(&self) -> String {
        thumbprint(&self.key)
    }

    /// Who signed it, once a registry among `registries` (those the patient
    /// trusts) confirms it lists that registration with that key.
    pub fn listed(&self, registries: &[RegistrySnapshot]) -> Result<Signer, SignedRecordError> {
        let claim = &self.claim;
        let listed = registries
            .iter()
            .filter(|r| r.registry == claim.registry)
            .find_map(|r| r.find(&claim.registration));
        let Some(card) = listed else {
            return Err(SignedRecordError::Unlisted {
                name: claim.name.clone(),
                registration: claim.registration.clone(),
                registry: claim.registry.clone(),
            });
        };
        if card.verifying_key().ok() != Some(self.key) {
            return Err(SignedRecordError::WrongKey {
                registration: claim.registration.clone(),
                registry: claim.registry.clone(),
            });
        }
        Ok(Signer {
            name: card.name.clone(),
            registration: card.registration.clone(),
            registry: claim.registry.clone(),
            key: thumbprint(&self.key),
        })
    }
}

/// Verifies a detached signature (`header..signature`) over a record's exact
/// bytes, as a share carries them: who signed, as the signature states them.
/// The registry listing was checked by the patient's wallet when the record
/// was imported; the doctor sees the key's thumbprint to check it themselves.
pub fn verify_detached(detached: &str, bytes: &[u8]) -> Result<Signer, SignedRecordError> {
    let [h, "", s] = detached.split('.').collect::<Vec<_>>()[..] else {
        return Err(SignedRecordError::Malformed(
            "a detached signature is header..signature".into(),
        ));
    };
    let (header, key) = verify(h, &B64URL.encode(bytes), s)?;
    Ok(Signer {
        name: header.signer.name,
        registration: header.signer.registration,
        registry: header.signer.registry,
        key: thumbprint(&key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(seed: u8) -> (SigningKey, ProviderCard) {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let card = ProviderCard {
            v: 1,
            name: "Dr. Imran Rao".into(),
            registration: "PMDC-12345-P".into(),
            key: B64URL.encode(key.verifying_key().as_bytes()),
            age: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj".into(),
        };
        (key, card)
    }

    fn registry(cards: Vec<ProviderCard>) -> RegistrySnapshot {
        RegistrySnapshot {
            v: 1,
            registry: "PMDC".into(),
            issued: 0,
            providers: cards,
            publishers: Vec::new(),
        }
    }

    fn prescription() -> Resource {
        Resource::from_slice(
            br#"{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"display":"Ayesha Khan"},"medicationCodeableConcept":{"text":"Amoxicillin 500 mg"},"authoredOn":"2026-11-30"}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_signed_record_opens_and_names_its_listed_signer() {
        let (key, card) = provider(7);
        let text = sign(&prescription(), &key, &card, "PMDC", 1_790_000_000);
        let opened = open(text.as_bytes()).unwrap();
        assert_eq!(opened.resource.to_bytes(), prescription().to_bytes());
        assert_eq!(opened.signed_at, 1_790_000_000);
        let signer = opened.listed(&[registry(vec![card.clone()])]).unwrap();
        assert_eq!(signer.to_string(), "Dr. Imran Rao (PMDC-12345-P, PMDC)");
        // The detached signature verifies over the same bytes, and no others.
        let travelled = verify_detached(&opened.detached, &prescription().to_bytes()).unwrap();
        assert_eq!(travelled, signer);
        let other = String::from_utf8(prescription().to_bytes())
            .unwrap()
            .replace("500", "875");
        assert_eq!(
            verify_detached(&opened.detached, other.as_bytes()),
            Err(SignedRecordError::Altered)
        );
    }

    #[test]
    fn altered_unlisted_and_impostor_records_are_refused_each_in_words() {
        let (key, card) = provider(7);
        let text = sign(&prescription(), &key, &card, "PMDC", 0);
        // Altered payload: one character of the base64url changed.
        let (head, rest) = text.split_at(text.find('.').unwrap() + 20);
        let flipped = if rest.starts_with('A') { "B" } else { "A" };
        let altered = format!("{head}{flipped}{}", &rest[1..]);
        assert!(matches!(
            open(altered.as_bytes()),
            Err(SignedRecordError::Altered | SignedRecordError::Malformed(_))
        ));
        // Listed by no registry the patient trusts; by another registry's name.
        let opened = open(text.as_bytes()).unwrap();
        assert!(matches!(
            opened.listed(&[]),
            Err(SignedRecordError::Unlisted { .. })
        ));
        let mut elsewhere = registry(vec![card.clone()]);
        elsewhere.registry = "Another council".into();
        assert!(matches!(
            opened.listed(&[elsewhere]),
            Err(SignedRecordError::Unlisted { .. })
        ));
        // Someone signs in the doctor's name with their own key.
        let (impostor, mut claimed) = provider(9);
        claimed.key = card.key.clone();
        let forged = sign(&prescription(), &impostor, &claimed, "PMDC", 0);
        assert_eq!(
            open(forged.as_bytes())
                .unwrap()
                .listed(&[registry(vec![card])])
                .err(),
            Some(SignedRecordError::WrongKey {
                registration: "PMDC-12345-P".into(),
                registry: "PMDC".into()
            })
        );
    }

    #[test]
    fn only_compact_json_of_one_resource_is_taken() {
        let (key, card) = provider(7);
        let text = sign(&prescription(), &key, &card, "PMDC", 0);
        let compact = text.strip_prefix(RECORD_PREFIX).unwrap();
        let [h, _, _] = compact.split('.').collect::<Vec<_>>()[..] else {
            panic!()
        };
        let resign = |payload: &[u8]| {
            let input = format!("{h}.{}", B64URL.encode(payload));
            let sig = B64URL.encode(key.sign(input.as_bytes()).to_bytes());
            format!("{RECORD_PREFIX}{input}.{sig}")
        };
        let pretty = serde_json::to_vec_pretty(prescription().json()).unwrap();
        assert_eq!(
            open(resign(&pretty).as_bytes()).err(),
            Some(SignedRecordError::NotCompact)
        );
        assert!(matches!(
            open(resign(b"[1,2]").as_bytes()),
            Err(SignedRecordError::Fhir(_))
        ));
        assert!(matches!(
            open(b"AMANAT-RECORD:a.b"),
            Err(SignedRecordError::Malformed(_))
        ));
        assert!(matches!(open(b"{}"), Err(SignedRecordError::Malformed(_))));
    }

    /// The vector in docs/provenance.md and tests/vectors/signed-record/:
    /// a fixed key signing a fixed prescription verifies, and gives the
    /// signer it states.
    #[test]
    fn the_published_vector_verifies() {
        let text = include_str!("../../tests/vectors/signed-record/prescription.amanat-record");
        let card = include_str!("../../tests/vectors/signed-record/provider-card.json");
        let card = ProviderCard::parse(card).unwrap();
        let opened = open(text.as_bytes()).unwrap();
        let mut council = registry(vec![card]);
        council.registry = "Pakistan Medical & Dental Council".into();
        let signer = opened.listed(&[council]).unwrap();
        assert_eq!(signer.registration, "PMDC-12345-P");
        assert_eq!(signer.key, "--6IM5l0OosLj9yWskISYhUA3n_3CURQkmrYMSha_ck");
        assert_eq!(opened.resource.resource_type(), "MedicationRequest");
    }
}
