//! Share links: what a QR code carries from patient to doctor.
//!
//! ```text
//! AMANAT:<base45( CBOR(payload) ‖ first 4 bytes of SHA-256(CBOR) )>
//! ```
//!
//! The payload holds the signed grant (key, claims and signature as bytes, not
//! base64 text), and either the age-encrypted records themselves (an offline
//! share: no network at all) or the relay URL they can be fetched from, plus the
//! key that opens them for a bearer share. Everything after the prefix is in the
//! QR alphanumeric alphabet, so the code is as small as the bytes allow, as EU
//! digital certificates do with `HC1:`.
//!
//! Every byte counts in a QR code, so the payload is mostly incompressible
//! bytes: the records are compressed (brotli with a preset dictionary of FHIR
//! resource skeletons) before they are encrypted, and the age file's header
//! travels as binary, rebuilt into age's exact text on receipt. The dictionary
//! is part of version 2 and never changes (see `docs/link-format.md`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::VerifyingKey;

use crate::ids::{RecordId, WalletId};
use crate::share::grant::{AccessMode, GRANT_VERSION, Grant, GrantedRecord, Grantee, Purpose, SignedGrant};
use crate::{base45, decimal};

mod age_file;
mod subject;

/// Every link starts with this (alphanumeric-mode characters only).
pub const LINK_PREFIX: &str = "AMANAT:";

/// In the URL form (`https://viewer.example/#AMANAT/<digits>`), this follows
/// the `#`; the same bytes follow it as decimal digits (see [`crate::decimal`]).
pub const URL_MARKER: &str = "AMANAT/";

/// The link format version this code writes and reads.
pub const LINK_VERSION: u8 = 2;

/// Bytes of checksum after the CBOR payload.
const CHECKSUM_LEN: usize = 4;

/// Why a link cannot be read. Each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// It does not start with `AMANAT:`.
    #[error("this is not an Amanat share link (it should start with {LINK_PREFIX})")]
    NotALink,
    /// Cut short: part of the QR code or link is missing.
    #[error("the share link is incomplete: it was cut off (scan the whole QR code or copy the whole link)")]
    Truncated,
    /// Characters were changed or misread.
    #[error("the share link is damaged: {0} (a character was changed or misread; scan or copy it again)")]
    Damaged(String),
    /// A newer link format.
    #[error(
        "this share link has format version {0}; this Amanat reads version {LINK_VERSION} (update Amanat)"
    )]
    Version(u8),
    /// Decoded but not a share.
    #[error("the share link's contents are malformed: {0}")]
    Malformed(String),
}

/// Where the encrypted records are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// In the link itself (offline share).
    Inline(Vec<u8>),
    /// At a relay: the URL to fetch them from.
    Relay(String),
}

/// A decoded share link. Its grant is not yet verified.
///
/// The link carries the grant's parts, not its JWS text: the patient's public
/// key, the claims and the signature; [`SignedGrant::assemble`] rebuilds the exact
/// JWS. The grant's record list is usually left out ("detached") and rebuilt
/// from the bundle: each entry's position, resource type and the SHA-256 of its
/// bytes. The signature covers the rebuilt list, so a changed record still fails
/// verification; leaving the list out saves about 40 bytes a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    /// The patient's ed25519 public key.
    pub patient_key: [u8; 32],
    /// The grant's claims (`records` empty when detached).
    pub grant: Grant,
    /// The grant's signature.
    pub signature: [u8; 64],
    /// Whether `grant.records` is to be rebuilt from the bundle.
    pub detached: bool,
    /// For a bearer share: the age X25519 secret key that opens the records.
    pub key: Option<Zeroizing<[u8; 32]>>,
    /// The records are locked with a passcode the patient tells the doctor.
    pub passcode: bool,
    /// Where the records are.
    pub location: Location,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u8,
    #[serde(with = "serde_bytes")]
    x: Vec<u8>,
    #[serde(with = "serde_bytes")]
    s: Vec<u8>,
    c: Claims,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<serde_bytes::ByteBuf>,
    /// The age file, its header packed (see `age_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<ciborium::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    f: String,
}

/// The grant's claims with one-letter names (the wallet ID is the key's), each
/// in its shortest exact form.
#[derive(Serialize, Deserialize)]
struct Claims {
    /// The grant id: its 10 bytes when it is a wallet-made id, else its text.
    j: ciborium::Value,
    n: String,
    /// The patient's details ([`Subject`], packed by `subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<ciborium::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<WireProvider>,
    /// The purpose's index in [`Purpose::ALL`].
    p: u8,
    /// The access mode, when it is not `view`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<AccessMode>,
    i: i64,
    /// Not before, when it differs from `i`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<i64>,
    e: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<Vec<(String, String, serde_bytes::ByteBuf)>>,
}

#[derive(Serialize, Deserialize)]
struct WireProvider {
    n: String,
    r: String,
    k: String,
    a: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g: Option<String>,
}

impl ShareLink {
    /// The signed grant, rebuilt; for a detached link pass the records rebuilt
    /// from the bundle.
    pub fn signed_grant(&self, records: Option<Vec<GrantedRecord>>) -> Result<SignedGrant, LinkError> {
        let key = VerifyingKey::from_bytes(&self.patient_key)
            .map_err(|_| LinkError::Malformed("the patient's key is invalid".into()))?;
        let mut grant = self.grant.clone();
        if let Some(records) = records {
            grant.records = records;
        }
        Ok(SignedGrant::assemble(&key, &grant, self.signature))
    }
}

impl ShareLink {
    /// Encodes the link text: `AMANAT:` and base45.
    pub fn encode(&self) -> String {
        let mut text = String::from(LINK_PREFIX);
        text.push_str(&base45::encode(&self.to_bytes()));
        text
    }

    /// The URL form, for a QR code a phone camera opens: the viewer's address
    /// (any fragment it has dropped), `#AMANAT/` and the link's bytes as
    /// digits. The fragment never leaves the browser, so the viewer's server
    /// sees neither the key nor the records.
    pub fn encode_url(&self, viewer: &str) -> String {
        let base = viewer.split('#').next().unwrap_or_default();
        format!("{base}#{URL_MARKER}{}", crate::decimal::encode(&self.to_bytes()))
    }

    /// The payload as CBOR and its checksum.
    fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let (b, u) = match &self.location {
            Location::Inline(file) => (Some(age_file::pack(file)), None),
            Location::Relay(url) => (None, Some(url.clone())),
        };
        let g = &self.grant;
        let t = match &g.to {
            Grantee::Bearer => None,
            Grantee::Provider {
                name,
                registration,
                key,
                age,
                registry,
            } => Some(WireProvider {
                n: name.clone(),
                r: registration.clone(),
                k: key.clone(),
                a: age.clone(),
                g: registry.clone(),
            }),
        };
        let r = (!self.detached).then(|| {
            g.records
                .iter()
                .map(|r| {
                    let sha = B64URL.decode(&r.sha256).unwrap_or_default();
                    (
                        r.id.clone(),
                        r.resource_type.clone(),
                        serde_bytes::ByteBuf::from(sha),
                    )
                })
                .collect()
        });
        let wire = Wire {
            v: LINK_VERSION,
            x: self.patient_key.to_vec(),
            s: self.signature.to_vec(),
            c: Claims {
                j: jti_value(&g.jti),
                n: g.patient.clone(),
                d: g.subject.as_ref().map(subject::pack),
                t,
                p: Purpose::ALL.iter().position(|p| *p == g.purpose).unwrap_or(0) as u8,
                m: (g.mode != AccessMode::View).then_some(g.mode),
                i: g.iat,
                b: (g.nbf != g.iat).then_some(g.nbf),
                e: g.exp,
                u: g.uses,
                r,
            },
            k: self.key.as_ref().map(|k| serde_bytes::ByteBuf::from(k.to_vec())),
            b,
            u,
            f: if self.passcode { "P".into() } else { String::new() },
        };
        let mut cbor = Zeroizing::new(Vec::new());
        // Serialising plain data to a Vec cannot fail.
        let _ = ciborium::into_writer(&wire, &mut *cbor);
        let checksum = Sha256::digest(&*cbor);
        cbor.extend_from_slice(&checksum[..CHECKSUM_LEN]);
        cbor
    }

    /// Decodes a link in either form: `AMANAT:` and base45, or a viewer URL
    /// whose fragment is `AMANAT/` and digits (the address itself is ignored).
    /// Forgiving of case, spaces and line breaks (base45 has no lower case, so
    /// upper-casing loses nothing).
    pub fn decode(text: &str) -> Result<ShareLink, LinkError> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
            .collect::<String>()
            .to_ascii_uppercase();
        // Neither base45 nor digits hold a `#`: what follows the last one is
        // the fragment of a URL form.
        let fragment = cleaned.rsplit('#').next().unwrap_or_default();
        let bytes = match fragment.strip_prefix(URL_MARKER) {
            Some(digits) => decode_digits(&digits.replace(' ', ""))?,
            None => decode_base45(&cleaned)?,
        };
        let wire = parse_payload(&bytes)?;
        ShareLink::from_wire(wire)
    }

    fn from_wire(wire: Wire) -> Result<ShareLink, LinkError> {
        let malformed = |m: &str| LinkError::Malformed(m.to_string());
        let patient_key: [u8; 32] = wire
            .x
            .try_into()
            .map_err(|_| malformed("the patient's key is not 32 bytes"))?;
        let signature: [u8; 64] = wire
            .s
            .try_into()
            .map_err(|_| malformed("the signature is not 64 bytes"))?;
        let key = match wire.k {
            None => None,
            Some(k) => {
                let arr: [u8; 32] = k
                    .into_vec()
                    .try_into()
                    .map_err(|_| malformed("the key is not 32 bytes"))?;
                Some(Zeroizing::new(arr))
            }
        };
        let location = match (wire.b, wire.u) {
            (Some(b), None) => Location::Inline(age_file::unpack(&b)?),
            (None, Some(u)) => Location::Relay(u),
            _ => return Err(malformed("it must hold either the records or a relay URL")),
        };
        let wallet = VerifyingKey::from_bytes(&patient_key)
            .map(|k| WalletId::from_public_key(&k).to_string())
            .map_err(|_| malformed("the patient's key is invalid"))?;
        let c = wire.c;
        let detached = c.r.is_none();
        let records =
            c.r.unwrap_or_default()
                .into_iter()
                .map(|(id, resource_type, sha)| GrantedRecord {
                    id,
                    resource_type,
                    sha256: B64URL.encode(sha),
                    about: None,
                })
                .collect();
        let to = match c.t {
            None => Grantee::Bearer,
            Some(p) => Grantee::Provider {
                name: p.n,
                registration: p.r,
                key: p.k,
                age: p.a,
                registry: p.g,
            },
        };
        let jti = match c.j {
            ciborium::Value::Text(text) => text,
            ciborium::Value::Bytes(bytes) => RecordId::from_bytes(
                bytes
                    .try_into()
                    .map_err(|_| malformed("the grant id is not 10 bytes"))?,
            )
            .to_string(),
            _ => return Err(malformed("the grant id is neither text nor bytes")),
        };
        let purpose = *Purpose::ALL
            .get(usize::from(c.p))
            .ok_or_else(|| malformed("unknown purpose"))?;
        let grant = Grant {
            v: GRANT_VERSION,
            jti,
            wallet,
            patient: c.n,
            subject: c.d.map(subject::unpack).transpose()?,
            to,
            purpose,
            mode: c.m.unwrap_or(AccessMode::View),
            iat: c.i,
            nbf: c.b.unwrap_or(c.i),
            exp: c.e,
            uses: c.u,
            records,
        };
        Ok(ShareLink {
            patient_key,
            grant,
            signature,
            detached,
            key,
            passcode: wire.f.contains('P'),
            location,
        })
    }
}

/// The bytes of an `AMANAT:` link (upper-cased).
fn decode_base45(cleaned: &str) -> Result<Zeroizing<Vec<u8>>, LinkError> {
    let body = cleaned
        .find(LINK_PREFIX)
        .map(|i| &cleaned[i + LINK_PREFIX.len()..])
        .ok_or(LinkError::NotALink)?;
    if body.is_empty() {
        return Err(LinkError::Truncated);
    }
    if let Some(c) = body.chars().find(|c| !c.is_ascii()) {
        return Err(LinkError::Damaged(format!("character {c:?} is not base45")));
    }
    Ok(Zeroizing::new(base45::decode(body).map_err(|e| match e {
        base45::Base45Error::Length(_) => LinkError::Truncated,
        // A bad final partial group is a cut-off link if what comes before it
        // is the start of a valid payload.
        base45::Base45Error::Range if body.len() % 3 == 2 => {
            match base45::decode(&body[..body.len() - 2]).map(|b| parse_payload(&b)) {
                Ok(Err(LinkError::Truncated)) => LinkError::Truncated,
                _ => LinkError::Damaged(e.to_string()),
            }
        }
        other => LinkError::Damaged(other.to_string()),
    })?))
}

/// The bytes of a URL form's digits; a cut-off tail is told from damage as
/// for base45.
fn decode_digits(digits: &str) -> Result<Zeroizing<Vec<u8>>, LinkError> {
    if digits.is_empty() {
        return Err(LinkError::Truncated);
    }
    decimal::decode(digits).map(Zeroizing::new).map_err(|e| match e {
        decimal::DecimalError::Length(_) => {
            let whole = &digits[..digits.len() - digits.len() % 17];
            match decimal::decode(whole).map(|b| parse_payload(&b)) {
                Ok(Err(LinkError::Truncated)) => LinkError::Truncated,
                _ => LinkError::Damaged(e.to_string()),
            }
        }
        other => LinkError::Damaged(other.to_string()),
    })
}

/// A grant id as bytes when it is the text of a wallet-made id (exactly: the
/// receiver rebuilds the text the signature covers), else as text.
fn jti_value(jti: &str) -> ciborium::Value {
    match jti.parse::<RecordId>() {
        Ok(id) if id.to_string() == jti => ciborium::Value::Bytes(id.as_bytes().to_vec()),
        _ => ciborium::Value::Text(jti.to_string()),
    }
}

/// The CBOR payload and its checksum, in the order a reader can tell a cut-off
/// link (the payload ends early) from a changed one (the checksum differs).
fn parse_payload(bytes: &[u8]) -> Result<Wire, LinkError> {
    if bytes.first() == Some(&0x78) {
        // A zlib stream: version 1 links were compressed as a whole.
        return Err(LinkError::Version(1));
    }
    let mut rest = bytes;
    let value: ciborium::Value = ciborium::from_reader(&mut rest).map_err(|e| match e {
        ciborium::de::Error::Io(_) => LinkError::Truncated,
        other => LinkError::Damaged(format!("it does not decode ({other})")),
    })?;
    let cbor = &bytes[..bytes.len() - rest.len()];
    if rest.len() < CHECKSUM_LEN {
        return Err(LinkError::Truncated);
    }
    if rest != &Sha256::digest(cbor)[..CHECKSUM_LEN] {
        return Err(LinkError::Damaged("its checksum does not match".into()));
    }
    #[derive(Deserialize)]
    struct VersionOnly {
        v: u8,
    }
    let version: VersionOnly = value
        .deserialized()
        .map_err(|e| LinkError::Malformed(format!("no version ({e})")))?;
    if version.v != LINK_VERSION {
        return Err(LinkError::Version(version.v));
    }
    value
        .deserialized()
        .map_err(|e| LinkError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ShareLink {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let grant = Grant {
            v: 1,
            jti: "abc".into(),
            wallet: WalletId::from_public_key(&key.verifying_key()).to_string(),
            patient: "P".into(),
            subject: None,
            to: Grantee::Bearer,
            purpose: Purpose::CareManagement,
            mode: AccessMode::View,
            iat: 1,
            nbf: 1,
            exp: 2,
            uses: None,
            records: vec![GrantedRecord {
                id: "r1".into(),
                resource_type: "Observation".into(),
                sha256: crate::share::grant::sha256_b64(b"x"),
                about: None,
            }],
        };
        let signed = SignedGrant::sign(&grant, &key);
        ShareLink {
            patient_key: key.verifying_key().to_bytes(),
            grant,
            signature: signed.signature,
            detached: false,
            key: Some(Zeroizing::new([7; 32])),
            passcode: false,
            location: Location::Inline(vec![1, 2, 3, 4, 5]),
        }
    }

    #[test]
    fn claims_travel_in_short_forms_and_rebuild_exactly() {
        let mut link = sample();
        let short = link.encode().len();
        link.grant.jti = RecordId::random().to_string();
        link.grant.purpose = Purpose::SelfRequested;
        link.grant.mode = AccessMode::Store;
        link.grant.nbf = link.grant.iat + 5;
        let text = link.encode();
        // A 16-character wallet id travels as 10 bytes (the sample's is "abc").
        assert!(text.len() < short + 30, "{} vs {short}", text.len());
        assert_eq!(ShareLink::decode(&text).unwrap(), link);
        link.grant.jti = "NOT-A-WALLET-ID".into();
        assert_eq!(ShareLink::decode(&link.encode()).unwrap(), link);
    }

    #[test]
    fn the_patients_details_travel_and_rebuild_exactly() {
        use crate::share::grant::Subject;
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let mut link = sample();
        link.grant.subject = Some(Subject {
            birth_date: Some("2016-09-03".into()),
            gender: Some("female".into()),
            ids: vec![("abha".into(), "91-1234-5678-9012".into())],
            phone: None,
        });
        link.signature = SignedGrant::sign(&link.grant, &key).signature;
        let back = ShareLink::decode(&link.encode()).unwrap();
        assert_eq!(back, link);
        let (grant, _) = back.signed_grant(None).unwrap().verify().unwrap();
        assert_eq!(grant.subject, link.grant.subject);
    }

    #[test]
    fn the_rebuilt_grant_verifies() {
        let link = ShareLink::decode(&sample().encode()).unwrap();
        let (grant, _) = link.signed_grant(None).unwrap().verify().unwrap();
        assert_eq!(grant, sample().grant);
    }

    #[test]
    fn round_trip_in_the_alphanumeric_alphabet() {
        let link = sample();
        let text = link.encode();
        assert!(text.starts_with(LINK_PREFIX));
        assert!(
            text.bytes()
                .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b))
        );
        assert_eq!(ShareLink::decode(&text).unwrap(), link);
        assert_eq!(
            ShareLink::decode(&format!("  {}\n", text.to_lowercase())).unwrap(),
            link
        );
    }

    #[test]
    fn truncation_damage_and_garbage_are_told_apart() {
        let text = sample().encode();
        for cut in [
            text.len() - 1,
            text.len() - 2,
            text.len() - 3,
            text.len() / 2,
            LINK_PREFIX.len() + 1,
        ] {
            let err = ShareLink::decode(&text[..cut]).unwrap_err();
            assert!(
                matches!(err, LinkError::Truncated | LinkError::Damaged(_)),
                "cut at {cut}: {err}"
            );
        }
        assert_eq!(
            ShareLink::decode(&text[..text.len() - 1]).unwrap_err(),
            LinkError::Truncated
        );
        assert_eq!(ShareLink::decode("hello").unwrap_err(), LinkError::NotALink);
        assert_eq!(ShareLink::decode("AMANAT:").unwrap_err(), LinkError::Truncated);
        for i in LINK_PREFIX.len()..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                ShareLink::decode(&changed) != Ok(sample()),
                "change at {i} went unnoticed"
            );
        }
    }

    #[test]
    fn the_url_form_round_trips_and_survives_what_urls_go_through() {
        let link = sample();
        let url = link.encode_url("https://viewer.example/amanat/#old-fragment");
        let digits = url
            .strip_prefix("https://viewer.example/amanat/#AMANAT/")
            .unwrap();
        assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{url}");
        assert_eq!(ShareLink::decode(&url).unwrap(), link);
        // What a phone's camera or browser may do: upper-case the address, wrap the
        // text, or give only the fragment.
        assert_eq!(ShareLink::decode(&url.to_uppercase()).unwrap(), link);
        assert_eq!(ShareLink::decode(&format!("#AMANAT/{digits}\n")).unwrap(), link);
        let wrapped: String = digits
            .as_bytes()
            .chunks(40)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(ShareLink::decode(&format!("AMANAT/{wrapped}")).unwrap(), link);
        // Bare links in a URL still read (a hand-made address).
        assert_eq!(
            ShareLink::decode(&format!("https://v.example/#{}", link.encode())).unwrap(),
            link
        );
    }

    #[test]
    fn a_cut_or_changed_url_form_is_refused() {
        let url = sample().encode_url("https://viewer.example/");
        let start = url
            .find('/')
            .map_or(0, |_| url.len() - url.rsplit('/').next().unwrap().len());
        assert_eq!(
            ShareLink::decode(&url[..url.len() - 1]).unwrap_err(),
            LinkError::Truncated
        );
        assert_eq!(
            ShareLink::decode(&url[..start + 17]).unwrap_err(),
            LinkError::Truncated
        );
        assert_eq!(
            ShareLink::decode(&url[..start]).unwrap_err(),
            LinkError::Truncated
        );
        for i in start..url.len() {
            let mut bytes = url.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let changed = String::from_utf8(bytes).unwrap();
            assert!(
                ShareLink::decode(&changed).is_err(),
                "change at {i} went unnoticed"
            );
        }
        assert!(matches!(
            ShareLink::decode(&format!("{url}x")).unwrap_err(),
            LinkError::Damaged(_)
        ));
    }

    /// Found by `cargo fuzz run share_link`: a multi-byte character at the end of
    /// a link made the truncation check slice inside it and panic.
    #[test]
    fn non_ascii_in_a_link_is_damage_not_a_panic() {
        for text in [
            "AMANAT:9DF6+74PI0QB:9DF6+74PI0QBJDADF6+ÚU",
            "AMANAT:ÚÚ",
            "AMANAT:AB˳",
        ] {
            assert!(
                matches!(ShareLink::decode(text), Err(LinkError::Damaged(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn a_version_1_link_is_named_as_such() {
        // The start of a real version 1 link (zlib-compressed CBOR).
        assert_eq!(
            ShareLink::decode("AMANAT:9DF6+74PIK70X/0OJVKEC%70S9F034YRE").unwrap_err(),
            LinkError::Version(1)
        );
    }
}
