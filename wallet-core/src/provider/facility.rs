//! Scan & Share (docs/scan-share.md): a facility's registration counter
//! shows a QR code, its **facility card**, signed with the facility's
//! provider key; a patient scans it and, on approval, shares who they are
//! (the profile's name, birth date, gender, national IDs and phone, as a
//! FHIR `Patient`) to the facility's key, and nothing else. The facility's
//! inbox lists arrivals in order, each with a token number.
//!
//! A card is a JWS (RFC 7515, EdDSA, [`crate::jws`]) of type
//! `amanat-facility+jwt`, carried as `AMANAT-FACILITY:` and the compact JWS.
//! Arrivals go to the card's relay as shares whose grant id is the card's
//! id, the day (UTC) and the token ([`token_id`]): the first id free at the
//! relay is the patient's token, so no server hands out numbers and the
//! relay, which refuses a second share under an id, keeps them unique.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{Listing, ProviderCard, RegistrySnapshot, plain};
use crate::share::grant::{CLOCK_SKEW, MAX_SHARE_SECONDS, human_time, thumbprint, valid_grant_id};

/// A card's text (its QR code) starts with this.
pub const FACILITY_PREFIX: &str = "AMANAT-FACILITY:";

/// The JWS `typ` of a facility card.
pub const FACILITY_TYP: &str = "amanat-facility+jwt";

/// Format version.
pub const FACILITY_VERSION: u32 = 1;

/// The longest card text read (a card is a few hundred bytes).
pub const MAX_FACILITY_CARD: usize = 8 * 1024;

/// The longest card id: with `-YYYYMMDD-` and a token of up to five digits
/// it stays a grant id (at most 64 characters).
pub const MAX_CARD_ID: usize = 32;

/// The highest token a day's queue gives out.
pub const MAX_TOKEN: u32 = 99_999;

/// Why a facility card was refused. Each says what the patient can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FacilityError {
    /// Not a facility card at all, or malformed.
    #[error("not a facility card: {0}")]
    Malformed(String),
    /// Signed with something other than EdDSA.
    #[error("the facility card is signed with {0}; Amanat takes EdDSA (Ed25519) signatures only")]
    Algorithm(String),
    /// The signature does not verify.
    #[error("the facility card was altered: its signature does not verify")]
    Altered,
    /// A field is out of bounds.
    #[error("the facility card is not valid: {0}")]
    Invalid(String),
    /// Past its expiry.
    #[error("the facility card expired on {0}: ask at the counter for the current one")]
    Expired(String),
    /// Issued in the future.
    #[error("the facility card is dated in the future ({0}): check this device's clock")]
    Future(String),
    /// A trusted registry lists the facility with another key.
    #[error(
        "the card names facility {facility}, which {registry} lists with another key: refused (someone else posted a card in that facility's name)"
    )]
    WrongKey {
        /// The facility id the card claims.
        facility: String,
        /// The registry that lists it with another key.
        registry: String,
    },
}

impl From<crate::jws::Failed> for FacilityError {
    fn from(failed: crate::jws::Failed) -> FacilityError {
        match failed {
            crate::jws::Failed::Algorithm(alg) => FacilityError::Algorithm(alg),
            crate::jws::Failed::Malformed(words) => FacilityError::Malformed(words),
            crate::jws::Failed::Altered => FacilityError::Altered,
        }
    }
}

/// The facility, as a facility registry lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    /// Its name, e.g. `City Hospital OPD`.
    pub name: String,
    /// Its id in a facility registry (ABDM's HFR id), the registration a
    /// registry snapshot lists with its key.
    pub id: String,
    /// The counter the card hangs at, e.g. `Registration 2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<String>,
}

/// What a facility card says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilityCard {
    /// Format version ([`FACILITY_VERSION`]).
    pub v: u32,
    /// The card's id (random): the prefix of its arrivals' share ids.
    pub id: String,
    /// Which facility.
    pub facility: Facility,
    /// The age recipient arrivals are encrypted to.
    pub age: String,
    /// The relay arrivals are uploaded to.
    pub relay: String,
    /// How long the facility may read an arrival, in seconds.
    pub access: i64,
    /// Issued at (seconds since 1970).
    pub iat: i64,
    /// Valid until (seconds since 1970).
    pub exp: i64,
}

/// A card whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// What it says.
    pub card: FacilityCard,
    /// The facility's signing key.
    pub key: VerifyingKey,
}

impl FacilityCard {
    /// Signs the card with the facility's key: its text.
    pub fn sign(&self, key: &SigningKey) -> String {
        crate::jws::sign_compact(FACILITY_PREFIX, FACILITY_TYP, key, self)
    }

    /// Checks each field's bounds (a wallet shows these words to a patient).
    pub fn check_fields(&self) -> Result<(), FacilityError> {
        let invalid = |m: String| Err(FacilityError::Invalid(m));
        if self.v != FACILITY_VERSION {
            return invalid(format!("version {} is not known", self.v));
        }
        if !valid_grant_id(&self.id) || self.id.len() > MAX_CARD_ID {
            return invalid(format!("its id is not 1-{MAX_CARD_ID} letters, digits, - or _"));
        }
        let f = &self.facility;
        if !plain(&f.name, 120) || !plain(&f.id, 64) {
            return invalid("it needs the facility's name and registry id, in plain words".into());
        }
        if f.counter.as_deref().is_some_and(|c| !plain(c, 60)) {
            return invalid("its counter is not a short name in plain words".into());
        }
        if !crate::share::age_open::is_x25519_recipient(&self.age) {
            return invalid(format!("'{}' is not an age recipient", self.age));
        }
        if !(self.relay.starts_with("https://") || self.relay.starts_with("http://")) {
            return invalid("its relay is not an http(s) address".into());
        }
        if self.access <= 0 || self.access > MAX_SHARE_SECONDS {
            return invalid("access is asked for between a second and a year".into());
        }
        if self.exp <= self.iat {
            return invalid("it expires before it was made".into());
        }
        Ok(())
    }

    /// Checks that it is in force at `now`.
    pub fn check_time(&self, now: i64) -> Result<(), FacilityError> {
        if now + CLOCK_SKEW < self.iat {
            return Err(FacilityError::Future(human_time(self.iat)));
        }
        if now >= self.exp {
            return Err(FacilityError::Expired(human_time(self.exp)));
        }
        Ok(())
    }

    /// The facility as a provider card (for the share of an arrival).
    pub fn provider(&self, key: &VerifyingKey) -> ProviderCard {
        ProviderCard {
            v: 1,
            name: self.place(),
            registration: self.facility.id.clone(),
            key: B64URL.encode(key.as_bytes()),
            age: self.age.clone(),
        }
    }

    /// The facility and its counter, in words.
    pub fn place(&self) -> String {
        match &self.facility.counter {
            Some(counter) => format!("{}, {counter}", self.facility.name),
            None => self.facility.name.clone(),
        }
    }
}

/// The share id of token `token` on `day` (`YYYYMMDD`, UTC) at card `card`.
pub fn token_id(card: &str, day: &str, token: u32) -> String {
    format!("{card}-{day}-{token}")
}

/// The day (UTC, `YYYYMMDD`) a queue is counted in at `now`.
pub fn queue_day(now: i64) -> String {
    crate::fhir::date::FhirDateTime::from_unix(now).as_str()[..10].replace('-', "")
}

/// Reads and verifies a card's text: its signature and fields (not the
/// time: [`FacilityCard::check_time`]).
pub fn open(text: &str) -> Result<Verified, FacilityError> {
    let text = text.trim();
    if text.len() > MAX_FACILITY_CARD {
        return Err(FacilityError::Malformed(format!(
            "{} bytes is more than a facility card's {MAX_FACILITY_CARD}",
            text.len()
        )));
    }
    let parts = crate::jws::parts(text, FACILITY_PREFIX, "a facility card")?;
    let (_, key) = crate::jws::verify_compact::<crate::jws::Header>(parts, FACILITY_TYP, "a facility card")?;
    let payload = B64URL
        .decode(parts[1])
        .map_err(|_| FacilityError::Malformed("the payload is not base64url".into()))?;
    let card: FacilityCard = serde_json::from_slice(&payload).map_err(|e| {
        FacilityError::Malformed(format!("its payload is not a version-1 facility card: {e}"))
    })?;
    card.check_fields()?;
    Ok(Verified { card, key })
}

impl Verified {
    /// Whether a registry the patient trusts lists the facility with this
    /// key; one that lists its id with another key is refused.
    pub fn listing(&self, registries: &[RegistrySnapshot]) -> Result<Listing, FacilityError> {
        super::listing(registries, &self.card.facility.id, &self.key).map_err(|registry| {
            FacilityError::WrongKey {
                facility: self.card.facility.id.clone(),
                registry,
            }
        })
    }

    /// The facility key's thumbprint.
    pub fn key_thumbprint(&self) -> String {
        thumbprint(&self.key)
    }
}

/// Whether `text` looks like a facility card (by its prefix).
pub fn is_facility_card(text: &str) -> bool {
    text.trim_start().starts_with(FACILITY_PREFIX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn card(now: i64) -> FacilityCard {
        FacilityCard {
            v: 1,
            id: "Xc7fK2mQ9pLr4tVw".into(),
            facility: Facility {
                name: "City Hospital".into(),
                id: "IN2710000123".into(),
                counter: Some("OPD registration".into()),
            },
            age: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj".into(),
            relay: "https://relay.example".into(),
            access: 86_400,
            iat: now,
            exp: now + 365 * 86_400,
        }
    }

    fn registry(key: &SigningKey) -> RegistrySnapshot {
        RegistrySnapshot {
            v: 1,
            registry: "HFR".into(),
            issued: 0,
            providers: vec![card(0).provider(&key.verifying_key())],
            publishers: Vec::new(),
        }
    }

    #[test]
    fn a_signed_card_opens_and_its_listing_is_checked() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = card(1_000).sign(&key);
        assert!(is_facility_card(&text));
        let verified = open(&text).unwrap();
        assert_eq!(verified.card, card(1_000));
        assert_eq!(verified.card.place(), "City Hospital, OPD registration");
        assert_eq!(
            verified.listing(&[registry(&key)]).unwrap(),
            Listing::Yes {
                registry: "HFR".into()
            }
        );
        assert_eq!(verified.listing(&[]).unwrap(), Listing::No);
        let impostor = SigningKey::from_bytes(&[8; 32]);
        let forged = open(&card(1_000).sign(&impostor)).unwrap();
        assert!(matches!(
            forged.listing(&[registry(&key)]),
            Err(FacilityError::WrongKey { .. })
        ));
    }

    #[test]
    fn altered_wrong_type_bad_fields_and_expired_cards_are_refused_in_words() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = card(1_000).sign(&key);
        let (head, sig) = text.rsplit_once('.').unwrap();
        let (prefix, _) = head.rsplit_once('.').unwrap();
        let mut other = card(1_000);
        other.facility.name = "Elsewhere".into();
        let swapped = format!(
            "{prefix}.{}.{sig}",
            B64URL.encode(serde_json::to_vec(&other).unwrap())
        );
        assert_eq!(open(&swapped).unwrap_err(), FacilityError::Altered);
        let request = crate::provider::request::tests::request(1_000).sign(&key);
        let as_card = request.replacen(crate::provider::request::REQUEST_PREFIX, FACILITY_PREFIX, 1);
        assert!(
            matches!(open(&as_card), Err(FacilityError::Malformed(m)) if m.contains("amanat-request+jwt"))
        );
        assert!(matches!(
            open("AMANAT-FACILITY:abc"),
            Err(FacilityError::Malformed(_))
        ));
        let mut bad = card(1_000);
        bad.id = "x".repeat(40);
        assert!(matches!(open(&bad.sign(&key)), Err(FacilityError::Invalid(_))));
        bad = card(1_000);
        bad.relay = "ftp://relay".into();
        assert!(matches!(open(&bad.sign(&key)), Err(FacilityError::Invalid(m)) if m.contains("relay")));
        let c = card(1_000);
        assert!(matches!(c.check_time(c.exp), Err(FacilityError::Expired(_))));
        assert!(matches!(c.check_time(0), Err(FacilityError::Future(_))));
        assert!(c.check_time(2_000).is_ok());
    }

    #[test]
    fn the_published_vector_verifies() {
        let text = include_str!("../../tests/vectors/facility/card.txt");
        let provider = include_str!("../../tests/vectors/signed-record/provider-card.json");
        let got = open(text).unwrap();
        assert_eq!(got.card.id, "vector-counter-1");
        assert_eq!(got.card.place(), "City Hospital, OPD registration");
        assert_eq!(got.card.relay, "https://relay.example");
        assert_eq!(got.card.check_time(1_796_000_000), Ok(()));
        assert!(matches!(
            got.card.check_time(1_827_532_800),
            Err(FacilityError::Expired(_))
        ));
        let registry = RegistrySnapshot {
            v: 1,
            registry: "HFR".into(),
            issued: 0,
            providers: vec![ProviderCard::parse(provider).unwrap()],
            publishers: Vec::new(),
        };
        assert_eq!(
            got.listing(&[registry]),
            Ok(Listing::Yes {
                registry: "HFR".into()
            })
        );
    }

    #[test]
    fn token_ids_are_grant_ids_up_to_the_last_token() {
        let id = token_id(&"A".repeat(MAX_CARD_ID), "20261201", MAX_TOKEN);
        assert!(valid_grant_id(&id), "{id}");
        assert_eq!(queue_day(1_764_633_600), "20251202");
    }
}
