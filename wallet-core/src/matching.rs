//! Whose records a file holds, compared with the wallet's profiles before
//! anything is imported: records filed under the wrong person are a classic
//! patient-safety failure, and they would then be shared with that person's
//! doctor.
//!
//! The patient a file is about is its `Patient` resource: name (any script),
//! birth date, gender, and the identifiers that parse as a CNIC, an ABHA
//! number or an ABHA address. The rules (docs/matching.md):
//! - **Different** when a national ID of the same kind differs, or the birth
//!   dates differ, or the genders differ, or (no ID agreeing) the names share
//!   no word. Each difference is named, with both sides.
//! - **Same** when a national ID of the same kind agrees and nothing differs,
//!   or, with no IDs to compare, the birth date agrees and the names share a
//!   word.
//! - **Unknown** otherwise (the file has no `Patient`, or too little to say).

use std::str::FromStr;

use crate::fhir::Resource;
use crate::national_id::{AbhaAddress, AbhaNumber, Cnic};
use crate::profile::Profile;
use crate::record::NewRecord;

/// Who a file says its patient is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FilePatient {
    /// The name as the file writes it.
    pub name: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// FHIR administrative gender.
    pub gender: Option<String>,
    /// CNIC, as `35202-1234567-2`.
    pub cnic: Option<String>,
    /// ABHA number, as `91-1234-5678-9012`.
    pub abha_number: Option<String>,
    /// ABHA address.
    pub abha_address: Option<String>,
}

impl FilePatient {
    /// The patient of a `Patient` resource.
    pub fn from_resource(resource: &Resource) -> FilePatient {
        let json = resource.json();
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let name = json["name"].as_array().and_then(|names| {
            names.iter().find_map(|n| {
                text(&n["text"]).or_else(|| {
                    let given: Vec<&str> = n["given"]
                        .as_array()
                        .map(|g| g.iter().filter_map(|x| x.as_str()).collect())
                        .unwrap_or_default();
                    let family = n["family"].as_str().unwrap_or_default();
                    let whole = format!("{} {family}", given.join(" ")).trim().to_string();
                    (!whole.is_empty()).then_some(whole)
                })
            })
        });
        let mut p = FilePatient {
            name,
            birth_date: text(&json["birthDate"]),
            gender: text(&json["gender"]),
            ..FilePatient::default()
        };
        for id in json["identifier"].as_array().into_iter().flatten() {
            if let Some(value) = id["value"].as_str() {
                p.add_id(value);
            }
        }
        p
    }

    /// Keeps `value` as the patient's CNIC, ABHA number or ABHA address,
    /// whichever it parses as (the first of each kind wins); `false` when it
    /// is none of them.
    fn add_id(&mut self, value: &str) -> bool {
        if let Ok(c) = Cnic::from_str(value) {
            self.cnic.get_or_insert(c.to_string());
        } else if let Ok(a) = AbhaNumber::from_str(value) {
            self.abha_number.get_or_insert(a.to_string());
        } else if let Ok(a) = AbhaAddress::from_str(value) {
            self.abha_address.get_or_insert(a.to_string());
        } else {
            return false;
        }
        true
    }

    /// One line for people: `Ayesha Khan, born 1968-04-12, female, CNIC 35202-1234567-4`.
    pub fn describe(&self) -> String {
        describe(
            self.name.as_deref(),
            self.birth_date.as_deref(),
            self.gender.as_deref(),
            [&self.cnic, &self.abha_number, &self.abha_address],
        )
    }
}

/// A profile as [`FilePatient::describe`] writes a file's patient.
pub fn describe_profile(profile: &Profile) -> String {
    let gender = profile.gender.map(|g| g.to_string());
    describe(
        Some(&profile.name),
        profile.birth_date.as_deref(),
        gender.as_deref(),
        [
            &profile.cnic.as_ref().map(ToString::to_string),
            &profile.abha_number.as_ref().map(ToString::to_string),
            &profile.abha_address.as_ref().map(ToString::to_string),
        ],
    )
}

fn describe(
    name: Option<&str>,
    born: Option<&str>,
    gender: Option<&str>,
    ids: [&Option<String>; 3],
) -> String {
    let mut parts = vec![name.unwrap_or("(no name)").to_string()];
    if let Some(b) = born {
        parts.push(format!("born {b}"));
    }
    if let Some(g) = gender {
        parts.push(g.to_string());
    }
    for (label, id) in ["CNIC", "ABHA", "ABHA address"].into_iter().zip(ids) {
        if let Some(id) = id {
            parts.push(format!("{label} {id}"));
        }
    }
    parts.join(", ")
}

/// Whom `records` are about: the first `Patient` resource among them, else
/// the first `subject` that names the patient by a national ID (a lab's
/// report says whom it is about that way), with its display as the name.
pub fn file_patient(records: &[NewRecord]) -> Option<FilePatient> {
    patient_of(records.iter().map(|r| &r.resource))
}

/// [`file_patient`] of resources.
pub fn patient_of<'a>(resources: impl Iterator<Item = &'a Resource> + Clone) -> Option<FilePatient> {
    resources
        .clone()
        .find_map(|r| {
            if r.resource_type() == "Patient" {
                return Some(FilePatient::from_resource(r));
            }
            // A document keeps its Patient inside.
            let json = r.json();
            if !crate::fhir::document::is_document(json) {
                return None;
            }
            json["entry"].as_array()?.iter().find_map(|e| {
                let patient = Resource::from_value(e["resource"].clone()).ok()?;
                (patient.resource_type() == "Patient").then(|| FilePatient::from_resource(&patient))
            })
        })
        .or_else(|| {
            resources
                .into_iter()
                .find_map(|r| from_subject(&r.json()["subject"]))
        })
}

/// The patient a `subject` Reference names, if it carries a national ID.
fn from_subject(subject: &serde_json::Value) -> Option<FilePatient> {
    let value = subject["identifier"]["value"].as_str()?;
    let mut p = FilePatient {
        name: subject["display"].as_str().map(str::to_string),
        ..FilePatient::default()
    };
    p.add_id(value).then_some(p)
}

/// How a file's patient compares with a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The same person, by the rules above.
    Same,
    /// Not the same person: each difference in words.
    Different(Vec<String>),
    /// Too little to say.
    Unknown,
}

/// Words of a name, any script, lowercased, without punctuation.
fn words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether a profile says nothing of whom it is: the name a wallet made
/// without one ([`crate::profile::UNNAMED`]) and no birth date, gender or ID.
pub fn is_blank(profile: &Profile) -> bool {
    profile.name == crate::profile::UNNAMED
        && profile.birth_date.is_none()
        && profile.gender.is_none()
        && profile.cnic.is_none()
        && profile.abha_number.is_none()
        && profile.abha_address.is_none()
}

/// Compares a file's patient with a profile. A blank profile ([`is_blank`])
/// matches nothing and differs from nothing: [`Match::Unknown`].
pub fn compare(profile: &Profile, file: &FilePatient) -> Match {
    if is_blank(profile) {
        return Match::Unknown;
    }
    let mut differs = Vec::new();
    let mut id_agrees = false;
    let ids = [
        ("CNIC", profile.cnic.as_ref().map(ToString::to_string), &file.cnic),
        (
            "ABHA number",
            profile.abha_number.as_ref().map(ToString::to_string),
            &file.abha_number,
        ),
        (
            "ABHA address",
            profile.abha_address.as_ref().map(ToString::to_string),
            &file.abha_address,
        ),
    ];
    for (label, mine, theirs) in ids {
        match (mine, theirs) {
            (Some(a), Some(b)) if a == *b => id_agrees = true,
            (Some(a), Some(b)) => differs.push(format!("{label} {b} in the file, {a} in the profile")),
            _ => {}
        }
    }
    let born_agrees = match (&profile.birth_date, &file.birth_date) {
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) => {
            differs.push(format!("born {b} in the file, {a} in the profile"));
            false
        }
        _ => false,
    };
    if let (Some(a), Some(b)) = (profile.gender.map(|g| g.to_string()), &file.gender)
        && a != *b
        && b != "unknown"
    {
        differs.push(format!("{b} in the file, {a} in the profile"));
    }
    let names_share = file.name.as_deref().map(|n| {
        let theirs = words(n);
        words(&profile.name).iter().any(|w| theirs.contains(w))
    });
    if names_share == Some(false) && !id_agrees {
        differs.push(format!(
            "named {} in the file, {} in the profile",
            file.name.as_deref().unwrap_or_default(),
            profile.name
        ));
    }
    if !differs.is_empty() {
        Match::Different(differs)
    } else if id_agrees || (born_agrees && names_share == Some(true)) {
        Match::Same
    } else {
        Match::Unknown
    }
}

/// A blank profile ([`is_blank`]) filled from the patient a file names:
/// name, birth date (a whole date, not after `today`), gender and national
/// IDs (only ones that parse as CNIC, ABHA number or address reach a
/// [`FilePatient`]). `None` when the profile is not blank or the file gives
/// no name. Its id, handle and relationship stay.
pub fn filled(profile: &Profile, file: &FilePatient, today: &str) -> Option<Profile> {
    let name = file.name.as_deref().map(str::trim).filter(|n| !n.is_empty())?;
    if !is_blank(profile) {
        return None;
    }
    let birth_date = file
        .birth_date
        .as_deref()
        .and_then(|b| crate::profile::validate_birth_date(b, today).ok());
    Some(Profile {
        name: name.to_string(),
        birth_date,
        gender: file.gender.as_deref().and_then(|g| g.parse().ok()),
        cnic: file.cnic.as_deref().and_then(|c| c.parse().ok()),
        abha_number: file.abha_number.as_deref().and_then(|a| a.parse().ok()),
        abha_address: file.abha_address.as_deref().and_then(|a| a.parse().ok()),
        ..profile.clone()
    })
}

/// A file about someone other than the profile it would go into: both
/// people, and each difference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this file is about {file}, but the profile '{handle}' is {profile} ({})",
    .differences.join("; ")
)]
pub struct Mismatch {
    /// The file's patient ([`FilePatient::describe`]).
    pub file: String,
    /// The profile's handle.
    pub handle: String,
    /// The profile ([`describe_profile`]).
    pub profile: String,
    /// Each difference, both sides named.
    pub differences: Vec<String>,
}

/// The profile a file's records go into: `chosen` when the file's `Patient`
/// is that person or says too little; when no profile was chosen
/// (`explicit` false), the one it clearly is; else a [`Mismatch`], unless
/// the patient accepts it. Files without a `Patient` go where chosen.
pub fn destination<'a>(
    profiles: &'a [Profile],
    chosen: &'a Profile,
    explicit: bool,
    records: &[NewRecord],
    accept_mismatch: bool,
) -> Result<&'a Profile, Mismatch> {
    destination_of(
        profiles,
        chosen,
        explicit,
        file_patient(records).as_ref(),
        accept_mismatch,
    )
}

/// [`destination`] for a patient found already ([`patient_of`]).
pub fn destination_of<'a>(
    profiles: &'a [Profile],
    chosen: &'a Profile,
    explicit: bool,
    patient: Option<&FilePatient>,
    accept_mismatch: bool,
) -> Result<&'a Profile, Mismatch> {
    let Some(patient) = patient else {
        return Ok(chosen);
    };
    if !explicit && let Some(other) = profiles.iter().find(|p| compare(p, patient) == Match::Same) {
        return Ok(other);
    }
    match compare(chosen, patient) {
        Match::Different(differences) if !accept_mismatch => Err(Mismatch {
            file: patient.describe(),
            handle: chosen.handle.clone(),
            profile: describe_profile(chosen),
            differences,
        }),
        _ => Ok(chosen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileDraft;

    fn profile(name: &str, born: Option<&str>, cnic: Option<&str>) -> Profile {
        ProfileDraft {
            name: name.into(),
            birth_date: born.map(str::to_string),
            cnic: cnic.map(str::to_string),
            ..ProfileDraft::default()
        }
        .build("2026-12-01", crate::profile::Relationship::Other)
        .unwrap()
    }

    fn patient(json: serde_json::Value) -> FilePatient {
        FilePatient::from_resource(&Resource::from_value(json).unwrap())
    }

    #[test]
    fn reads_names_dates_and_national_ids_from_a_patient() {
        let p = patient(serde_json::json!({
            "resourceType": "Patient",
            "name": [{"given": ["Ayesha"], "family": "Khan"}],
            "birthDate": "1968-04-12",
            "gender": "female",
            "identifier": [
                {"system": "urn:oid:2.16.586.1.1", "value": "35202 1234567 4"},
                {"value": "91-1234-5678-9012"},
                {"value": "ayesha.k@abdm"},
                {"value": "MRN-0042"}
            ]
        }));
        assert_eq!(p.name.as_deref(), Some("Ayesha Khan"));
        assert_eq!(p.cnic.as_deref(), Some("35202-1234567-4"));
        assert_eq!(p.abha_number.as_deref(), Some("91-1234-5678-9012"));
        assert_eq!(p.abha_address.as_deref(), Some("ayesha.k@abdm"));
        assert_eq!(
            p.describe(),
            "Ayesha Khan, born 1968-04-12, female, CNIC 35202-1234567-4, ABHA 91-1234-5678-9012, ABHA address ayesha.k@abdm"
        );
    }

    #[test]
    fn the_rules_say_same_different_or_unknown() {
        let ayesha = patient(
            serde_json::json!({"resourceType": "Patient", "name": [{"text": "Ayesha Khan"}],
            "birthDate": "1968-04-12", "identifier": [{"value": "35202-1234567-4"}]}),
        );
        // A child's profile: every difference named.
        let zara = profile("Zara Siddiqui", Some("2016-09-03"), Some("35202-7654321-8"));
        let Match::Different(why) = compare(&zara, &ayesha) else {
            panic!()
        };
        assert_eq!(why.len(), 3, "{why:?}");
        assert!(why[0].contains("CNIC 35202-1234567-4 in the file, 35202-7654321-8 in the profile"));
        // The same CNIC: the same person, whatever the spelling of the name.
        let same = profile("Ayesha Siddiqui Khan", Some("1968-04-12"), Some("3520212345674"));
        assert_eq!(compare(&same, &ayesha), Match::Same);
        // A name in another script with the same CNIC still matches.
        let urdu = profile("عائشہ خان", None, Some("35202-1234567-4"));
        assert_eq!(compare(&urdu, &ayesha), Match::Same);
        // No IDs: birth date and a shared name word.
        let by_name = profile("ayesha", Some("1968-04-12"), None);
        assert_eq!(compare(&by_name, &ayesha), Match::Same);
        // A blank profile (a wallet made without a name): unknown.
        let me = profile(crate::profile::UNNAMED, None, None);
        assert!(is_blank(&me));
        assert_eq!(compare(&me, &ayesha), Match::Unknown);
        // A named profile with nothing else: the names decide.
        let named = profile("Zara Siddiqui", None, None);
        assert!(matches!(compare(&named, &ayesha), Match::Different(_)));
        let nameless = patient(serde_json::json!({"resourceType": "Patient"}));
        assert_eq!(compare(&named, &nameless), Match::Unknown);
    }

    #[test]
    fn only_a_blank_profile_is_filled_and_only_with_valid_details() {
        let blank = profile(crate::profile::UNNAMED, None, None);
        let file = patient(serde_json::json!({
            "resourceType": "Patient", "name": [{"text": "Ayesha Khan"}], "gender": "female",
            "birthDate": "2030-01-01",
            "identifier": [{"value": "35202-1234567-4"}, {"value": "not an id"}]
        }));
        let filled = filled(&blank, &file, "2026-12-01").unwrap();
        assert_eq!(
            (filled.id, filled.handle.as_str()),
            (blank.id, blank.handle.as_str())
        );
        assert_eq!(filled.name, "Ayesha Khan");
        assert_eq!(filled.birth_date, None, "a birth date in the future is left out");
        assert_eq!(
            filled.cnic.map(|c| c.to_string()).as_deref(),
            Some("35202-1234567-4")
        );
        assert_eq!(filled.gender.map(|g| g.to_string()).as_deref(), Some("female"));
        let named = profile("Zara Siddiqui", None, None);
        assert_eq!(
            super::filled(&named, &file, "2026-12-01"),
            None,
            "a named profile stays"
        );
        let nameless = patient(serde_json::json!({"resourceType": "Patient", "birthDate": "1968-04-12"}));
        assert_eq!(
            super::filled(&blank, &nameless, "2026-12-01"),
            None,
            "no name, nothing to fill"
        );
    }
}
