//! SMART Health Cards (HL7/SMART Health Cards Framework, v1): a FHIR Bundle
//! signed by whoever issued it (a lab, an immunisation programme), as a JWS
//! in a `.smart-health-card` file or in `shc:/` QR codes (one, or a chunked
//! set `shc:/2/3/…`).
//!
//! The wallet imports a card only when its signature verifies (ES256, P-256
//! with SHA-256) with a key of an issuer the patient trusts: a JWKS the
//! issuer publishes at `<iss>/.well-known/jwks.json`, loaded with `amanat
//! issuers trust`. The records keep who issued them ([`crate::record::Source::Issued`]).
//! The payload is raw DEFLATE (`zip: DEF`) of `{iss, nbf, exp?, vc: {type,
//! credentialSubject: {fhirVersion, fhirBundle}}}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Largest inflated card payload accepted (a card with a photo-sized PDF
/// would be a misuse; real cards are a few kilobytes).
const MAX_PAYLOAD: usize = 4 * 1024 * 1024;
/// Most chunks a QR set may have (the specification stops at a few).
const MAX_CHUNKS: usize = 32;
/// The QR prefix.
pub const QR_PREFIX: &str = "shc:/";

/// Why a card was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShcError {
    /// Not a card at all.
    #[error("not a SMART Health Card: {0}")]
    Malformed(String),
    /// A chunked QR set with chunks missing, doubled or from different sets.
    #[error("the QR codes do not make one card: {0}")]
    Chunks(String),
    /// Signed by an issuer the wallet does not trust.
    #[error(
        "issued by {iss}, which is not among the issuers you trust (get its keys from {iss}/.well-known/jwks.json and run `amanat issuers trust FILE --iss {iss}`)"
    )]
    UnknownIssuer {
        /// The card's `iss`.
        iss: String,
    },
    /// Signed with a key the trusted issuer does not list.
    #[error("signed with key {kid}, which {iss} does not list among its keys")]
    UnknownKey {
        /// The issuer.
        iss: String,
        /// The key id the card names.
        kid: String,
    },
    /// The signature does not match: altered, or forged.
    #[error("its signature does not match: the card was altered, or not signed by {iss}")]
    BadSignature {
        /// The issuer it claims.
        iss: String,
    },
    /// Not valid yet.
    #[error("it is not valid before {0}")]
    NotYet(String),
    /// Expired.
    #[error("it expired on {0}")]
    Expired(String),
}

/// One public key of an issuer, as a JWK (EC, P-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `EC`.
    pub kty: String,
    /// `P-256`.
    pub crv: String,
    /// The key's x coordinate, base64url.
    pub x: String,
    /// The key's y coordinate, base64url.
    pub y: String,
    /// Key id: the key's RFC 7638 thumbprint, as the specification requires.
    pub kid: String,
}

/// An issuer the patient trusts: its URL and signing keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issuer {
    /// The issuer's URL, exactly as cards name it in `iss`.
    pub iss: String,
    /// What to call it ("Punjab Immunisation Programme").
    pub name: Option<String>,
    /// Its ES256 keys.
    pub keys: Vec<Jwk>,
}

impl Issuer {
    /// An issuer from its published JWKS. Keys other than EC P-256 signing
    /// keys are left out; each kept key must be well formed and its `kid`
    /// its thumbprint. At least one must remain.
    pub fn from_jwks(iss: &str, name: Option<String>, jwks: &[u8]) -> Result<Issuer, ShcError> {
        let bad = |why: String| ShcError::Malformed(format!("the key set {why}"));
        let iss = iss.trim().trim_end_matches('/').to_string();
        if !iss.starts_with("https://") || iss.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(format!(
                "belongs to '{iss}', which is not an https:// address"
            )));
        }
        #[derive(Deserialize)]
        struct Set {
            keys: Vec<Value>,
        }
        let set: Set = serde_json::from_slice(jwks).map_err(|e| bad(format!("is not a JWKS: {e}")))?;
        let mut keys = Vec::new();
        for key in set.keys {
            if key["kty"] != "EC" || key["crv"] != "P-256" || key.get("d").is_some() {
                if key.get("d").is_some() {
                    return Err(bad("holds a private key: give the public key set".into()));
                }
                continue;
            }
            let jwk: Jwk =
                serde_json::from_value(key).map_err(|e| bad(format!("has a malformed key: {e}")))?;
            verifying_key(&jwk).ok_or_else(|| bad(format!("key {} is not a point on P-256", jwk.kid)))?;
            if thumbprint(&jwk) != jwk.kid {
                return Err(bad(format!("key {} is not named by its thumbprint", jwk.kid)));
            }
            keys.push(jwk);
        }
        if keys.is_empty() {
            return Err(bad("has no ES256 (P-256) key".into()));
        }
        Ok(Issuer { iss, name, keys })
    }

    /// How records name it: its name and address, or its address.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} ({})", self.iss),
            None => self.iss.clone(),
        }
    }
}

/// A card whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// Who issued it (one of the trusted issuers).
    pub issuer: Issuer,
    /// When it was issued (`nbf`), seconds since 1970.
    pub issued: Option<i64>,
    /// The FHIR Bundle it carries, as JSON bytes.
    pub bundle: Vec<u8>,
    /// The id (`kid`) of the issuer's key that signed it.
    pub kid: String,
}

/// The JWS texts of a `.smart-health-card` file.
pub fn from_file(bytes: &[u8]) -> Result<Vec<String>, ShcError> {
    #[derive(Deserialize)]
    struct File {
        #[serde(rename = "verifiableCredential")]
        verifiable_credential: Vec<String>,
    }
    let file: File = serde_json::from_slice(bytes)
        .map_err(|_| ShcError::Malformed("the file has no verifiableCredential list".into()))?;
    if file.verifiable_credential.is_empty() {
        return Err(ShcError::Malformed("the file holds no card".into()));
    }
    Ok(file.verifiable_credential)
}

/// Whether text looks like the contents of `.smart-health-card` file.
pub fn is_card_file(bytes: &[u8]) -> bool {
    bytes.len() < 64 * 1024 * 1024
        && bytes
            .windows(22)
            .take(4096)
            .any(|w| w == b"\"verifiableCredential\"")
}

/// The JWS a set of `shc:/` QR texts holds: one `shc:/<digits>`, or chunks
/// `shc:/<n>/<total>/<digits>` in any order. Each pair of digits is one
/// character, its code minus 45.
pub fn from_qr<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<String, ShcError> {
    let mut chunks: Vec<(usize, usize, &str)> = Vec::new();
    for text in texts {
        let rest = text
            .trim()
            .strip_prefix(QR_PREFIX)
            .ok_or_else(|| ShcError::Malformed(format!("a QR text must start with {QR_PREFIX}")))?;
        let parts: Vec<&str> = rest.split('/').collect();
        let number = |s: &str| s.parse::<usize>().ok().filter(|n| (1..=MAX_CHUNKS).contains(n));
        let chunk = match parts.as_slice() {
            [digits] => (1, 1, *digits),
            [n, total, digits] => match (number(n), number(total)) {
                (Some(n), Some(total)) if n <= total => (n, total, *digits),
                _ => return Err(ShcError::Chunks(format!("'{n}/{total}' is not a chunk of a set"))),
            },
            _ => return Err(ShcError::Malformed("a QR text has too many '/'".into())),
        };
        chunks.push(chunk);
        if chunks.len() > MAX_CHUNKS {
            return Err(ShcError::Chunks(format!("more than {MAX_CHUNKS} codes")));
        }
    }
    let total = chunks
        .first()
        .map(|c| c.1)
        .ok_or_else(|| ShcError::Malformed("no QR text".into()))?;
    if chunks.iter().any(|c| c.1 != total) {
        return Err(ShcError::Chunks(
            "the codes are from sets of different sizes".into(),
        ));
    }
    chunks.sort_by_key(|c| c.0);
    for (i, c) in chunks.iter().enumerate() {
        if c.0 != i + 1 {
            return Err(ShcError::Chunks(format!(
                "code {} of {total} is missing or doubled",
                i + 1
            )));
        }
    }
    if chunks.len() != total {
        return Err(ShcError::Chunks(format!("{} of {total} codes", chunks.len())));
    }
    let mut jws = String::new();
    for (_, _, digits) in chunks {
        let d = digits.as_bytes();
        if d.len() % 2 != 0 || !d.iter().all(u8::is_ascii_digit) {
            return Err(ShcError::Malformed(
                "the QR digits are not pairs of digits".into(),
            ));
        }
        for pair in d.chunks(2) {
            let value = (pair[0] - b'0') * 10 + (pair[1] - b'0');
            if value > 77 {
                return Err(ShcError::Malformed("the QR digits do not encode a JWS".into()));
            }
            jws.push(char::from(value + 45));
        }
    }
    Ok(jws)
}

/// Verifies a card's JWS against the trusted issuers at `now` and returns
/// what it carries. Only the header and the `iss` are read before the
/// signature is checked.
pub fn verify(jws: &str, trusted: &[Issuer], now: i64) -> Result<Card, ShcError> {
    verify_at(jws, trusted, Some(now))
}

/// The issuer among `trusted` whose key signed the card, with that key
/// alone: what a share carries beside the card's records so that whoever
/// receives them can verify the card. Its time is not checked (a card the
/// wallet took stays the issuer's word after it expires).
pub fn signer_of(jws: &str, trusted: &[Issuer]) -> Option<Issuer> {
    let card = verify_at(jws, trusted, None).ok()?;
    let mut issuer = card.issuer;
    issuer.keys.retain(|k| k.kid == card.kid);
    Some(issuer)
}

/// Verifies a card's signature with `issuer`'s keys, not its time: the
/// doctor's side of a shared record's card ([`signer_of`]).
pub fn verify_signature(jws: &str, issuer: &Issuer) -> Result<Card, ShcError> {
    verify_at(jws, std::slice::from_ref(issuer), None)
}

/// [`verify`], the times checked at `now` when given.
fn verify_at(jws: &str, trusted: &[Issuer], now: Option<i64>) -> Result<Card, ShcError> {
    let bad = |why: &str| ShcError::Malformed(why.to_string());
    let mut parts = jws.trim().split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad("it is not a compact JWS (three parts)"));
    };
    #[derive(Deserialize)]
    struct Header {
        alg: String,
        kid: String,
        zip: Option<String>,
    }
    let header: Header = B64URL
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("its header is not JSON with alg and kid"))?;
    if header.alg != "ES256" {
        return Err(bad("it is not signed with ES256"));
    }
    let deflated = B64URL
        .decode(p)
        .map_err(|_| bad("its payload is not base64url"))?;
    let json = match header.zip.as_deref() {
        Some("DEF") => miniz_oxide::inflate::decompress_to_vec_with_limit(&deflated, MAX_PAYLOAD)
            .map_err(|_| bad("its payload is not DEFLATE within 4 MiB"))?,
        None => deflated,
        Some(_) => return Err(bad("its payload is compressed in a way cards are not")),
    };
    let payload: Value = serde_json::from_slice(&json).map_err(|_| bad("its payload is not JSON"))?;
    let iss = payload["iss"].as_str().ok_or_else(|| bad("it names no issuer"))?;
    let issuer = trusted
        .iter()
        .find(|i| i.iss == iss.trim_end_matches('/'))
        .ok_or_else(|| ShcError::UnknownIssuer { iss: iss.to_string() })?;
    let key = issuer
        .keys
        .iter()
        .find(|k| k.kid == header.kid)
        .and_then(verifying_key)
        .ok_or_else(|| ShcError::UnknownKey {
            iss: issuer.iss.clone(),
            kid: header.kid.clone(),
        })?;
    let signature = B64URL
        .decode(s)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| ShcError::BadSignature {
            iss: issuer.iss.clone(),
        })?;
    key.verify(format!("{h}.{p}").as_bytes(), &signature)
        .map_err(|_| ShcError::BadSignature {
            iss: issuer.iss.clone(),
        })?;
    let day = |t: i64| crate::share::grant::human_time(t);
    let time = |k: &str| payload[k].as_f64().map(|t| t as i64);
    if let Some(now) = now {
        if let Some(nbf) = time("nbf")
            && nbf > now + 300
        {
            return Err(ShcError::NotYet(day(nbf)));
        }
        if let Some(exp) = time("exp")
            && exp <= now
        {
            return Err(ShcError::Expired(day(exp)));
        }
    }
    let mut bundle = payload
        .pointer("/vc/credentialSubject/fhirBundle")
        .filter(|b| b["resourceType"] == "Bundle")
        .cloned()
        .ok_or_else(|| bad("it carries no FHIR Bundle"))?;
    // A card's Bundle is a collection; issuers minifying for QR codes often
    // leave its `type` out (the specification's own examples do).
    if bundle.get("type").is_none() {
        bundle["type"] = "collection".into();
    }
    Ok(Card {
        issuer: issuer.clone(),
        issued: time("nbf"),
        bundle: serde_json::to_vec(&bundle).map_err(|_| bad("it carries no FHIR Bundle"))?,
        kid: header.kid,
    })
}

/// The P-256 public key of a JWK, if it is one.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    let x = B64URL.decode(&jwk.x).ok().filter(|x| x.len() == 32)?;
    let y = B64URL.decode(&jwk.y).ok().filter(|y| y.len() == 32)?;
    let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
    VerifyingKey::from_encoded_point(&point).ok()
}

/// A JWK's RFC 7638 thumbprint: SHA-256 of its required members in
/// lexicographic order, base64url.
fn thumbprint(jwk: &Jwk) -> String {
    let canonical = format!(
        r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
        jwk.crv, jwk.kty, jwk.x, jwk.y
    );
    B64URL.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWKS: &[u8] = include_bytes!("../tests/vectors/shc/issuer.jwks.json");
    const EXAMPLE_ISS: &str = "https://spec.smarthealth.cards/examples/issuer";
    /// 2026-12-01: the examples carry no expiry.
    const NOW: i64 = 1_796_083_200;

    fn issuer() -> Issuer {
        Issuer::from_jwks(EXAMPLE_ISS, Some("SMART example issuer".into()), JWKS).unwrap()
    }

    #[test]
    fn the_specifications_example_cards_verify_with_its_example_key() {
        let file = include_bytes!("../tests/vectors/shc/example-00.smart-health-card");
        let jws = &from_file(file).unwrap()[0];
        let card = verify(jws, &[issuer()], NOW).unwrap();
        assert_eq!(card.issuer.iss, EXAMPLE_ISS);
        assert!(card.bundle.starts_with(b"{\"resourceType\":\"Bundle\""));
        // The same card as its published QR code's digits.
        let qr = include_str!("../tests/vectors/shc/example-00.qr.txt");
        assert_eq!(&from_qr([qr]).unwrap(), jws);
        // A card published as four chunked QR codes, in any order.
        let chunked: Vec<&str> = include_str!("../tests/vectors/shc/example-chunked.qr.txt")
            .lines()
            .filter(|l| !l.is_empty())
            .rev()
            .collect();
        let jws = from_qr(chunked.iter().copied()).unwrap();
        assert_eq!(
            jws,
            include_str!("../tests/vectors/shc/example-chunked.jws.txt").trim()
        );
        verify(&jws, &[issuer()], NOW).unwrap();
        // Three of the four, or one twice, make no card.
        assert!(matches!(
            from_qr(chunked[..3].iter().copied()),
            Err(ShcError::Chunks(_))
        ));
        let doubled = [chunked[0], chunked[0], chunked[1], chunked[2]];
        assert!(matches!(from_qr(doubled), Err(ShcError::Chunks(_))));
    }

    #[test]
    fn an_altered_card_an_unknown_issuer_or_key_is_refused_in_words() {
        let file = include_bytes!("../tests/vectors/shc/example-00.smart-health-card");
        let jws = from_file(file).unwrap().remove(0);
        // The payload changed (another birth date), re-compressed,
        // under the issuer's signature of the original.
        let parts: Vec<&str> = jws.split('.').collect();
        let inflated = miniz_oxide::inflate::decompress_to_vec(&B64URL.decode(parts[1]).unwrap()).unwrap();
        let text = String::from_utf8(inflated).unwrap();
        let changed = text.replacen("\"birthDate\":\"19", "\"birthDate\":\"20", 1);
        assert_ne!(changed, text);
        let payload = B64URL.encode(miniz_oxide::deflate::compress_to_vec(changed.as_bytes(), 9));
        let altered = format!("{}.{payload}.{}", parts[0], parts[2]);
        assert_eq!(
            verify(&altered, &[issuer()], NOW).unwrap_err(),
            ShcError::BadSignature {
                iss: EXAMPLE_ISS.into()
            }
        );
        // The signature changed: refused as altered.
        let mut resigned = jws.clone();
        resigned.truncate(jws.len() - 4);
        resigned.push_str("AAAA");
        assert_eq!(
            verify(&resigned, &[issuer()], NOW).unwrap_err(),
            ShcError::BadSignature {
                iss: EXAMPLE_ISS.into()
            }
        );
        assert_eq!(
            verify(&jws, &[], NOW).unwrap_err(),
            ShcError::UnknownIssuer {
                iss: EXAMPLE_ISS.into()
            }
        );
        let mut other = issuer();
        other.keys.remove(0);
        assert!(matches!(
            verify(&jws, &[other], NOW),
            Err(ShcError::UnknownKey { .. })
        ));
    }

    #[test]
    fn key_sets_must_be_public_p256_keys_named_by_their_thumbprints() {
        let set: Value = serde_json::from_slice(JWKS).unwrap();
        assert_eq!(issuer().keys.len(), 2);
        let mut renamed = set.clone();
        renamed["keys"][0]["kid"] = "someone-else".into();
        let err = Issuer::from_jwks(EXAMPLE_ISS, None, renamed.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("not named by its thumbprint"), "{err}");
        let mut private = set.clone();
        private["keys"][0]["d"] = "secret".into();
        let err = Issuer::from_jwks(EXAMPLE_ISS, None, private.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");
        let err = Issuer::from_jwks("http://example.org", None, JWKS).unwrap_err();
        assert!(err.to_string().contains("https://"), "{err}");
    }
}
