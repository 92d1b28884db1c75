//! Whom a share is about, as the FHIR `Patient` the International Patient
//! Summary requires: derived from the signed grant (the name the patient
//! shows, and `who`: birth date, gender, national IDs), never typed twice.
//!
//! Derived, not carried: an Amanat link's QR code has no room for a second
//! copy of what its grant already says, so the doctor's side builds the
//! resource from the verified grant (`receive --out` writes it as
//! `0-Patient.json`). A SMART Health Link's bundle carries it as its first
//! entry, for viewers that know nothing of grants; an Amanat viewer derives
//! it again and accepts the bundle only if the two are the same bytes, so
//! the signature covers it too.

use serde_json::{Value, json};

use super::grant::Grant;

/// Identifier `type.text` and, where one is published, `system`, by the
/// kinds a grant names.
fn identifier(kind: &str, value: &str) -> Value {
    match kind {
        "cnic" => json!({"type": {"text": "CNIC"}, "value": value}),
        "abha" => {
            json!({"system": "https://healthid.ndhm.gov.in", "type": {"text": "ABHA number"}, "value": value})
        }
        "abha-address" => json!({"type": {"text": "ABHA address"}, "value": value}),
        other => json!({"type": {"text": other}, "value": value}),
    }
}

/// The `Patient` a grant describes, as JSON bytes: the same bytes for the
/// same grant, on every machine.
pub fn resource(grant: &Grant) -> Vec<u8> {
    let mut patient = json!({
        "resourceType": "Patient",
        "id": "patient",
        "name": [{"text": grant.patient}],
    });
    if let Some(who) = &grant.subject {
        if !who.ids.is_empty() {
            patient["identifier"] = who.ids.iter().map(|(k, v)| identifier(k, v)).collect();
        }
        if let Some(gender) = &who.gender {
            patient["gender"] = json!(gender);
        }
        if let Some(born) = &who.birth_date {
            patient["birthDate"] = json!(born);
        }
        if let Some(phone) = &who.phone {
            patient["telecom"] = json!([{"system": "phone", "value": phone}]);
        }
    }
    serde_json::to_vec(&patient).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::Resource;
    use crate::share::grant::Subject;

    #[test]
    fn the_grants_patient_is_valid_fhir_and_always_the_same_bytes() {
        let mut grant = crate::share::grant::tests::sample(0);
        grant.patient = "Ayesha Siddiqui".into();
        grant.subject = Some(Subject {
            birth_date: Some("1968-04-12".into()),
            gender: Some("female".into()),
            ids: vec![
                ("cnic".into(), "35202-1234567-2".into()),
                ("abha".into(), "91-1234-5678-9012".into()),
            ],
            phone: None,
        });
        let bytes = resource(&grant);
        assert_eq!(bytes, resource(&grant.clone()));
        let patient = Resource::from_slice(&bytes).unwrap();
        let d = patient.describe().unwrap();
        assert!(d.title.contains("Ayesha Siddiqui"), "{}", d.title);
        let json = patient.json();
        assert_eq!(json["birthDate"], "1968-04-12");
        assert_eq!(json["identifier"][0]["value"], "35202-1234567-2");
        assert_eq!(json["identifier"][1]["system"], "https://healthid.ndhm.gov.in");
        // Only the name when the grant says nothing more.
        grant.subject = None;
        let bare: Value = serde_json::from_slice(&resource(&grant)).unwrap();
        assert_eq!(
            bare,
            json!({"resourceType": "Patient", "id": "patient", "name": [{"text": "Ayesha Siddiqui"}]})
        );
    }
}
