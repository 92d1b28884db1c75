//! What Amanat's own signatures have in common: a JWS (RFC 7515) signed with
//! EdDSA (RFC 8037), the Ed25519 key embedded in the protected header as an
//! OKP `jwk` whose RFC 7638 thumbprint is its `kid`, so that any JOSE library
//! verifies one on its own. Consent grants ([`crate::share::grant`]) and
//! signed records ([`crate::provider::signed`]) are such JWSs; each keeps its
//! own header fields and its own words for a refusal, the checks are here once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::de::DeserializeOwned;
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

/// A format's header: [`Header`] flattened in first, then its own fields.
pub(crate) trait Headed: DeserializeOwned {
    /// The common part.
    fn jws(&self) -> &Header;
}

/// A format whose header is the common one alone (requests, facility cards).
impl Headed for Header {
    fn jws(&self) -> &Header {
        self
    }
}

/// Signs `claims` (as JSON) with `key` as a compact JWS of type `typ` whose
/// header is the common one, after `prefix`: a request's or a card's text.
pub(crate) fn sign_compact(
    prefix: &str,
    typ: &str,
    key: &ed25519_dalek::SigningKey,
    claims: &impl Serialize,
) -> String {
    use ed25519_dalek::Signer as _;
    let header = Header::new(typ, &key.verifying_key());
    let input = format!(
        "{}.{}",
        B64URL.encode(serde_json::to_vec(&header).unwrap_or_default()),
        B64URL.encode(serde_json::to_vec(claims).unwrap_or_default())
    );
    let signature = key.sign(input.as_bytes());
    format!("{prefix}{input}.{}", B64URL.encode(signature.to_bytes()))
}

/// Why a compact JWS of one of Amanat's formats was refused, sorted the
/// way each format words its refusals: a signature by another algorithm, a
/// text that is not the format, or a signature that does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failed {
    /// Not EdDSA over Ed25519 (the `alg` or `kty/crv` given).
    Algorithm(String),
    /// Not the format at all, in words.
    Malformed(String),
    /// The signature does not verify over these bytes (or its key is no key).
    Altered,
}

/// Verifies a compact JWS given as its three parts: the header as `H` (of
/// type `typ`; `what` names the format in a refusal, e.g. "a consent
/// request"), the signature over `h.p`. Returns the header and the signer's
/// key; the payload is the caller's to read.
pub(crate) fn verify_compact<H: Headed>(
    [h, p, s]: [&str; 3],
    typ: &str,
    what: &str,
) -> Result<(H, VerifyingKey), Failed> {
    let malformed = |m: String| Failed::Malformed(m);
    let header: H = B64URL
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| malformed(format!("its header is not {what}'s")))?;
    let signature: [u8; 64] = B64URL
        .decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("the signature is not 64 bytes of base64url".into()))?;
    let key = verify(header.jws(), typ, format!("{h}.{p}").as_bytes(), &signature).map_err(|r| match r {
        Refusal::Algorithm(alg) | Refusal::KeyType(alg) => Failed::Algorithm(alg),
        Refusal::Type(given) => malformed(format!("its type is '{given}', not {what} ({typ})")),
        Refusal::Crit => malformed(CRIT.into()),
        Refusal::KeyBytes => malformed("the key is not 32 bytes of base64url".into()),
        Refusal::KeyId => malformed("its key id (kid) is not its key's thumbprint".into()),
        Refusal::InvalidKey | Refusal::Signature => Failed::Altered,
    })?;
    Ok((header, key))
}

/// A compact JWS's three parts, after `prefix`.
pub(crate) fn parts<'a>(text: &'a str, prefix: &str, what: &str) -> Result<[&'a str; 3], Failed> {
    let compact = text
        .strip_prefix(prefix)
        .ok_or_else(|| Failed::Malformed(format!("it does not start with {prefix}")))?;
    match compact.split('.').collect::<Vec<_>>()[..] {
        [h, p, s] => Ok([h, p, s]),
        _ => Err(Failed::Malformed(format!(
            "{what} is a JWS of three dot-separated parts"
        ))),
    }
}
