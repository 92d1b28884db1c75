//! The one JWE that SMART Health Links use: compact serialization, key
//! management `dir` (the link's 32-byte key is the content key), content
//! encryption `A256GCM` (RFC 7516, RFC 7518 §5.3). Files written here are not
//! compressed; files from other software may be (`zip: "DEF"`, raw DEFLATE),
//! and are inflated with a bound.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Why a file does not decrypt. Each names what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JweError {
    /// Not five base64url parts.
    #[error("a file is not a compact JWE (five base64url parts separated by dots)")]
    NotJwe,
    /// Another algorithm than the links' own.
    #[error(
        "a file is encrypted with alg '{alg}', enc '{enc}'; SMART Health Links use alg 'dir', enc 'A256GCM'"
    )]
    Algorithm {
        /// Key management.
        alg: String,
        /// Content encryption.
        enc: String,
    },
    /// A header Amanat does not understand.
    #[error("a file's JWE header is not usable: {0}")]
    Header(String),
    /// The key does not open it, or it was altered.
    #[error("a file does not decrypt with the link's key: it was altered or belongs to another link")]
    Decrypt,
    /// Inflated past the bound, or not DEFLATE.
    #[error("a file's compressed contents are damaged or larger than {0} bytes")]
    Inflate(usize),
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    enc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zip: Option<String>,
    /// Extensions a reader must understand to go on; none are.
    #[serde(default, skip_serializing)]
    crit: Option<serde_json::Value>,
}

/// Encrypts `plain` under `key`, with `cty` (the file's content type) in the
/// protected header.
pub fn encrypt(key: &[u8; 32], cty: &str, plain: &[u8]) -> String {
    let header = serde_json::to_vec(&Header {
        alg: "dir".into(),
        enc: "A256GCM".into(),
        cty: Some(cty.into()),
        zip: None,
        crit: None,
    })
    .unwrap_or_default();
    let protected = B64URL.encode(header);
    let mut iv = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut iv);
    let cipher = Aes256Gcm::new(key.into());
    // Encryption with a 12-byte nonce and a message far under AES-GCM's limit
    // cannot fail.
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: plain,
                aad: protected.as_bytes(),
            },
        )
        .unwrap_or_default();
    let (ciphertext, tag) = sealed.split_at(sealed.len().saturating_sub(16));
    format!(
        "{protected}..{}.{}.{}",
        B64URL.encode(iv),
        B64URL.encode(ciphertext),
        B64URL.encode(tag)
    )
}

/// A decrypted file: its content type (from the protected header) and bytes.
#[derive(Debug)]
pub struct Opened {
    /// `cty`, if the header has one.
    pub content_type: Option<String>,
    /// The plaintext.
    pub plain: Zeroizing<Vec<u8>>,
}

/// Decrypts a compact JWE under `key`; plaintexts (inflated) longer than `max`
/// bytes are refused.
pub fn decrypt(key: &[u8; 32], compact: &str, max: usize) -> Result<Opened, JweError> {
    let parts: Vec<&str> = compact.trim().split('.').collect();
    let [protected, encrypted_key, iv, ciphertext, tag] = parts[..] else {
        return Err(JweError::NotJwe);
    };
    let b64 = |s: &str| B64URL.decode(s).map_err(|_| JweError::NotJwe);
    let header: Header = serde_json::from_slice(&b64(protected)?)
        .map_err(|e| JweError::Header(format!("not JSON with alg and enc ({e})")))?;
    if header.alg != "dir" || header.enc != "A256GCM" {
        return Err(JweError::Algorithm {
            alg: header.alg,
            enc: header.enc,
        });
    }
    if header.crit.is_some() {
        return Err(JweError::Header("it names critical extensions (crit)".into()));
    }
    if !encrypted_key.is_empty() {
        return Err(JweError::Header("a 'dir' JWE has an empty encrypted key".into()));
    }
    let iv = b64(iv)?;
    if iv.len() != 12 {
        return Err(JweError::Header("its IV is not 96 bits".into()));
    }
    let tag = b64(tag)?;
    if tag.len() != 16 {
        return Err(JweError::Header("its authentication tag is not 128 bits".into()));
    }
    let mut sealed = b64(ciphertext)?;
    if sealed.len() > max {
        return Err(JweError::Inflate(max));
    }
    sealed.extend_from_slice(&tag);
    let cipher = Aes256Gcm::new(key.into());
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(&iv),
                Payload {
                    msg: &sealed,
                    aad: protected.as_bytes(),
                },
            )
            .map_err(|_| JweError::Decrypt)?,
    );
    let plain = match header.zip.as_deref() {
        None => plain,
        Some("DEF") => Zeroizing::new(
            miniz_oxide::inflate::decompress_to_vec_with_limit(&plain, max)
                .map_err(|_| JweError::Inflate(max))?,
        ),
        Some(other) => return Err(JweError::Header(format!("unknown compression zip '{other}'"))),
    };
    Ok(Opened {
        content_type: header.cty,
        plain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn round_trips_and_names_its_content_type() {
        let jwe = encrypt(&KEY, "application/fhir+json", b"{\"resourceType\":\"Bundle\"}");
        assert_eq!(jwe.split('.').count(), 5);
        assert!(jwe.contains(".."), "dir: the encrypted key is empty");
        let opened = decrypt(&KEY, &jwe, 1024).unwrap();
        assert_eq!(opened.content_type.as_deref(), Some("application/fhir+json"));
        assert_eq!(&opened.plain[..], b"{\"resourceType\":\"Bundle\"}");
        assert_eq!(decrypt(&[8; 32], &jwe, 1024).unwrap_err(), JweError::Decrypt);
    }

    #[test]
    fn the_header_is_authenticated() {
        let jwe = encrypt(&KEY, "application/fhir+json", b"{}");
        let (_, rest) = jwe.split_once('.').unwrap();
        let other = B64URL.encode(br#"{"alg":"dir","enc":"A256GCM","cty":"text/plain"}"#);
        assert_eq!(
            decrypt(&KEY, &format!("{other}.{rest}"), 1024).unwrap_err(),
            JweError::Decrypt
        );
    }

    #[test]
    fn refuses_other_algorithms_and_shapes() {
        let header = |h: &str| format!("{}..AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA", B64URL.encode(h));
        assert!(matches!(
            decrypt(&KEY, &header(r#"{"alg":"dir","enc":"A128GCM"}"#), 1024),
            Err(JweError::Algorithm { enc, .. }) if enc == "A128GCM"
        ));
        assert!(matches!(
            decrypt(&KEY, &header(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#), 1024),
            Err(JweError::Algorithm { alg, .. }) if alg == "RSA-OAEP"
        ));
        assert!(matches!(
            decrypt(
                &KEY,
                &header(r#"{"alg":"dir","enc":"A256GCM","crit":["x"]}"#),
                1024
            ),
            Err(JweError::Header(_))
        ));
        assert_eq!(decrypt(&KEY, "a.b.c", 1024).unwrap_err(), JweError::NotJwe);
        assert_eq!(decrypt(&KEY, "!.!.!.!.!", 1024).unwrap_err(), JweError::NotJwe);
    }

    #[test]
    fn inflates_deflated_files_within_the_bound() {
        // What other software writes with zip: DEF: raw DEFLATE under the key.
        let plain = vec![b'a'; 100_000];
        let deflated = miniz_oxide::deflate::compress_to_vec(&plain, 6);
        let protected = B64URL.encode(br#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#);
        let iv = [1u8; 12];
        let sealed = Aes256Gcm::new((&KEY).into())
            .encrypt(
                Nonce::from_slice(&iv),
                Payload {
                    msg: &deflated,
                    aad: protected.as_bytes(),
                },
            )
            .unwrap();
        let (ct, tag) = sealed.split_at(sealed.len() - 16);
        let jwe = format!(
            "{protected}..{}.{}.{}",
            B64URL.encode(iv),
            B64URL.encode(ct),
            B64URL.encode(tag)
        );
        assert_eq!(decrypt(&KEY, &jwe, 200_000).unwrap().plain.len(), 100_000);
        assert_eq!(
            decrypt(&KEY, &jwe, 50_000).unwrap_err(),
            JweError::Inflate(50_000)
        );
    }
}
