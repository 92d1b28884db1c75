//! National health identifiers, validated: India's ABHA number and ABHA address,
//! Pakistan's CNIC.
//!
//! They are profile attributes that a doctor can match against their own system,
//! never keys: the wallet's identity is its signing key, and records are found by
//! random ids. Input forgives spaces and hyphens; output uses the official grouping.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// ABHA numbers have exactly 14 digits.
    #[error("ABHA number '{0}' must have exactly 14 digits (shown as XX-XXXX-XXXX-XXXX)")]
    AbhaNumber(String),
    /// ABHA addresses are `name@abdm` (or `name@sbx` in the sandbox).
    #[error(
        "ABHA address '{0}' must look like name@abdm (or name@sbx): 8-18 letters or digits, \
         at most one '.' and one '_', neither first nor last"
    )]
    AbhaAddress(String),
    /// CNICs have 13 digits and start with a province code 1-7.
    #[error("CNIC '{0}' must have 13 digits, first digit 1-7 (shown as NNNNN-NNNNNNN-N)")]
    Cnic(String),
}

fn only_digits(text: &str) -> Option<String> {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    cleaned.bytes().all(|b| b.is_ascii_digit()).then_some(cleaned)
}

/// A 14-digit ABHA (Ayushman Bharat Health Account) number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AbhaNumber(String);

impl FromStr for AbhaNumber {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match only_digits(s) {
            Some(d) if d.len() == 14 => Ok(Self(d)),
            _ => Err(IdError::AbhaNumber(s.to_string())),
        }
    }
}

impl fmt::Display for AbhaNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}-{}-{}-{}", &d[..2], &d[2..6], &d[6..10], &d[10..])
    }
}

/// An ABHA address such as `ayesha.k@abdm`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AbhaAddress(String);

impl FromStr for AbhaAddress {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let err = || IdError::AbhaAddress(s.to_string());
        let lower = s.trim().to_ascii_lowercase();
        let (local, domain) = lower.split_once('@').ok_or_else(err)?;
        if domain != "abdm" && domain != "sbx" {
            return Err(err());
        }
        let len_ok = (8..=18).contains(&local.len());
        let chars_ok = local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_');
        let specials_ok = local.matches('.').count() <= 1 && local.matches('_').count() <= 1;
        let ends_ok = local
            .bytes()
            .next()
            .zip(local.bytes().last())
            .is_some_and(|(a, b)| a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric());
        if len_ok && chars_ok && specials_ok && ends_ok {
            Ok(Self(lower))
        } else {
            Err(err())
        }
    }
}

impl fmt::Display for AbhaAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Pakistani Computerised National Identity Card number (13 digits).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Cnic(String);

impl FromStr for Cnic {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        match only_digits(s) {
            Some(d) if d.len() == 13 && (b'1'..=b'7').contains(&d.as_bytes()[0]) => Ok(Self(d)),
            _ => Err(IdError::Cnic(s.to_string())),
        }
    }
}

impl fmt::Display for Cnic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        write!(f, "{}-{}-{}", &d[..5], &d[5..12], &d[12..])
    }
}

macro_rules! text_serde {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self)
            }
        }
    )*};
}
text_serde!(AbhaNumber, AbhaAddress, Cnic);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abha_number_is_grouped() {
        let n: AbhaNumber = "91 2345 6789 0123".parse().unwrap();
        assert_eq!(n.to_string(), "91-2345-6789-0123");
        assert_eq!("91-2345-6789-0123".parse::<AbhaNumber>().unwrap(), n);
        for bad in ["9123456789012", "912345678901234", "91-2345-6789-01a3", ""] {
            let err = bad.parse::<AbhaNumber>().unwrap_err();
            assert!(err.to_string().contains("14 digits"), "{err}");
        }
    }

    #[test]
    fn abha_address_rules() {
        assert_eq!(
            "Ayesha.K_1980@abdm".parse::<AbhaAddress>().unwrap().to_string(),
            "ayesha.k_1980@abdm"
        );
        assert!("91234567890123@sbx".parse::<AbhaAddress>().is_ok());
        for bad in [
            "ayesha@abdm",
            "ayesha.khan@gmail",
            ".ayeshakhan@abdm",
            "ayesha..khan@abdm",
            "ayesha-khan1@abdm",
            "no-at-sign",
        ] {
            assert!(bad.parse::<AbhaAddress>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cnic_rules() {
        let c: Cnic = "3520212345671".parse().unwrap();
        assert_eq!(c.to_string(), "35202-1234567-1");
        assert_eq!("35202-1234567-1".parse::<Cnic>().unwrap(), c);
        for bad in [
            "8520212345671",
            "0520212345671",
            "352021234567",
            "35202-1234567-12",
        ] {
            let err = bad.parse::<Cnic>().unwrap_err();
            assert!(err.to_string().contains("first digit 1-7"), "{err}");
        }
    }
}
