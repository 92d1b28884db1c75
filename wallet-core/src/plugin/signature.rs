//! Signing plugins: the manifest and an ed25519 signature as custom sections.
//!
//! Following the WebAssembly tool-conventions signature design (and wasmsign2),
//! the signature lives in the binary itself, as the **last** custom section,
//! `amanat-signature`, and covers every byte before it: the component, and the
//! `amanat-manifest` section just before the signature. Appending or changing
//! anything breaks it. The signed message is
//! `"amanat-plugin-signature-v1\n" || SHA-256(preceding bytes)`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PluginError;
use super::manifest::Manifest;

/// The manifest's custom section.
pub const MANIFEST_SECTION: &str = "amanat-manifest";
/// The signature's custom section.
pub const SIGNATURE_SECTION: &str = "amanat-signature";

const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const MODULE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

#[derive(Serialize, Deserialize)]
struct SignatureBody {
    v: u32,
    alg: String,
    key: String,
    sig: String,
}

/// A top-level section: where it starts (its id byte) and ends, and for
/// custom sections the name and payload range.
struct Section {
    start: usize,
    end: usize,
    custom: Option<(String, std::ops::Range<usize>)>,
}

fn leb128(bytes: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result: u32 = 0;
    for shift in (0..35).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        result |= u32::from(b & 0x7f).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

fn write_leb128(mut n: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Splits a component into its top-level sections.
fn sections(bytes: &[u8]) -> Result<Vec<Section>, PluginError> {
    if bytes.starts_with(&MODULE_HEADER) {
        return Err(PluginError::NotAComponent(
            "this is a core WebAssembly module; plugins are components: pack or sign it first \
             (`amanat plugin pack` or `amanat plugin sign` makes it one)"
                .into(),
        ));
    }
    if !bytes.starts_with(&COMPONENT_HEADER) {
        return Err(PluginError::NotAComponent(
            "it does not start with the WebAssembly component header".into(),
        ));
    }
    split(bytes)
}

/// The names of a core module's custom sections.
pub(super) fn module_custom_sections(module: &[u8]) -> Result<Vec<String>, PluginError> {
    Ok(split(module)?
        .into_iter()
        .filter_map(|s| s.custom.map(|(name, _)| name))
        .collect())
}

/// Splits a component or core module (the same section framing) after its
/// 8-byte header.
fn split(bytes: &[u8]) -> Result<Vec<Section>, PluginError> {
    let mut out = Vec::new();
    let mut pos = COMPONENT_HEADER.len();
    let truncated =
        || PluginError::NotAComponent("a section runs past the end of the file (truncated?)".into());
    while pos < bytes.len() {
        let start = pos;
        let id = bytes[pos];
        pos += 1;
        let size = leb128(bytes, &mut pos).ok_or_else(truncated)? as usize;
        let end = pos
            .checked_add(size)
            .filter(|e| *e <= bytes.len())
            .ok_or_else(truncated)?;
        let custom = if id == 0 {
            let mut p = pos;
            let len = leb128(bytes, &mut p).ok_or_else(truncated)? as usize;
            let name_end = p.checked_add(len).filter(|e| *e <= end).ok_or_else(truncated)?;
            let name = String::from_utf8_lossy(&bytes[p..name_end]).into_owned();
            Some((name, name_end..end))
        } else {
            None
        };
        out.push(Section { start, end, custom });
        pos = end;
    }
    Ok(out)
}

/// A custom section, framed as components and core modules both frame them.
pub(super) fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    write_leb128(name.len() as u32, &mut body);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = vec![0u8];
    write_leb128(body.len() as u32, &mut out);
    out.extend_from_slice(&body);
    out
}

fn message(signed: &[u8]) -> Vec<u8> {
    let mut m = b"amanat-plugin-signature-v1\n".to_vec();
    m.extend_from_slice(&Sha256::digest(signed));
    m
}

/// Embeds a manifest without signing: removes any earlier manifest and
/// signature and appends the manifest. Such a plugin installs only with
/// `--allow-unsigned` (a plugin author's own builds). A core module (a Rust
/// plugin built for `wasm32-unknown-unknown`) is made a component first.
pub fn embed(build: &[u8], manifest: &Manifest) -> Result<Vec<u8>, PluginError> {
    let encoded;
    let component = if build.starts_with(&MODULE_HEADER) {
        encoded = super::componentize::component(build)?;
        &encoded[..]
    } else {
        build
    };
    let mut out = component[..COMPONENT_HEADER.len().min(component.len())].to_vec();
    for s in sections(component)? {
        let ours = matches!(&s.custom, Some((n, _)) if n == MANIFEST_SECTION || n == SIGNATURE_SECTION);
        if !ours {
            out.extend_from_slice(&component[s.start..s.end]);
        }
    }
    out.extend_from_slice(&custom_section(MANIFEST_SECTION, &manifest.to_json()));
    Ok(out)
}

/// Signs a component (or a core module, made one): embeds the manifest (with
/// the publisher key filled in) and appends the signature.
pub fn sign(component: &[u8], manifest: &Manifest, key: &SigningKey) -> Result<Vec<u8>, PluginError> {
    let mut manifest = manifest.clone();
    manifest.publisher_key = B64URL.encode(key.verifying_key().as_bytes());
    let mut out = embed(component, &manifest)?;
    let body = SignatureBody {
        v: 1,
        alg: "Ed25519".into(),
        key: manifest.publisher_key.clone(),
        sig: B64URL.encode(key.sign(&message(&out)).to_bytes()),
    };
    out.extend_from_slice(&custom_section(
        SIGNATURE_SECTION,
        &serde_json::to_vec(&body).unwrap_or_default(),
    ));
    Ok(out)
}

/// What a component says about itself.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The manifest, if there is one.
    pub manifest: Option<Manifest>,
    /// Whether a signature is present (verified: an invalid one is an error).
    pub signed: bool,
    /// SHA-256 of the whole file: the pin.
    pub sha256: [u8; 32],
}

/// Reads the manifest and checks the signature. A present but wrong signature,
/// or a signature that is not last, is an error ("altered"); a missing one is
/// reported as `signed: false` for the caller to refuse.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, PluginError> {
    let sections = sections(bytes)?;
    let sha256: [u8; 32] = Sha256::digest(bytes).into();
    let find = |name: &str| {
        sections
            .iter()
            .position(|s| matches!(&s.custom, Some((n, _)) if n == name))
    };
    let manifest = match find(MANIFEST_SECTION) {
        Some(i) => {
            let range = sections[i]
                .custom
                .as_ref()
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            Some(Manifest::parse(&bytes[range])?)
        }
        None => None,
    };
    let Some(sig_index) = find(SIGNATURE_SECTION) else {
        return Ok(Inspected {
            manifest,
            signed: false,
            sha256,
        });
    };
    if sig_index != sections.len() - 1 {
        return Err(PluginError::Altered(
            "bytes were appended after its signature".into(),
        ));
    }
    let section = &sections[sig_index];
    let range = section
        .custom
        .as_ref()
        .map(|(_, r)| r.clone())
        .unwrap_or_default();
    let body: SignatureBody = serde_json::from_slice(&bytes[range])
        .map_err(|_| PluginError::Altered("its signature section is unreadable".into()))?;
    if body.v != 1 || body.alg != "Ed25519" {
        return Err(PluginError::Altered(format!(
            "its signature is version {} with '{}', not version 1 with Ed25519",
            body.v, body.alg
        )));
    }
    let key_bytes: [u8; 32] = B64URL
        .decode(&body.key)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| PluginError::Altered("its signature names no valid key".into()))?;
    let key = VerifyingKey::from_bytes(&key_bytes)
        .map_err(|_| PluginError::Altered("its signing key is invalid".into()))?;
    let sig: [u8; 64] = B64URL
        .decode(&body.sig)
        .ok()
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| PluginError::Altered("its signature is malformed".into()))?;
    key.verify_strict(&message(&bytes[..section.start]), &Signature::from_bytes(&sig))
        .map_err(|_| PluginError::Altered("its bytes do not match the publisher's signature".into()))?;
    let manifest =
        manifest.ok_or_else(|| PluginError::Manifest("the signed plugin has no manifest".into()))?;
    if manifest.publisher_key != body.key {
        return Err(PluginError::Altered(
            "the manifest's publisher key is not the signing key".into(),
        ));
    }
    Ok(Inspected {
        manifest: Some(manifest),
        signed: true,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component() -> Vec<u8> {
        let mut c = COMPONENT_HEADER.to_vec();
        c.extend_from_slice(&custom_section("producers", b"rustc"));
        c.extend_from_slice(&[0x01, 0x03, 0xAA, 0xBB, 0xCC]);
        c
    }

    fn manifest() -> Manifest {
        Manifest::parse(
            br#"{"name":"t","version":"1","interface":"0.1.0","publisher":"P","kind":"other","description":"d"}"#,
        )
        .unwrap()
    }

    #[test]
    fn sign_then_inspect_and_every_flip_is_caught() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let signed = sign(&component(), &manifest(), &key).unwrap();
        let got = inspect(&signed).unwrap();
        assert!(got.signed);
        assert_eq!(got.manifest.unwrap().name, "t");
        // Re-signing replaces, not stacks.
        let again = sign(&signed, &manifest(), &key).unwrap();
        assert_eq!(again, signed);
        for i in 8..signed.len() {
            let mut bad = signed.clone();
            bad[i] ^= 0x01;
            // Either refused, or (the signature section's name hit) no longer signed.
            if let Ok(found) = inspect(&bad) {
                assert!(!found.signed, "flip at {i} still verifies");
            }
        }
        let mut appended = signed.clone();
        appended.extend_from_slice(&custom_section("extra", b"x"));
        assert!(matches!(inspect(&appended), Err(PluginError::Altered(_))));
    }

    #[test]
    fn unsigned_modules_and_garbage() {
        assert!(!inspect(&component()).unwrap().signed);
        assert!(
            matches!(inspect(&MODULE_HEADER), Err(PluginError::NotAComponent(m)) if m.contains("core WebAssembly module"))
        );
        assert!(matches!(inspect(b"hello"), Err(PluginError::NotAComponent(_))));
        let mut cut = component();
        cut.truncate(cut.len() - 1);
        assert!(matches!(inspect(&cut), Err(PluginError::NotAComponent(m)) if m.contains("truncated")));
    }
}
