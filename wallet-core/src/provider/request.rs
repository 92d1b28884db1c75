//! Consent requests (docs/consent-requests.md): a provider asks for a
//! patient's records (which types, from when, why, for how long), signed
//! with their provider key; the patient's wallet shows it in plain words,
//! and may narrow it, approve it (a share addressed to that provider, whose
//! grant id is the request's id) or deny it.
//!
//! A request is a JWS (RFC 7515, EdDSA, [`crate::jws`]) of type
//! `amanat-request+jwt`, carried as `AMANAT-REQUEST:` and the compact JWS,
//! in a QR code or as text.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

pub use super::Listing;
use super::{ProviderCard, RegistrySnapshot, plain};
use crate::share::grant::{CLOCK_SKEW, Purpose, thumbprint, valid_grant_id};

/// A request's text (a QR code, a pasted link) starts with this.
pub const REQUEST_PREFIX: &str = "AMANAT-REQUEST:";

/// The JWS `typ` of a consent request.
pub const REQUEST_TYP: &str = "amanat-request+jwt";

/// Format version.
pub const REQUEST_VERSION: u32 = 1;

/// The longest request text read (a request is a few hundred bytes).
pub const MAX_REQUEST: usize = 8 * 1024;

/// The most types one request may name.
pub const MAX_TYPES: usize = 16;

/// Why a request was refused. Each says what the patient can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Not a request at all, or malformed.
    #[error("not a consent request: {0}")]
    Malformed(String),
    /// Signed with something other than EdDSA.
    #[error("the request is signed with {0}; Amanat takes EdDSA (Ed25519) signatures only")]
    Algorithm(String),
    /// The signature does not verify.
    #[error("the request was altered: its signature does not verify")]
    Altered,
    /// A field is out of bounds.
    #[error("the request is not valid: {0}")]
    Invalid(String),
    /// Past its expiry.
    #[error("the request expired on {0}: ask the doctor for a new one")]
    Expired(String),
    /// Issued in the future.
    #[error("the request is dated in the future ({0}): check this device's clock")]
    Future(String),
    /// A trusted registry lists the registration with another key.
    #[error(
        "the request names {registration}, whom {registry} lists with another key: refused (someone else asks in that doctor's name)"
    )]
    WrongKey {
        /// The registration number the request claims.
        registration: String,
        /// The registry that lists it with another key.
        registry: String,
    },
}

/// Who asks: the provider, as their card states them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// Name, e.g. `Dr. Imran Rao`.
    pub name: String,
    /// Registration number, e.g. `PMDC-12345-P`.
    pub registration: String,
    /// The age recipient a share answering the request is encrypted to.
    pub age: String,
}

/// What a provider asks for: the request's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequest {
    /// Format version ([`REQUEST_VERSION`]).
    pub v: u32,
    /// The request's id (random); the share answering it has this grant id.
    pub id: String,
    /// Who asks.
    pub from: Requester,
    /// FHIR resource types or ABDM health-information types, as `amanat list --type` takes them.
    pub types: Vec<String>,
    /// Records dated on or after this day (`YYYY-MM-DD`), if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Why.
    pub purpose: Purpose,
    /// For how long access is asked, in seconds.
    pub access: i64,
    /// Issued at (seconds since 1970).
    pub iat: i64,
    /// The request may be answered until (seconds since 1970).
    pub exp: i64,
    /// The relay the answer is uploaded to; absent: the patient shows the
    /// answer as a QR code for the provider to scan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<String>,
}

impl From<crate::jws::Failed> for RequestError {
    fn from(failed: crate::jws::Failed) -> RequestError {
        match failed {
            crate::jws::Failed::Algorithm(alg) => RequestError::Algorithm(alg),
            crate::jws::Failed::Malformed(words) => RequestError::Malformed(words),
            crate::jws::Failed::Altered => RequestError::Altered,
        }
    }
}

/// A request whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Its claims.
    pub request: ConsentRequest,
    /// The provider's signing key.
    pub key: VerifyingKey,
    /// The text it came as (kept by the wallet, to show and to prove later).
    pub text: String,
}

impl ConsentRequest {
    /// Signs the request with the provider's key: its text.
    pub fn sign(&self, key: &SigningKey) -> String {
        crate::jws::sign_compact(REQUEST_PREFIX, REQUEST_TYP, key, self)
    }

    /// Checks each field's bounds (a wallet shows these words to a patient).
    pub fn check_fields(&self) -> Result<(), RequestError> {
        let invalid = |m: String| Err(RequestError::Invalid(m));
        if self.v != REQUEST_VERSION {
            return invalid(format!("version {} is not known", self.v));
        }
        if !valid_grant_id(&self.id) {
            return invalid("its id is not 1-64 letters, digits, - or _".into());
        }
        if !plain(&self.from.name, 120) || !plain(&self.from.registration, 64) {
            return invalid("it needs the provider's name and registration number, in plain words".into());
        }
        if !crate::share::age_open::is_x25519_recipient(&self.from.age) {
            return invalid(format!("'{}' is not an age recipient", self.from.age));
        }
        if self.types.is_empty() || self.types.len() > MAX_TYPES || !self.types.iter().all(|t| plain(t, 40)) {
            return invalid(format!("it must name 1 to {MAX_TYPES} record types"));
        }
        if let Some(since) = &self.since
            && crate::fhir::date::parse_bound(since, false).is_err()
        {
            return invalid(format!("'{since}' is not a date (YYYY-MM-DD)"));
        }
        if self.access <= 0 || self.access > crate::share::grant::MAX_SHARE_SECONDS {
            return invalid("access is asked for between a second and a year".into());
        }
        if self.exp <= self.iat {
            return invalid("it expires before it was made".into());
        }
        if let Some(relay) = &self.relay
            && !(relay.starts_with("https://") || relay.starts_with("http://"))
        {
            return invalid("its reply relay is not an http(s) address".into());
        }
        Ok(())
    }

    /// Checks that it is in force at `now`.
    pub fn check_time(&self, now: i64) -> Result<(), RequestError> {
        if now + CLOCK_SKEW < self.iat {
            return Err(RequestError::Future(crate::share::grant::human_time(self.iat)));
        }
        if now >= self.exp {
            return Err(RequestError::Expired(crate::share::grant::human_time(self.exp)));
        }
        Ok(())
    }

    /// The provider's card (for the share answering it).
    pub fn card(&self, key: &VerifyingKey) -> ProviderCard {
        ProviderCard {
            v: 1,
            name: self.from.name.clone(),
            registration: self.from.registration.clone(),
            key: B64URL.encode(key.as_bytes()),
            age: self.from.age.clone(),
        }
    }

    /// What is asked, in plain words.
    pub fn describe(&self) -> String {
        let since = self
            .since
            .as_ref()
            .map(|s| format!(" from {s}"))
            .unwrap_or_default();
        format!(
            "{} ({}) asks to see your {}{since}, for {} ({}), for {}",
            self.from.name,
            self.from.registration,
            self.types.join(", "),
            self.purpose.words(),
            self.purpose.code(),
            crate::share::grant::duration_words(self.access),
        )
    }
}

/// Reads and verifies a request's text: its signature and fields (not the
/// time: the wallet keeps expired ones to show them as such).
pub fn open(text: &str) -> Result<Verified, RequestError> {
    let text = text.trim();
    if text.len() > MAX_REQUEST {
        return Err(RequestError::Malformed(format!(
            "{} bytes is more than a request's {MAX_REQUEST}",
            text.len()
        )));
    }
    let parts = crate::jws::parts(text, REQUEST_PREFIX, "a request").map_err(RequestError::from)?;
    let (_, key) = crate::jws::verify_compact::<crate::jws::Header>(parts, REQUEST_TYP, "a consent request")?;
    let malformed = |m: &str| RequestError::Malformed(m.to_string());
    let payload = B64URL
        .decode(parts[1])
        .map_err(|_| malformed("the payload is not base64url"))?;
    let request: ConsentRequest = serde_json::from_slice(&payload)
        .map_err(|e| RequestError::Malformed(format!("its payload is not a version-1 request: {e}")))?;
    request.check_fields()?;
    Ok(Verified {
        request,
        key,
        text: text.to_string(),
    })
}

impl Verified {
    /// Whether a registry the patient trusts lists the provider with this
    /// key; one that lists the registration with another key is refused.
    pub fn listing(&self, registries: &[RegistrySnapshot]) -> Result<Listing, RequestError> {
        super::listing(registries, &self.request.from.registration, &self.key).map_err(|registry| {
            RequestError::WrongKey {
                registration: self.request.from.registration.clone(),
                registry,
            }
        })
    }

    /// The provider key's thumbprint.
    pub fn key_thumbprint(&self) -> String {
        thumbprint(&self.key)
    }
}

/// Whether `text` looks like a request (by its prefix).
pub fn is_request(text: &str) -> bool {
    text.trim_start().starts_with(REQUEST_PREFIX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn request(now: i64) -> ConsentRequest {
        ConsentRequest {
            v: 1,
            id: "req-1".into(),
            from: Requester {
                name: "Dr. Imran Rao".into(),
                registration: "PMDC-12345-P".into(),
                age: "age1p52ek0kxwul8d39696jsvnld5222kfv8qz92s84655n698xweszsaxkud7".into(),
            },
            types: vec!["DiagnosticReport".into(), "Prescription".into()],
            since: Some("2024-01-01".into()),
            purpose: Purpose::CareManagement,
            access: 7 * 86_400,
            iat: now,
            exp: now + 86_400,
            relay: None,
        }
    }

    #[test]
    fn a_request_round_trips_and_says_what_it_asks() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = request(1_000).sign(&key);
        let got = open(&text).unwrap();
        assert_eq!(got.request, request(1_000));
        assert_eq!(got.key, key.verifying_key());
        assert_eq!(
            got.request.describe(),
            "Dr. Imran Rao (PMDC-12345-P) asks to see your DiagnosticReport, Prescription from 2024-01-01, for treatment (CAREMGT), for 7 days"
        );
        assert_eq!(got.request.check_time(2_000), Ok(()));
        assert!(matches!(
            got.request.check_time(1_000 + 86_400),
            Err(RequestError::Expired(_))
        ));
        assert!(matches!(got.request.check_time(0), Err(RequestError::Future(_))));
    }

    #[test]
    fn altered_and_malformed_requests_are_refused_each_in_words() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let text = request(1_000).sign(&key);
        // Someone widens what is asked, keeping the signature.
        let [h, _, s] = text
            .strip_prefix(REQUEST_PREFIX)
            .unwrap()
            .split('.')
            .collect::<Vec<_>>()[..]
        else {
            panic!()
        };
        let mut wider = request(1_000);
        wider.types.push("OPConsultation".into());
        let forged = format!(
            "{REQUEST_PREFIX}{h}.{}.{s}",
            B64URL.encode(serde_json::to_vec(&wider).unwrap())
        );
        assert_eq!(open(&forged).unwrap_err(), RequestError::Altered);
        assert!(matches!(open("hello"), Err(RequestError::Malformed(_))));
        assert!(matches!(
            open("AMANAT-REQUEST:a.b"),
            Err(RequestError::Malformed(_))
        ));
        for bad in [
            ConsentRequest {
                types: vec![],
                ..request(1_000)
            },
            ConsentRequest {
                access: 0,
                ..request(1_000)
            },
            ConsentRequest {
                since: Some("soon".into()),
                ..request(1_000)
            },
            ConsentRequest {
                id: "a/b".into(),
                ..request(1_000)
            },
        ] {
            assert!(
                matches!(open(&bad.sign(&key)), Err(RequestError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    /// The vector in docs/consent-requests.md and tests/vectors/request/,
    /// signed by npm's jose.
    #[test]
    fn the_published_vector_verifies() {
        let text = include_str!("../../tests/vectors/request/request.txt");
        let card = include_str!("../../tests/vectors/signed-record/provider-card.json");
        let got = open(text).unwrap();
        assert_eq!(got.request.id, "vector-request-1");
        assert_eq!(
            got.request.describe(),
            "Dr. Imran Rao (PMDC-12345-P) asks to see your DiagnosticReport, Prescription from 2024-01-01, for treatment (CAREMGT), for 7 days"
        );
        assert_eq!(got.request.relay.as_deref(), Some("https://relay.example"));
        assert_eq!(got.request.check_time(1_796_000_000), Ok(()));
        assert!(matches!(
            got.request.check_time(1_796_083_200),
            Err(RequestError::Expired(_))
        ));
        let council = RegistrySnapshot {
            v: 1,
            registry: "Pakistan Medical & Dental Council".into(),
            issued: 0,
            providers: vec![ProviderCard::parse(card).unwrap()],
            publishers: Vec::new(),
        };
        assert_eq!(
            got.listing(&[council]),
            Ok(Listing::Yes {
                registry: "Pakistan Medical & Dental Council".into()
            })
        );
    }

    #[test]
    fn a_registry_lists_the_requester_or_not_and_an_impostor_is_refused() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let got = open(&request(1_000).sign(&key)).unwrap();
        let mut registry = RegistrySnapshot {
            v: 1,
            registry: "PMDC".into(),
            issued: 0,
            providers: vec![request(1_000).card(&key.verifying_key())],
            publishers: Vec::new(),
        };
        assert_eq!(
            got.listing(std::slice::from_ref(&registry)),
            Ok(Listing::Yes {
                registry: "PMDC".into()
            })
        );
        assert_eq!(got.listing(&[]), Ok(Listing::No));
        registry.providers[0].key =
            B64URL.encode(SigningKey::from_bytes(&[9; 32]).verifying_key().as_bytes());
        assert!(matches!(
            got.listing(&[registry]),
            Err(RequestError::WrongKey { .. })
        ));
    }
}
