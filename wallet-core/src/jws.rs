//! What Amanat's own signatures have in common: a JWS (RFC 7515) signed with
//! EdDSA (RFC 8037), the Ed25519 key embedded in the protected header as an
//! OKP `jwk` whose RFC 7638 thumbprint is its `kid`, so that any JOSE library
//! verifies one on its own. Consent grants ([`crate::share::grant`]) and
//! signed records ([`crate::provider::signed`]) are such JWSs; each keeps its
//! own header fields and its own words for a refusal, the checks are here once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::share::grant::thumbprint;

/// An Ed25519 public key as a JWK (RFC 8037).
#[derive(Serialize, Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
}

impl Jwk {
    /// The JWK of `key`.
    fn of(key: &VerifyingKey) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: B64URL.encode(key.as_bytes()),
        }
    }
}

/// What every Amanat JWS's protected header holds, members in this order
/// (a format with more flattens this in first).
#[derive(Serialize, Deserialize)]
pub(crate) struct Header {
    alg: String,
    typ: String,
    kid: String,
    jwk: Jwk,
    /// RFC 7515 §4.1.11: extensions the verifier must understand. Amanat
    /// defines none, so a JWS naming any is refused rather than read as if
    /// the extension were not there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crit: Option<serde_json::Value>,
}

impl Header {
    /// The header of a JWS of type `typ` signed with `key`.
    pub(crate) fn new(typ: &str, key: &VerifyingKey) -> Header {
        Header {
            alg: "EdDSA".into(),
            typ: typ.into(),
            kid: thumbprint(key),
            jwk: Jwk::of(key),
            crit: None,
        }
    }
}

/// The words for [`Refusal::Crit`], the same in every format.
pub(crate) const CRIT: &str = "it names critical header extensions (crit) that Amanat does not understand";

/// Why a JWS was refused, for its format to put in its own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `alg` is not EdDSA (the name given).
    Algorithm(String),
    /// `typ` is not the expected one (the one given).
    Type(String),
    /// It names `crit` extensions.
    Crit,
    /// The `jwk` is not OKP/Ed25519 (`kty/crv`).
    KeyType(String),
    /// The `jwk`'s `x` is not 32 bytes of base64url.
    KeyBytes,
    /// The 32 bytes are no Ed25519 point.
    InvalidKey,
    /// `kid` is not the key's thumbprint.
    KeyId,
    /// The signature does not verify.
    Signature,
}

/// Checks a header (its type must be `typ`) and the signature over `input`
/// (`header.payload`, base64url), in that order; returns the signer's key.
pub(crate) fn verify(
    header: &Header,
    typ: &str,
    input: &[u8],
    signature: &[u8; 64],
) -> Result<VerifyingKey, Refusal> {
    if header.alg != "EdDSA" {
        return Err(Refusal::Algorithm(header.alg.to_string()));
    }
    if header.typ != typ {
        return Err(Refusal::Type(header.typ.to_string()));
    }
    if header.crit.is_some() {
        return Err(Refusal::Crit);
    }
    let jwk = &header.jwk;
    if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
        return Err(Refusal::KeyType(format!("{}/{}", jwk.kty, jwk.crv)));
    }
    let x: [u8; 32] = B64URL
        .decode(&jwk.x)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(Refusal::KeyBytes)?;
    let key = VerifyingKey::from_bytes(&x).map_err(|_| Refusal::InvalidKey)?;
    if header.kid != thumbprint(&key) {
        return Err(Refusal::KeyId);
    }
    key.verify_strict(input, &Signature::from_bytes(signature))
        .map_err(|_| Refusal::Signature)?;
    Ok(key)
}
