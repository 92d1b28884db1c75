//! Profiles: the patient and the people they care for (children, elderly parents).
//!
//! Every record belongs to one profile. A profile's handle (`me`, `zara`) is what
//! the CLI's `--profile` takes; names may be in any script.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::ProfileId;
use crate::national_id::{AbhaAddress, AbhaNumber, Cnic};

/// Administrative gender, as FHIR codes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Other.
    Other,
    /// Unknown or not said.
    Unknown,
}

impl FromStr for Gender {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, ProfileError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "female" | "f" => Gender::Female,
            "male" | "m" => Gender::Male,
            "other" | "o" => Gender::Other,
            "unknown" | "u" => Gender::Unknown,
            _ => return Err(ProfileError::Gender(s.to_string())),
        })
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Gender::Female => "female",
            Gender::Male => "male",
            Gender::Other => "other",
            Gender::Unknown => "unknown",
        })
    }
}

/// How a profile relates to the wallet's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relationship {
    /// The wallet's owner.
    #[serde(rename = "self")]
    Owner,
    /// A son or daughter.
    Child,
    /// A mother or father.
    Parent,
    /// A husband or wife.
    Spouse,
    /// Anyone else the owner cares for.
    Other,
}

impl FromStr for Relationship {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, ProfileError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "self" => Relationship::Owner,
            "child" | "son" | "daughter" => Relationship::Child,
            "parent" | "mother" | "father" => Relationship::Parent,
            "spouse" | "wife" | "husband" => Relationship::Spouse,
            "other" => Relationship::Other,
            _ => return Err(ProfileError::Relationship(s.to_string())),
        })
    }
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Relationship::Owner => "self",
            Relationship::Child => "child",
            Relationship::Parent => "parent",
            Relationship::Spouse => "spouse",
            Relationship::Other => "other",
        })
    }
}

/// Why profile details were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A national identifier did not validate.
    #[error(transparent)]
    Id(#[from] crate::national_id::IdError),
    /// Gender must be a FHIR code.
    #[error("gender '{0}' must be female, male, other or unknown")]
    Gender(String),
    /// Relationship must be one of the known words.
    #[error("relationship '{0}' must be self, child, parent, spouse or other")]
    Relationship(String),
    /// Birth dates are `YYYY-MM-DD`, not in the future.
    #[error("birth date '{0}' must be a past date written YYYY-MM-DD")]
    BirthDate(String),
    /// Names cannot be blank.
    #[error("a profile needs a name")]
    EmptyName,
    /// Handles are short lowercase words.
    #[error("profile handle '{0}' must be 1-32 lowercase letters, digits or '-'")]
    Handle(String),
    /// Phone numbers are digits, optionally grouped.
    #[error("phone '{0}' must be 7 to 15 digits, optionally starting with + and grouped by spaces or '-'")]
    Phone(String),
}

/// The name of the profile a wallet is made with when no name is given.
pub const UNNAMED: &str = "Me";

/// One person whose records the wallet holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Stable random id (records point to it).
    pub id: ProfileId,
    /// Short name used on the command line, e.g. `me`, `zara`.
    pub handle: String,
    /// Full name, any script.
    pub name: String,
    /// Birth date, `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Relationship to the wallet's owner.
    pub relationship: Relationship,
    /// India: ABHA number.
    pub abha_number: Option<AbhaNumber>,
    /// India: ABHA address.
    pub abha_address: Option<AbhaAddress>,
    /// Pakistan: CNIC (or the B-Form number for a child).
    pub cnic: Option<Cnic>,
    /// A phone number, shared only at a facility's registration (Scan &
    /// Share), never in a share of records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// Details for a new profile, as typed by the user (validated by
/// [`ProfileDraft::build`]; a blank field counts as not given). It is also the
/// body of `POST /api/profiles` ([`crate::contract::NewProfile`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileDraft {
    /// Full name.
    pub name: String,
    /// Handle; derived from the name when not given.
    pub handle: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// `female`, `male`, `other`, `unknown`.
    pub gender: Option<String>,
    /// `self`, `child`, `parent`, `spouse`, `other`.
    pub relationship: Option<String>,
    /// ABHA number.
    pub abha_number: Option<String>,
    /// ABHA address.
    pub abha_address: Option<String>,
    /// CNIC.
    pub cnic: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

impl ProfileDraft {
    /// Validates every field; `today` (`YYYY-MM-DD`) bounds the birth date.
    pub fn build(self, today: &str, default_relationship: Relationship) -> Result<Profile, ProfileError> {
        let given = |field: Option<String>| field.filter(|v| !v.trim().is_empty());
        let ProfileDraft {
            name,
            handle,
            birth_date,
            gender,
            relationship,
            abha_number,
            abha_address,
            cnic,
            phone,
        } = self;
        let (handle, birth_date, gender, relationship) = (
            given(handle),
            given(birth_date),
            given(gender),
            given(relationship),
        );
        let (abha_number, abha_address, cnic) = (given(abha_number), given(abha_address), given(cnic));
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(ProfileError::EmptyName);
        }
        let handle = match handle {
            Some(h) => validate_handle(&h)?,
            None => handle_from_name(&name),
        };
        let birth_date = match birth_date {
            Some(d) => Some(validate_birth_date(&d, today)?),
            None => None,
        };
        Ok(Profile {
            id: ProfileId::random(),
            handle,
            name,
            birth_date,
            gender: gender.as_deref().map(str::parse).transpose()?,
            relationship: match relationship {
                Some(r) => r.parse()?,
                None => default_relationship,
            },
            abha_number: abha_number.as_deref().map(str::parse).transpose()?,
            abha_address: abha_address.as_deref().map(str::parse).transpose()?,
            cnic: cnic.as_deref().map(str::parse).transpose()?,
            phone: given(phone).as_deref().map(validate_phone).transpose()?,
        })
    }
}

/// A phone number as profiles keep it: trimmed, 7 to 15 digits (E.164's
/// most), an optional leading `+`, groups separated by spaces or `-`.
pub fn validate_phone(text: &str) -> Result<String, ProfileError> {
    let text = text.trim();
    let body = text.strip_prefix('+').unwrap_or(text);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let ok = (7..=15).contains(&digits)
        && body.chars().all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
        && body.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(text.to_string())
    } else {
        Err(ProfileError::Phone(text.to_string()))
    }
}

fn validate_handle(h: &str) -> Result<String, ProfileError> {
    let ok = (1..=32).contains(&h.len())
        && h.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(h.to_string())
    } else {
        Err(ProfileError::Handle(h.to_string()))
    }
}

/// The first name in lowercase ASCII, else `profile` (names in Urdu or Hindi script
/// have no ASCII form; the user can pass `--handle`).
fn handle_from_name(name: &str) -> String {
    let first = name.split_whitespace().next().unwrap_or_default();
    let ascii: String = first
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .take(32)
        .collect();
    if ascii.is_empty() { "profile".into() } else { ascii }
}

/// A birth date as profiles take it: a whole `YYYY-MM-DD`, not after `today`.
pub(crate) fn validate_birth_date(d: &str, today: &str) -> Result<String, ProfileError> {
    let parsed =
        crate::fhir::date::FhirDateTime::parse(d).map_err(|_| ProfileError::BirthDate(d.to_string()))?;
    if parsed.precision() != crate::fhir::date::Precision::Day || d > today {
        return Err(ProfileError::BirthDate(d.to_string()));
    }
    Ok(d.to_string())
}

impl Profile {
    /// Age in whole years on `today` (`YYYY-MM-DD`).
    pub fn age_on(&self, today: &str) -> Option<u32> {
        let born = self.birth_date.as_deref()?;
        let (by, bmd) = (born.get(..4)?.parse::<u32>().ok()?, born.get(5..)?);
        let (ty, tmd) = (today.get(..4)?.parse::<u32>().ok()?, today.get(5..10)?);
        let years = ty.checked_sub(by)?;
        Some(if tmd < bmd { years.saturating_sub(1) } else { years })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_builds_with_derived_handle() {
        let p = ProfileDraft {
            name: "Ayesha Siddiqui".into(),
            birth_date: Some("1968-04-12".into()),
            gender: Some("F".into()),
            cnic: Some("35202-1234567-2".into()),
            ..Default::default()
        }
        .build("2026-11-22", Relationship::Owner)
        .unwrap();
        assert_eq!(p.handle, "ayesha");
        assert_eq!(p.gender, Some(Gender::Female));
        assert_eq!(p.age_on("2026-11-22"), Some(58));
        assert_eq!(p.age_on("2026-04-11"), Some(57));
    }

    #[test]
    fn urdu_names_get_a_plain_handle() {
        let p = ProfileDraft {
            name: "عائشہ صدیقی".into(),
            ..Default::default()
        }
        .build("2026-01-01", Relationship::Owner)
        .unwrap();
        assert_eq!(p.name, "عائشہ صدیقی");
        assert_eq!(p.handle, "profile");
    }

    #[test]
    fn bad_fields_are_named() {
        let base = || ProfileDraft {
            name: "Zara".into(),
            ..Default::default()
        };
        let future = ProfileDraft {
            birth_date: Some("2030-01-01".into()),
            ..base()
        };
        assert!(matches!(
            future.build("2026-01-01", Relationship::Child),
            Err(ProfileError::BirthDate(_))
        ));
        let cnic = ProfileDraft {
            cnic: Some("123".into()),
            ..base()
        };
        assert!(
            cnic.build("2026-01-01", Relationship::Child)
                .unwrap_err()
                .to_string()
                .contains("CNIC")
        );
        let g = ProfileDraft {
            gender: Some("x".into()),
            ..base()
        };
        assert!(matches!(
            g.build("2026-01-01", Relationship::Child),
            Err(ProfileError::Gender(_))
        ));
        let blank = ProfileDraft {
            name: "  ".into(),
            ..Default::default()
        };
        assert_eq!(
            blank.build("2026-01-01", Relationship::Child),
            Err(ProfileError::EmptyName)
        );
    }
}
