//! Share links: what a QR code carries from patient to doctor.
//!
//! ```text
//! AMANAT:<base45( zlib-with-dictionary( CBOR(payload) ) )>
//! ```
//!
//! The payload holds the signed grant (header, payload and signature as bytes,
//! not base64), and either the age-encrypted records themselves (an offline
//! share: no network at all) or the relay URL they can be fetched from, plus the
//! key that opens them for a bearer share. Everything after the prefix is in the
//! QR alphanumeric alphabet, so the code is as small as the bytes allow, as EU
//! digital certificates do with `HC1:`. The DEFLATE dictionary holds common FHIR
//! and grant JSON, so small bundles compress well; it is part of version 1 and
//! never changes (see `docs/link-format.md`).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::VerifyingKey;

use crate::base45;
use crate::grant::{AccessMode, GRANT_VERSION, Grant, GrantedRecord, Grantee, Purpose, SignedGrant};
use crate::ids::WalletId;

/// Every link starts with this (alphanumeric-mode characters only).
pub const LINK_PREFIX: &str = "AMANAT:";

/// The link format version this code writes and reads.
pub const LINK_VERSION: u8 = 1;

/// The preset DEFLATE dictionary of version 1.
pub const DICTIONARY: &[u8] = include_bytes!("link/dictionary.txt");

/// Largest decompressed payload accepted (a defence against zip bombs).
pub const MAX_INFLATED: usize = 32 * 1024 * 1024;

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
/// JWS. In an offline link the grant's record list is left out ("detached") and
/// rebuilt from the bundle it travels with: each entry's id, resource type and
/// the SHA-256 of its bytes. The signature covers the rebuilt list, so a changed
/// record still fails verification; leaving the list out saves 42 bytes a record.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<serde_bytes::ByteBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    f: String,
}

/// The grant's claims with one-letter names (the wallet ID is the key's).
#[derive(Serialize, Deserialize)]
struct Claims {
    j: String,
    n: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<WireProvider>,
    p: Purpose,
    m: AccessMode,
    i: i64,
    b: i64,
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

/// zlib (RFC 1950) with the preset dictionary, best compression.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::best(), true);
    // Setting a dictionary on a fresh compressor cannot fail.
    let _ = c.set_dictionary(DICTIONARY);
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        out.reserve(4096);
        let before = c.total_in();
        let consumed = (before as usize).min(data.len());
        match c.compress_vec(&data[consumed..], &mut out, flate2::FlushCompress::Finish) {
            Ok(flate2::Status::StreamEnd) => return out,
            Ok(_) => continue,
            Err(_) => return out,
        }
    }
}

/// Inverse of [`compress`], refusing output beyond `limit` bytes.
pub fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, LinkError> {
    let mut d = flate2::Decompress::new(true);
    let mut out = Vec::with_capacity(data.len() * 4);
    loop {
        out.reserve(16 * 1024);
        let consumed = (d.total_in() as usize).min(data.len());
        let produced_before = d.total_out();
        match d.decompress_vec(&data[consumed..], &mut out, flate2::FlushDecompress::Finish) {
            Ok(flate2::Status::StreamEnd) => return Ok(out),
            Ok(_) => {
                if out.len() > limit {
                    return Err(LinkError::Malformed(format!("it expands beyond {limit} bytes")));
                }
                if d.total_in() as usize >= data.len() && d.total_out() == produced_before {
                    return Err(LinkError::Truncated);
                }
            }
            Err(e) if e.needs_dictionary().is_some() => {
                d.set_dictionary(DICTIONARY)
                    .map_err(|_| LinkError::Damaged("the compression dictionary does not match".into()))?;
            }
            Err(e) => return Err(LinkError::Damaged(format!("it does not decompress ({e})"))),
        }
    }
}

impl ShareLink {
    /// Encodes the link text.
    pub fn encode(&self) -> String {
        let (b, u) = match &self.location {
            Location::Inline(bytes) => (Some(serde_bytes::ByteBuf::from(bytes.clone())), None),
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
                j: g.jti.clone(),
                n: g.patient.clone(),
                t,
                p: g.purpose,
                m: g.mode,
                i: g.iat,
                b: g.nbf,
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
        let mut text = String::from(LINK_PREFIX);
        text.push_str(&base45::encode(&compress(&cbor)));
        text
    }

    /// Decodes link text: forgiving of case, spaces and line breaks (base45 has
    /// no lower case, so upper-casing loses nothing).
    pub fn decode(text: &str) -> Result<ShareLink, LinkError> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, '\n' | '\r' | '\t'))
            .collect::<String>()
            .to_uppercase();
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
        let compressed = base45::decode(body).map_err(|e| match e {
            base45::Base45Error::Length(_) => LinkError::Truncated,
            // A bad final partial group is a cut-off link if what comes before it
            // is the start of a valid stream.
            base45::Base45Error::Range if body.len() % 3 == 2 => {
                match base45::decode(&body[..body.len() - 2]).map(|b| decompress(&b, MAX_INFLATED)) {
                    Ok(Err(LinkError::Truncated)) => LinkError::Truncated,
                    _ => LinkError::Damaged(e.to_string()),
                }
            }
            other => LinkError::Damaged(other.to_string()),
        })?;
        let cbor = Zeroizing::new(decompress(&compressed, MAX_INFLATED)?);
        #[derive(Deserialize)]
        struct VersionOnly {
            v: u8,
        }
        let version: VersionOnly = ciborium::from_reader(&cbor[..])
            .map_err(|e| LinkError::Malformed(format!("no version ({e})")))?;
        if version.v != LINK_VERSION {
            return Err(LinkError::Version(version.v));
        }
        let wire: Wire = ciborium::from_reader(&cbor[..]).map_err(|e| LinkError::Malformed(e.to_string()))?;
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
            (Some(b), None) => Location::Inline(b.into_vec()),
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
        let grant = Grant {
            v: GRANT_VERSION,
            jti: c.j,
            wallet,
            patient: c.n,
            to,
            purpose: c.p,
            mode: c.m,
            iat: c.i,
            nbf: c.b,
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

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn sample() -> ShareLink {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let grant = Grant {
            v: 1,
            jti: "abc".into(),
            wallet: WalletId::from_public_key(&key.verifying_key()).to_string(),
            patient: "P".into(),
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
                sha256: crate::grant::sha256_b64(b"x"),
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
    fn dictionary_is_frozen_for_version_1() {
        let digest = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(DICTIONARY));
        assert_eq!(
            digest, FROZEN_DICTIONARY_SHA256,
            "the v1 dictionary must never change"
        );
    }

    const FROZEN_DICTIONARY_SHA256: &str = "b26738edea920e024689d98a0a3bdd8171a8eb5e3d3248a4d8010e545d37993d";
}
