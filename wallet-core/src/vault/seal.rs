//! Authenticated encryption of every value the vault stores.
//!
//! Values are sealed with XChaCha20-Poly1305 (the ChaCha20-Poly1305 family age
//! uses for its payload, with 192-bit random nonces so no counter has to be
//! kept) under a key derived from the vault data key. The storage key is the
//! associated data: a value copied under another key fails to open, so records
//! cannot be swapped or replayed in place of each other.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Format byte in front of every sealed value, so the scheme can change later.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Whether `sealed` can be a value of this format (version byte, nonce, tag).
fn well_formed(sealed: &[u8]) -> bool {
    sealed.len() >= 1 + NONCE_LEN + TAG_LEN && sealed[0] == VERSION
}

/// Seals and opens values under one derived key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

/// A value failed authentication: it was changed, truncated or moved.
#[derive(Debug)]
pub(crate) struct Tampered;

impl Sealer {
    /// Derives the sealing key for `purpose` from the vault data key.
    pub(crate) fn derive(data_key: &[u8; 32], purpose: &str) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(
                &derive_key(data_key, purpose)[..],
            )),
        }
    }

    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .unwrap_or_default();
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value where it lies, for large values that are not secret
    /// (compiled plugin code): no second buffer, no zeroizing pass. Returns
    /// where in `sealed` the plaintext now is.
    pub(crate) fn open_in_place(
        &self,
        aad: &[u8],
        sealed: &mut [u8],
    ) -> Result<std::ops::Range<usize>, Tampered> {
        use chacha20poly1305::aead::AeadInPlace;
        if !well_formed(sealed) {
            return Err(Tampered);
        }
        let (head, body) = sealed.split_at_mut(1 + NONCE_LEN);
        let (text, tag) = body.split_at_mut(body.len() - TAG_LEN);
        self.cipher
            .decrypt_in_place_detached(
                XNonce::from_slice(&head[1..]),
                aad,
                text,
                chacha20poly1305::Tag::from_slice(tag),
            )
            .map_err(|_| Tampered)?;
        Ok(1 + NONCE_LEN..1 + NONCE_LEN + text.len())
    }

    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Tampered> {
        if !well_formed(sealed) {
            return Err(Tampered);
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .map(Zeroizing::new)
            .map_err(|_| Tampered)
    }
}

/// HKDF-SHA256 of the data key with a purpose label.
pub(crate) fn derive_key(data_key: &[u8; 32], purpose: &str) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = Hkdf::<Sha256>::new(Some(b"amanat vault v1"), data_key).expand(purpose.as_bytes(), out.as_mut());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_tamper_fails() {
        let s = Sealer::derive(&[1; 32], "records");
        let sealed = s.seal(b"r/1", b"hello");
        assert_eq!(&s.open(b"r/1", &sealed).unwrap()[..], b"hello");
        let mut opened = sealed.clone();
        let text = s.open_in_place(b"r/1", &mut opened).unwrap();
        assert_eq!(&opened[text], b"hello");
        assert!(s.open_in_place(b"r/2", &mut sealed.clone()).is_err());
        assert!(s.open(b"r/2", &sealed).is_err(), "moved value must fail");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(s.open(b"r/1", &bad).is_err(), "flip at {i} must fail");
        }
        assert!(s.open(b"r/1", &sealed[..sealed.len() - 1]).is_err());
        let other = Sealer::derive(&[1; 32], "audit");
        assert!(other.open(b"r/1", &sealed).is_err(), "purposes are separate keys");
    }
}
