//! Consent grants: who may see which records, why, and until when, signed by the
//! patient.
//!
//! A grant is a JWS in compact serialization (RFC 7515) with `alg: EdDSA` (RFC
//! 8037), signed with the wallet's ed25519 key. The public key travels in the
//! protected header as an OKP `jwk`, and `kid` is its RFC 7638 thumbprint, so any
//! standard JOSE library can verify a grant on its own; the wallet ID (the key's
//! fingerprint) ties it to the patient. Every field is documented in
//! `docs/grant-format.md`, with test vectors in `wallet-core/tests/vectors/grant`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::WalletId;
use crate::jws::Header;

/// The grant format version this code writes and accepts.
pub const GRANT_VERSION: u32 = 1;

/// The JWS `typ` of a grant.
pub const GRANT_TYP: &str = "amanat-grant+jwt";

/// Clock difference tolerated between patient and doctor, seconds.
pub const CLOCK_SKEW: i64 = 120;

/// Why a grant is refused. Each message says what a doctor can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// Not three base64url parts, or not JSON where JSON belongs.
    #[error("the consent grant is malformed: {0}")]
    Malformed(String),
    /// Only EdDSA over Ed25519 is accepted.
    #[error("the consent grant uses algorithm '{0}'; only EdDSA (Ed25519) is accepted")]
    Algorithm(String),
    /// `kid` is not the thumbprint of the embedded key.
    #[error("the consent grant's key id does not match its key (the header was altered)")]
    WrongKeyId,
    /// The signature does not verify.
    #[error("the consent grant's signature does not verify: it was altered or not signed by the patient")]
    BadSignature,
    /// A version this code does not know.
    #[error(
        "the consent grant has version {0}; this Amanat understands version {GRANT_VERSION} (update Amanat)"
    )]
    UnknownVersion(u32),
    /// Past its expiry.
    #[error("this share expired at {0}")]
    Expired(String),
    /// Before its not-before time.
    #[error("this share is not valid until {0}")]
    NotYetValid(String),
    /// A field has an impossible value.
    #[error("the consent grant is invalid: {0}")]
    Invalid(String),
}

/// Why the patient shares (ABDM consent purpose codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Care management: a doctor treating the patient.
    #[serde(rename = "CAREMGT")]
    CareManagement,
    /// Break the glass: an emergency.
    #[serde(rename = "BTG")]
    BreakTheGlass,
    /// Public health.
    #[serde(rename = "PUBHLTH")]
    PublicHealth,
    /// Healthcare payment: insurance claims.
    #[serde(rename = "HPAYMT")]
    Payment,
    /// Disease-specific healthcare research.
    #[serde(rename = "DSRCH")]
    Research,
    /// Self requested: the patient's own copy.
    #[serde(rename = "PATRQT")]
    SelfRequested,
}

impl Purpose {
    /// All purposes. Share links carry a purpose as its index here, so this
    /// order is part of the link format: only ever append.
    pub const ALL: [Purpose; 6] = [
        Purpose::CareManagement,
        Purpose::BreakTheGlass,
        Purpose::PublicHealth,
        Purpose::Payment,
        Purpose::Research,
        Purpose::SelfRequested,
    ];

    /// The ABDM code.
    pub fn code(self) -> &'static str {
        match self {
            Purpose::CareManagement => "CAREMGT",
            Purpose::BreakTheGlass => "BTG",
            Purpose::PublicHealth => "PUBHLTH",
            Purpose::Payment => "HPAYMT",
            Purpose::Research => "DSRCH",
            Purpose::SelfRequested => "PATRQT",
        }
    }

    /// Plain words.
    pub fn words(self) -> &'static str {
        match self {
            Purpose::CareManagement => "treatment",
            Purpose::BreakTheGlass => "an emergency",
            Purpose::PublicHealth => "public health",
            Purpose::Payment => "an insurance claim",
            Purpose::Research => "research",
            Purpose::SelfRequested => "the patient's own copy",
        }
    }

    /// Parses a code (any case) or a word such as `treatment` or `emergency`.
    pub fn parse(text: &str) -> Option<Purpose> {
        let t = text.trim().to_ascii_uppercase();
        Purpose::ALL
            .into_iter()
            .find(|p| p.code() == t)
            .or(match t.as_str() {
                "TREATMENT" | "CARE" => Some(Purpose::CareManagement),
                "EMERGENCY" => Some(Purpose::BreakTheGlass),
                "INSURANCE" | "PAYMENT" | "CLAIM" => Some(Purpose::Payment),
                "RESEARCH" => Some(Purpose::Research),
                "SELF" => Some(Purpose::SelfRequested),
                _ => None,
            })
    }
}

/// What the recipient may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessMode {
    /// Look at the records.
    View,
    /// Look at them and keep a copy.
    Store,
}

impl AccessMode {
    /// The word on the wire and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::View => "view",
            AccessMode::Store => "store",
        }
    }
}

/// `view` or `store`, any case: the CLI's `--mode` and the API's `mode`.
impl std::str::FromStr for AccessMode {
    type Err = String;

    fn from_str(text: &str) -> Result<AccessMode, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "view" => Ok(AccessMode::View),
            "store" => Ok(AccessMode::Store),
            _ => Err(format!("'{text}' is not an access mode: use view or store")),
        }
    }
}

/// A code or a word ([`Purpose::parse`]): the CLI's `--purpose` and the API's `purpose`.
impl std::str::FromStr for Purpose {
    type Err = String;

    fn from_str(text: &str) -> Result<Purpose, String> {
        Purpose::parse(text).ok_or_else(|| {
            format!("'{text}' is not a purpose: use CAREMGT, BTG, PUBHLTH, HPAYMT, DSRCH or PATRQT")
        })
    }
}

/// Who may open the share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Grantee {
    /// Whoever holds the QR code or link.
    Bearer,
    /// One named provider: only their keys open it.
    Provider {
        /// Name, e.g. `Dr. Imran Rao`.
        name: String,
        /// Registration number, e.g. `PMDC-12345-P`.
        registration: String,
        /// ed25519 public key, base64url.
        key: String,
        /// age recipient (`age1…`) the records are encrypted to.
        age: String,
        /// The registry that vouched for this provider, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        registry: Option<String>,
    },
}

/// One record in a grant: exactly these bytes, no others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantedRecord {
    /// The record's id in the patient's wallet.
    pub id: String,
    /// FHIR resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// SHA-256 of the resource's JSON bytes as shared, base64url.
    pub sha256: String,
    /// Whom the file the record came from was about, in words, when that is
    /// not the patient sharing it: a record they imported anyway into their
    /// profile (a parent's report kept in a child's, say). Absent otherwise,
    /// and in grants made before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
}

/// The grant's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Format version ([`GRANT_VERSION`]).
    pub v: u32,
    /// Grant id (random).
    pub jti: String,
    /// The patient's wallet ID.
    pub wallet: String,
    /// The patient's name as they chose to show it.
    pub patient: String,
    /// Who the patient is beyond the name, as their profile states it (JSON
    /// member `who`): signed with the grant, so the doctor knows whom the
    /// records are about. Absent in grants made before it existed.
    #[serde(rename = "who", default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    /// Who may open the share.
    pub to: Grantee,
    /// Why.
    pub purpose: Purpose,
    /// View, or view and store.
    pub mode: AccessMode,
    /// Issued at (seconds since 1970).
    pub iat: i64,
    /// Not valid before.
    pub nbf: i64,
    /// Not valid at or after.
    pub exp: i64,
    /// How many times the relay may hand out the records (`None`: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<u32>,
    /// The records.
    pub records: Vec<GrantedRecord>,
}

/// The patient's details a grant carries besides the name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// `YYYY-MM-DD`.
    #[serde(rename = "birthDate", default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
    /// `female`, `male`, `other` or `unknown` (FHIR's administrative gender).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// National IDs as `[kind, value]`, kind `cnic`, `abha` (the ABHA number)
    /// or `abha-address`, value as the profile writes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<(String, String)>,
    /// A phone number: only in a share of the patient's details to a
    /// facility's registration (Scan & Share).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Most national IDs a grant may name, and the longest text of any field.
const SUBJECT_IDS: usize = 4;
const SUBJECT_TEXT: usize = 64;
/// The longest patient of origin a granted record may carry (a name, birth
/// date, gender and three national IDs, in words).
const ABOUT_TEXT: usize = 300;

impl Subject {
    /// Nothing to say.
    pub fn is_empty(&self) -> bool {
        self.birth_date.is_none() && self.gender.is_none() && self.ids.is_empty() && self.phone.is_none()
    }

    /// One line for people: `female, 58 years (born 1968-04-12), CNIC
    /// 35202-1234567-2`, the age as of `now`.
    pub fn describe(&self, now: i64) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(g) = &self.gender {
            parts.push(g.clone());
        }
        if let Some(born) = &self.birth_date {
            parts.push(match age(born, now) {
                Some(years) => format!("{years} years (born {born})"),
                None => format!("born {born}"),
            });
        }
        for (kind, value) in &self.ids {
            let kind = match kind.as_str() {
                "cnic" => "CNIC",
                "abha" => "ABHA",
                "abha-address" => "ABHA address",
                other => other,
            };
            parts.push(format!("{kind} {value}"));
        }
        if let Some(phone) = &self.phone {
            parts.push(format!("phone {phone}"));
        }
        parts.join(", ")
    }

    fn check(&self) -> Result<(), GrantError> {
        let long = |t: &str| t.len() > SUBJECT_TEXT || t.chars().any(char::is_control);
        let bad = self.birth_date.as_deref().is_some_and(|d| date(d).is_none())
            || self
                .gender
                .as_deref()
                .is_some_and(|g| !["female", "male", "other", "unknown"].contains(&g))
            || self.ids.len() > SUBJECT_IDS
            || self.ids.iter().any(|(k, v)| long(k) || long(v) || k == "phone")
            || self
                .phone
                .as_deref()
                .is_some_and(|p| crate::profile::validate_phone(p).as_deref() != Ok(p));
        if bad {
            return Err(GrantError::Invalid("its patient details are malformed".into()));
        }
        Ok(())
    }
}

/// A `YYYY-MM-DD` date. Read by hand: `time`'s parser would add 40 KB to the
/// browser bundle for this one format.
pub(crate) fn date(text: &str) -> Option<time::Date> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// Whole years from a `YYYY-MM-DD` birth date to `now` (seconds since 1970).
fn age(born: &str, now: i64) -> Option<i64> {
    date(born)?;
    let today = crate::fhir::date::FhirDateTime::from_unix(now);
    let (today, born) = (&today.as_str()[..10], born);
    let year = |d: &str| d[..4].parse::<i64>().ok();
    let mut years = year(today)? - year(born)?;
    if today[5..] < born[5..] {
        years -= 1;
    }
    (years >= 0).then_some(years)
}

impl Grant {
    /// Checks not-before and expiry against `now`.
    pub fn check_time(&self, now: i64) -> Result<(), GrantError> {
        if now + CLOCK_SKEW < self.nbf {
            return Err(GrantError::NotYetValid(human_time(self.nbf)));
        }
        if now >= self.exp {
            return Err(GrantError::Expired(human_time(self.exp)));
        }
        Ok(())
    }

    fn check_fields(&self) -> Result<(), GrantError> {
        if !valid_grant_id(&self.jti) {
            return Err(GrantError::Invalid(format!(
                "its id {:?} is not 1-64 letters, digits, '-' or '_'",
                self.jti
            )));
        }
        if self.exp <= self.nbf {
            return Err(GrantError::Invalid("it expires before it starts".into()));
        }
        // A grant to a named provider may name no record: it gives who the
        // patient is alone (a registration at a facility, Scan & Share).
        if self.records.is_empty() && matches!(self.to, Grantee::Bearer) {
            return Err(GrantError::Invalid("it names no records".into()));
        }
        if let Some(subject) = &self.subject {
            subject.check()?;
        }
        for r in &self.records {
            // Ids name files a doctor saves (`receive --out`), so no paths.
            let safe_id = !r.id.is_empty()
                && r.id.len() <= 64
                && !r.id.starts_with('.')
                && r.id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !safe_id {
                return Err(GrantError::Invalid(format!(
                    "record id {:?} is not a plain name",
                    r.id
                )));
            }
            let ok = B64URL.decode(&r.sha256).is_ok_and(|h| h.len() == 32);
            if !ok {
                return Err(GrantError::Invalid(format!(
                    "record {} has no valid SHA-256",
                    r.id
                )));
            }
            let about_ok = r
                .about
                .as_deref()
                .is_none_or(|a| a.len() <= ABOUT_TEXT && !a.chars().any(char::is_control));
            if !about_ok {
                return Err(GrantError::Invalid(format!(
                    "record {}'s patient of origin is malformed",
                    r.id
                )));
            }
        }
        Ok(())
    }
}

/// Whether `jti` is a well-formed grant id: 1-64 ASCII letters, digits, `-` or
/// `_`. The id names the share at a relay (a URL path segment and a store key)
/// and in the wallet's records, so nothing else is accepted: no NUL, `/`, `..`,
/// or bytes that a key scheme could confuse with a separator.
pub fn valid_grant_id(jti: &str) -> bool {
    (1..=64).contains(&jti.len())
        && jti
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The longest a share (and the access a consent request asks for) may last.
pub const MAX_SHARE_SECONDS: i64 = 366 * 24 * 3600;

/// A span of time in words, in its largest whole unit: `7 days`, `1 hour`,
/// `90 minutes`.
pub fn duration_words(seconds: i64) -> String {
    let (n, unit) = [(86_400, "day"), (3_600, "hour"), (60, "minute")]
        .into_iter()
        .find(|(size, _)| seconds >= *size && seconds % size == 0)
        .map_or((seconds, "second"), |(size, unit)| (seconds / size, unit));
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// `YYYY-MM-DD hh:mm UTC`.
pub fn human_time(seconds: i64) -> String {
    let t = crate::fhir::date::FhirDateTime::from_unix(seconds);
    let s = t.as_str();
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// The SHA-256 of bytes in the grant's encoding (base64url).
pub fn sha256_b64(bytes: &[u8]) -> String {
    B64URL.encode(Sha256::digest(bytes))
}

/// RFC 7638 thumbprint of an Ed25519 public key (base64url SHA-256 of the
/// canonical JWK `{"crv","kty","x"}`).
pub fn thumbprint(key: &VerifyingKey) -> String {
    let x = B64URL.encode(key.as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    B64URL.encode(Sha256::digest(canonical.as_bytes()))
}

/// A grant with its signature: the three parts of the compact JWS, decoded.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedGrant {
    /// Protected header JSON bytes.
    pub header: Vec<u8>,
    /// Payload JSON bytes.
    pub payload: Vec<u8>,
    /// Ed25519 signature.
    pub signature: [u8; 64],
}

impl fmt::Debug for SignedGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.compact())
    }
}

impl SignedGrant {
    /// Signs a grant with the patient's key.
    pub fn sign(grant: &Grant, key: &SigningKey) -> SignedGrant {
        let mut grant = grant.clone();
        grant.wallet = WalletId::from_public_key(&key.verifying_key()).to_string();
        let unsigned = SignedGrant::assemble(&key.verifying_key(), &grant, [0; 64]);
        let input = signing_input(&unsigned.header, &unsigned.payload);
        SignedGrant {
            signature: key.sign(input.as_bytes()).to_bytes(),
            ..unsigned
        }
    }

    /// Rebuilds the exact JWS from its parts: the header is determined by the
    /// key, and the payload is the grant's canonical JSON (members in the order of
    /// [`Grant`], no whitespace). Share links carry only these parts.
    pub fn assemble(key: &VerifyingKey, grant: &Grant, signature: [u8; 64]) -> SignedGrant {
        let header = Header::new(GRANT_TYP, key);
        SignedGrant {
            header: serde_json::to_vec(&header).unwrap_or_default(),
            payload: serde_json::to_vec(grant).unwrap_or_default(),
            signature,
        }
    }

    /// The compact serialization `header.payload.signature`.
    pub fn compact(&self) -> String {
        format!(
            "{}.{}",
            signing_input(&self.header, &self.payload),
            B64URL.encode(self.signature)
        )
    }

    /// Parses a compact JWS (not yet verified).
    pub fn parse(compact: &str) -> Result<SignedGrant, GrantError> {
        let parts: Vec<&str> = compact.trim().split('.').collect();
        let [h, p, s] = parts[..] else {
            return Err(GrantError::Malformed(
                "a JWS has three dot-separated parts".into(),
            ));
        };
        let decode = |part: &str, what: &str| {
            B64URL
                .decode(part)
                .map_err(|_| GrantError::Malformed(format!("the {what} is not base64url")))
        };
        let signature: [u8; 64] = decode(s, "signature")?
            .try_into()
            .map_err(|_| GrantError::Malformed("the signature is not 64 bytes".into()))?;
        Ok(SignedGrant {
            header: decode(h, "header")?,
            payload: decode(p, "payload")?,
            signature,
        })
    }

    /// Verifies the signature against the embedded key and returns the grant and
    /// the patient's key. Time is checked separately ([`Grant::check_time`]).
    pub fn verify(&self) -> Result<(Grant, VerifyingKey), GrantError> {
        let header: Header = serde_json::from_slice(&self.header)
            .map_err(|e| GrantError::Malformed(format!("the header is not a grant header: {e}")))?;
        let input = signing_input(&self.header, &self.payload);
        let key = crate::jws::verify(&header, GRANT_TYP, input.as_bytes(), &self.signature).map_err(|r| {
            use crate::jws::Refusal;
            match r {
                Refusal::Algorithm(alg) | Refusal::KeyType(alg) => GrantError::Algorithm(alg),
                Refusal::Type(typ) => GrantError::Malformed(format!(
                    "its type is '{typ}', not an Amanat consent grant ({GRANT_TYP})"
                )),
                Refusal::Crit => GrantError::Malformed(crate::jws::CRIT.into()),
                Refusal::KeyBytes => GrantError::Malformed("the key is not 32 bytes of base64url".into()),
                Refusal::KeyId => GrantError::WrongKeyId,
                Refusal::InvalidKey | Refusal::Signature => GrantError::BadSignature,
            }
        })?;
        #[derive(Deserialize)]
        struct Version {
            v: u32,
        }
        let version: Version = serde_json::from_slice(&self.payload)
            .map_err(|e| GrantError::Malformed(format!("the payload has no version: {e}")))?;
        if version.v != GRANT_VERSION {
            return Err(GrantError::UnknownVersion(version.v));
        }
        let grant: Grant = serde_json::from_slice(&self.payload)
            .map_err(|e| GrantError::Malformed(format!("the payload is not a version-1 grant: {e}")))?;
        grant.check_fields()?;
        if grant.wallet != WalletId::from_public_key(&key).to_string() {
            return Err(GrantError::Invalid(
                "its wallet ID is not the signing key's".into(),
            ));
        }
        Ok((grant, key))
    }
}

fn signing_input(header: &[u8], payload: &[u8]) -> String {
    format!("{}.{}", B64URL.encode(header), B64URL.encode(payload))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(now: i64) -> Grant {
        Grant {
            v: 1,
            jti: "g1".into(),
            wallet: "x".into(),
            patient: "Ayesha".into(),
            subject: None,
            to: Grantee::Bearer,
            purpose: Purpose::CareManagement,
            mode: AccessMode::View,
            iat: now,
            nbf: now,
            exp: now + 3600,
            uses: Some(2),
            records: vec![GrantedRecord {
                id: "r1".into(),
                resource_type: "Observation".into(),
                sha256: sha256_b64(b"{}"),
                about: None,
            }],
        }
    }

    #[test]
    fn only_a_grant_to_a_named_provider_may_name_no_record() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut grant = sample(1_000);
        grant.records.clear();
        let verify = |g: &Grant| {
            SignedGrant::parse(&SignedGrant::sign(g, &key).compact())
                .unwrap()
                .verify()
        };
        assert_eq!(
            verify(&grant).unwrap_err(),
            GrantError::Invalid("it names no records".into()),
            "a bearer grant of nothing"
        );
        grant.to = Grantee::Provider {
            name: "City Hospital".into(),
            registration: "IN2710000123".into(),
            key: B64URL.encode(key.verifying_key().as_bytes()),
            age: "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj".into(),
            registry: None,
        };
        let (back, _) = verify(&grant).unwrap();
        assert!(
            back.records.is_empty(),
            "the patient's details alone, to a facility"
        );
    }

    #[test]
    fn a_records_patient_of_origin_is_plain_words_of_bounded_length() {
        let key = SigningKey::from_bytes(&[7; 32]);
        for (about, ok) in [
            (
                "Ayesha Khan, born 1971-02-03, CNIC 35202-1234567-4".to_string(),
                true,
            ),
            ("Ayesha\u{1b}[2J Khan".to_string(), false),
            ("x".repeat(301), false),
        ] {
            let mut grant = sample(1_000);
            grant.records[0].about = Some(about.clone());
            let verified = SignedGrant::sign(&grant, &key).verify();
            assert_eq!(verified.is_ok(), ok, "{about:?}: {verified:?}");
        }
    }

    #[test]
    fn the_patients_details_are_signed_described_and_checked() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let now = 1_764_547_200; // 2025-12-01
        let mut grant = sample(now);
        grant.subject = Some(Subject {
            birth_date: Some("1968-04-12".into()),
            gender: Some("female".into()),
            ids: vec![("cnic".into(), "35202-1234567-2".into())],
            phone: None,
        });
        let signed = SignedGrant::sign(&grant, &key);
        let (back, _) = SignedGrant::parse(&signed.compact()).unwrap().verify().unwrap();
        assert_eq!(back.subject, grant.subject);
        let who = back.subject.unwrap();
        assert_eq!(
            who.describe(now),
            "female, 57 years (born 1968-04-12), CNIC 35202-1234567-2"
        );
        // The day before the birthday, one year less.
        assert_eq!(age("1968-12-02", now), Some(56));
        assert_eq!(age("1968-12-01", now), Some(57));
        // Changed details break the signature like any other claim.
        let text = signed.compact();
        let payload = text.split('.').nth(1).unwrap();
        let json = String::from_utf8(B64URL.decode(payload).unwrap()).unwrap();
        let forged = text.replace(payload, &B64URL.encode(json.replace("1968", "1986")));
        assert_eq!(
            SignedGrant::parse(&forged).unwrap().verify().unwrap_err(),
            GrantError::BadSignature
        );
        for bad in [
            Subject {
                gender: Some("cat".into()),
                ..Subject::default()
            },
            Subject {
                birth_date: Some("12/04/1968".into()),
                ..Subject::default()
            },
            Subject {
                ids: vec![("cnic".into(), "\u{1b}[31m".into())],
                ..Subject::default()
            },
            Subject {
                ids: vec![("cnic".into(), "1".into()); 5],
                ..Subject::default()
            },
            Subject {
                phone: Some("call me\nmaybe".into()),
                ..Subject::default()
            },
        ] {
            grant.subject = Some(bad);
            let signed = SignedGrant::sign(&grant, &key);
            assert!(
                matches!(
                    SignedGrant::parse(&signed.compact()).unwrap().verify(),
                    Err(GrantError::Invalid(_))
                ),
                "{:?}",
                grant.subject
            );
        }
    }

    #[test]
    fn sign_parse_verify() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let mut grant = sample(1_000);
        grant.wallet = WalletId::from_public_key(&key.verifying_key()).to_string();
        let signed = SignedGrant::sign(&grant, &key);
        let parsed = SignedGrant::parse(&signed.compact()).unwrap();
        let (back, public) = parsed.verify().unwrap();
        assert_eq!(back, grant);
        assert_eq!(public, key.verifying_key());
        assert!(back.check_time(1_000).is_ok());
        assert!(matches!(back.check_time(4_600), Err(GrantError::Expired(_))));
        assert!(matches!(
            back.check_time(1_000 - CLOCK_SKEW - 1),
            Err(GrantError::NotYetValid(_))
        ));
    }

    #[test]
    fn any_changed_character_fails() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let compact = SignedGrant::sign(&sample(1_000), &key).compact();
        for i in 0..compact.len() {
            let mut bytes = compact.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let text = String::from_utf8(bytes).unwrap();
            let verdict = SignedGrant::parse(&text).and_then(|s| s.verify());
            assert!(verdict.is_err(), "changing character {i} went unnoticed");
        }
    }

    #[test]
    fn grant_ids_outside_the_strict_charset_are_refused_at_verification() {
        // A grant id names the share at the relay (a path segment, a store
        // key, the prefix of its access log's keys): a signed grant must not
        // smuggle a separator or a path into them.
        let key = SigningKey::from_bytes(&[3; 32]);
        let long = "a".repeat(65);
        for jti in [
            "",
            "a\0b",
            "a/b",
            "..",
            "../../x",
            "ünïcode",
            "a b",
            "a:b",
            "a{b}",
            long.as_str(),
        ] {
            let mut grant = sample(1_000);
            grant.wallet = WalletId::from_public_key(&key.verifying_key()).to_string();
            grant.jti = jti.into();
            let signed = SignedGrant::sign(&grant, &key);
            let verdict = SignedGrant::parse(&signed.compact()).and_then(|s| s.verify());
            assert!(
                matches!(&verdict, Err(GrantError::Invalid(m)) if m.contains("is not 1-64 letters")),
                "{jti:?}: {verdict:?}"
            );
        }
        for jti in [
            "g1",
            "k3vq8m2xk0fa77pz",
            "NOT-A-WALLET-ID",
            "expired_grant_01",
            &"a".repeat(64),
        ] {
            assert!(valid_grant_id(jti), "{jti}");
        }
    }

    #[test]
    fn purposes_parse_from_codes_and_words() {
        assert_eq!(Purpose::parse("caremgt"), Some(Purpose::CareManagement));
        assert_eq!(Purpose::parse("emergency"), Some(Purpose::BreakTheGlass));
        assert_eq!(Purpose::parse("HPAYMT"), Some(Purpose::Payment));
        assert_eq!(Purpose::parse("fun"), None);
    }
}
