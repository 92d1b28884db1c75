//! Identifiers: record and profile ids, and the wallet ID fingerprint.
//!
//! Ids are random, never derived from content, so an id seen on screen or in a
//! sled key says nothing about what the record holds. They print in lowercase
//! Crockford-style base32 (no `i`, `l`, `o`, `u`) so they survive being read
//! aloud or typed from a phone.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Lowercase Crockford-style base32 without padding, most significant bit
/// first (RFC 4648's bit order, another alphabet). Written out here rather
/// than built from `data_encoding`'s run-time specification, which costs the
/// browser bundle 20 KB; a test checks both agree.
mod base32 {
    const SYMBOLS: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
        let (mut acc, mut bits) = (0u32, 0u32);
        for &b in bytes {
            acc = (acc << 8 | u32::from(b)) & 0xffff;
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(SYMBOLS[(acc >> bits & 31) as usize] as char);
            }
        }
        if bits > 0 {
            out.push(SYMBOLS[(acc << (5 - bits) & 31) as usize] as char);
        }
        out
    }

    /// Any case; `i` and `l` read as `1`, `o` as `0`. `None` for another
    /// character, a length no bytes encode to, or stray low bits.
    pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(text.len() * 5 / 8);
        let (mut acc, mut bits) = (0u32, 0u32);
        for &c in text {
            let c = match c.to_ascii_lowercase() {
                b'i' | b'l' => b'1',
                b'o' => b'0',
                c => c,
            };
            let value = SYMBOLS.iter().position(|&s| s == c)? as u32;
            acc = (acc << 5 | value) & 0xffff;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        (bits < 5 && acc & ((1 << bits) - 1) == 0).then_some(out)
    }
}

/// Why a typed id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a valid {kind} id: {reason}")]
pub struct IdError {
    kind: &'static str,
    text: String,
    reason: &'static str,
}

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $len:expr, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Number of raw bytes.
            pub const LEN: usize = $len;

            /// A fresh random id.
            pub fn random() -> Self {
                Self(rand::random())
            }

            /// The id from its raw bytes.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes (used as storage keys).
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&base32::encode(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let err = |reason| IdError { kind: $kind, text: s.to_string(), reason };
                let bytes = base32::decode(s.trim().as_bytes())
                    .ok_or_else(|| err("unexpected characters or length"))?;
                let arr: [u8; $len] = bytes.try_into().map_err(|_| err("wrong length"))?;
                Ok(Self(arr))
            }
        }
    };
}

random_id!(
    /// Identifies one record in a vault: 10 random bytes, 16 characters.
    RecordId,
    10,
    "record"
);

random_id!(
    /// Identifies one profile (the patient or a dependant) in a vault.
    ProfileId,
    5,
    "profile"
);

/// A short, human-checkable fingerprint of a wallet's ed25519 public key.
///
/// Sixteen base32 characters (80 bits of SHA-256) in four groups, e.g.
/// `k3vq-8m2d-x0fa-77pz`: long enough that a forged wallet cannot match it,
/// short enough for a doctor to compare it with what the patient reads out.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WalletId(String);

impl WalletId {
    /// The wallet ID of an ed25519 public key.
    pub fn from_public_key(key: &ed25519_dalek::VerifyingKey) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let text = base32::encode(&digest[..10]);
        let grouped = text
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-");
        Self(grouped)
    }

    /// The printable form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WalletId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for WalletId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WalletId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_id_round_trips_and_forgives_confusable_letters() {
        let id = RecordId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 16);
        assert_eq!(text.parse::<RecordId>().unwrap(), id);
        assert_eq!(text.to_uppercase().parse::<RecordId>().unwrap(), id);
        let zero = RecordId::from_bytes([0; 10]).to_string();
        assert_eq!(
            zero.replace('0', "O").parse::<RecordId>().unwrap(),
            RecordId::from_bytes([0; 10])
        );
    }

    /// The hand-written base32 against `data_encoding` built to the same
    /// specification: every length, random bytes, and every way of typing.
    #[test]
    fn base32_agrees_with_an_independent_implementation() {
        let mut spec = data_encoding::Specification::new();
        spec.symbols.push_str("0123456789abcdefghjkmnpqrstvwxyz");
        spec.translate.from.push_str("ABCDEFGHJKMNPQRSTVWXYZILOilo");
        spec.translate.to.push_str("abcdefghjkmnpqrstvwxyz110110");
        let reference = spec.encoding().unwrap();
        for len in 0..24 {
            let bytes: Vec<u8> = (0..len).map(|_| rand::random()).collect();
            let text = base32::encode(&bytes);
            assert_eq!(text, reference.encode(&bytes));
            assert_eq!(base32::decode(text.as_bytes()).unwrap(), bytes);
            let typed = text.to_uppercase().replace('1', "l").replace('0', "O");
            assert_eq!(
                base32::decode(typed.as_bytes()),
                reference.decode(typed.as_bytes()).ok()
            );
        }
        for bad in ["a", "abc", "abcdef", "0000000u", "01", "zz", "Q"] {
            assert_eq!(
                base32::decode(bad.as_bytes()),
                reference.decode(bad.as_bytes()).ok(),
                "{bad}"
            );
        }
    }

    #[test]
    fn wrong_length_is_refused() {
        let err = "abc".parse::<RecordId>().unwrap_err();
        assert!(err.to_string().contains("not a valid record id"), "{err}");
    }

    #[test]
    fn wallet_id_is_grouped_and_stable() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let id = WalletId::from_public_key(&key);
        assert_eq!(id.as_str().len(), 19);
        assert_eq!(id.as_str().matches('-').count(), 3);
        assert_eq!(id, WalletId::from_public_key(&key));
    }
}
