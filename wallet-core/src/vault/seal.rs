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
pub(crate) fn well_formed(sealed: &[u8]) -> bool {
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

/// Format byte of compiled plugin code sealed by [`CodeSealer`].
const CODE_VERSION: u8 = 2;
const CODE_NONCE_LEN: usize = 12;
/// Version, number of parts, length of the code (u64 BE).
const CODE_HEADER_LEN: usize = 1 + 1 + 8;
/// Parts the code is sealed in, so that as many cores open it side by side.
const CODE_PARTS: usize = 4;
/// Below this, one thread opens every part.
const WORTH_THREADS: usize = 4 << 20;

/// Seals and opens compiled plugin code: tens of megabytes for a Python or
/// JavaScript runtime, opened at every load, so made to open fast.
///
/// AES-256-GCM (AWS-LC's, the one the HTTPS client already carries) rather
/// than XChaCha20-Poly1305: with the CPU's AES and carry-less multiply
/// instructions it is about four times faster (36 MB in 8-10 ms against 36 ms
/// on the reference machine). Its own key (purpose `plugin code`).
///
/// The code is sealed as [`CODE_PARTS`] values, each an AES-256-GCM message
/// with its own random 96-bit nonce (sound for the few values ever sealed
/// under this key: one per compile), and opened on as many cores as there are:
/// most of the time is the kernel faulting fresh pages in and the decryption,
/// both of which split. Each part's associated data is its index, the number
/// of parts, the code's length and the storage key, so parts cannot be
/// reordered, dropped, moved between values or resized.
///
/// ```text
/// 0x02 || parts (1 byte) || code length (u64 BE)
///      || for each part: nonce (12 bytes) || ciphertext || tag (16 bytes)
/// ```
/// Every part holds `length / parts` bytes of code; the last also the rest.
pub(crate) struct CodeSealer {
    key: aws_lc_rs::aead::LessSafeKey,
}

/// A sealed value's parts: where each one's nonce, ciphertext and tag lie.
struct CodeLayout {
    parts: usize,
    len: usize,
}

impl CodeLayout {
    fn of(sealed: &[u8]) -> Option<CodeLayout> {
        let header = sealed.get(..CODE_HEADER_LEN)?;
        let parts = usize::from(header[1]);
        let len = usize::try_from(u64::from_be_bytes(header[2..].try_into().ok()?)).ok()?;
        let expected = len.checked_add(CODE_HEADER_LEN + parts * (CODE_NONCE_LEN + TAG_LEN))?;
        (header[0] == CODE_VERSION && parts > 0 && sealed.len() == expected)
            .then_some(CodeLayout { parts, len })
    }

    /// Bytes of code in part `i`.
    fn part_len(&self, i: usize) -> usize {
        let base = self.len / self.parts;
        if i + 1 == self.parts {
            self.len - base * (self.parts - 1)
        } else {
            base
        }
    }

    /// Part `i`'s associated data: its place in the whole, then the storage key.
    fn aad(&self, i: usize, key: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(CODE_HEADER_LEN + key.len());
        aad.push(i as u8);
        aad.push(self.parts as u8);
        aad.extend_from_slice(&(self.len as u64).to_be_bytes());
        aad.extend_from_slice(key);
        aad
    }
}

impl CodeSealer {
    /// Derives the code key for `purpose` from the vault data key.
    pub(crate) fn derive(data_key: &[u8; 32], purpose: &str) -> Self {
        use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
        let key = derive_key(data_key, purpose);
        // A 32-byte key is always valid for AES-256-GCM.
        let key = UnboundKey::new(&AES_256_GCM, &key[..]).unwrap_or_else(|_| unreachable!("32-byte key"));
        Self {
            key: LessSafeKey::new(key),
        }
    }

    /// Seals `plaintext` under the storage key `aad` (format above).
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        use aws_lc_rs::aead::{Aad, Nonce};
        let layout = CodeLayout {
            parts: CODE_PARTS,
            len: plaintext.len(),
        };
        let mut out =
            Vec::with_capacity(plaintext.len() + CODE_HEADER_LEN + CODE_PARTS * (CODE_NONCE_LEN + TAG_LEN));
        out.push(CODE_VERSION);
        out.push(CODE_PARTS as u8);
        out.extend_from_slice(&(plaintext.len() as u64).to_be_bytes());
        let mut rest = plaintext;
        for i in 0..CODE_PARTS {
            let (part, after) = rest.split_at(layout.part_len(i));
            rest = after;
            let nonce: [u8; CODE_NONCE_LEN] = rand::random();
            out.extend_from_slice(&nonce);
            let start = out.len();
            out.extend_from_slice(part);
            let tag = self
                .key
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(nonce),
                    Aad::from(layout.aad(i, aad)),
                    &mut out[start..],
                )
                // Sealing fails only for messages over 64 GB.
                .unwrap_or_else(|_| unreachable!("compiled code under 64 GB"));
            out.extend_from_slice(tag.as_ref());
        }
        out
    }

    /// The length of the code inside `sealed`, if it is a value of this format
    /// (values of the XChaCha20-Poly1305 format, from before, are not).
    pub(crate) fn opened_len(sealed: &[u8]) -> Option<usize> {
        CodeLayout::of(sealed).map(|l| l.len)
    }

    /// Opens `sealed` into `out`, which is exactly [`Self::opened_len`] long:
    /// the caller chooses where the code lands (the plugin host: memory it
    /// then runs the code from, so the code is written once).
    pub(crate) fn open_into(&self, aad: &[u8], sealed: &[u8], out: &mut [u8]) -> Result<(), Tampered> {
        let layout = CodeLayout::of(sealed).ok_or(Tampered)?;
        if layout.len != out.len() {
            return Err(Tampered);
        }
        // (part index, its nonce || ciphertext || tag, where its code goes)
        let mut jobs = Vec::with_capacity(layout.parts);
        let (mut sealed_rest, mut out_rest) = (&sealed[CODE_HEADER_LEN..], out);
        for i in 0..layout.parts {
            let n = layout.part_len(i);
            let (part, after) = sealed_rest.split_at(CODE_NONCE_LEN + n + TAG_LEN);
            sealed_rest = after;
            let (place, after) = std::mem::take(&mut out_rest).split_at_mut(n);
            out_rest = after;
            jobs.push((i, part, place));
        }
        let threads = if layout.len < WORTH_THREADS {
            1
        } else {
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(layout.parts)
        };
        let open = |group: &mut [(usize, &[u8], &mut [u8])]| {
            group
                .iter_mut()
                .all(|(i, part, place)| self.open_part(&layout.aad(*i, aad), part, place))
        };
        let opened = std::thread::scope(|s| {
            let mut groups = jobs.chunks_mut(layout.parts.div_ceil(threads));
            let mine = groups.next().unwrap_or_default();
            let others: Vec<_> = groups.map(|group| s.spawn(move || open(group))).collect();
            let here = open(mine);
            others.into_iter().all(|t| t.join().unwrap_or(false)) && here
        });
        if opened { Ok(()) } else { Err(Tampered) }
    }

    /// Opens one part (`nonce || ciphertext || tag`) into `place`.
    fn open_part(&self, aad: &[u8], part: &[u8], place: &mut [u8]) -> bool {
        use aws_lc_rs::aead::{Aad, Nonce};
        let (nonce, rest) = part.split_at(CODE_NONCE_LEN);
        let (text, tag) = rest.split_at(place.len());
        // Writing fresh memory is mostly the kernel faulting pages in: on this
        // part's thread, beside the other parts'.
        place.copy_from_slice(text);
        let Ok(nonce) = Nonce::try_assume_unique_for_key(nonce) else {
            return false;
        };
        self.key
            .open_in_place_separate_tag(nonce, Aad::from(aad), tag, place)
            .is_ok()
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

    #[test]
    fn compiled_code_round_trip_and_every_tamper_fails() {
        let s = CodeSealer::derive(&[1; 32], "plugin code");
        let code = b"\x7fELF compiled code".repeat(9);
        let sealed = s.seal(b"wc/1", &code);
        let mut out = vec![0; CodeSealer::opened_len(&sealed).unwrap()];
        s.open_into(b"wc/1", &sealed, &mut out).unwrap();
        assert_eq!(out, code);
        assert!(
            s.open_into(b"wc/2", &sealed, &mut out).is_err(),
            "moved value must fail"
        );
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let mut out = vec![0; code.len()];
            assert!(
                s.open_into(b"wc/1", &bad, &mut out).is_err(),
                "flip at {i} must fail"
            );
        }
        assert_eq!(
            CodeSealer::opened_len(&sealed[..sealed.len() - 1]),
            None,
            "truncated"
        );
        let mut short = vec![0; code.len() - 1];
        assert!(
            s.open_into(b"wc/1", &sealed, &mut short).is_err(),
            "wrong output length"
        );
        // Parts swapped (equal lengths, each intact) fail: each is bound to its place.
        let part = 12 + code.len() / 4 + 16;
        let mut swapped = sealed.clone();
        let (first, second) = swapped[10..10 + 2 * part].split_at_mut(part);
        first.swap_with_slice(second);
        assert!(
            s.open_into(b"wc/1", &swapped, &mut out).is_err(),
            "swapped parts must fail"
        );
        let other = CodeSealer::derive(&[1; 32], "metadata");
        assert!(
            other.open_into(b"wc/1", &sealed, &mut out).is_err(),
            "purposes are separate keys"
        );
        // Large enough to be opened on several threads: each part checked.
        let big: Vec<u8> = (0..5u32 << 20).map(|i| (i % 251) as u8).collect();
        let sealed = s.seal(b"wc/1", &big);
        let mut out = vec![0; big.len()];
        s.open_into(b"wc/1", &sealed, &mut out).unwrap();
        assert!(out == big);
        for at in [20, sealed.len() / 2, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[at] ^= 0x80;
            assert!(
                s.open_into(b"wc/1", &bad, &mut out).is_err(),
                "flip at {at} must fail"
            );
        }
        // The format before: XChaCha20-Poly1305 under the metadata key.
        let before = Sealer::derive(&[1; 32], "metadata").seal(b"wc/1", &code);
        assert_eq!(CodeSealer::opened_len(&before), None);
    }
}
