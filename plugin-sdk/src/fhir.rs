//! Small helpers for reading and writing FHIR R4 JSON in plugins.

use serde_json::{Value, json};

use crate::FhirRecord;

/// LOINC, for lab tests and vital signs.
pub const LOINC: &str = "http://loinc.org";
/// SNOMED CT, for conditions, allergies, procedures.
pub const SNOMED: &str = "http://snomed.info/sct";
/// UCUM, for units.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// RxNorm, for medicines.
pub const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
/// HL7 observation categories.
pub const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// HL7 v3 interpretation codes (H, L, N, HH, LL, A).
pub const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

/// Parses a record's JSON.
pub fn parse(record: &FhirRecord) -> Result<Value, String> {
    serde_json::from_str(&record.json).map_err(|e| format!("record {} is not JSON: {e}", record.id))
}

/// A CodeableConcept with one coding and text.
pub fn concept(system: &str, code: &str, display: &str) -> Value {
    json!({"coding": [{"system": system, "code": code, "display": display}], "text": display})
}

/// A quantity with a UCUM unit.
pub fn quantity(value: f64, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "system": UCUM, "code": unit})
}

/// The label of a CodeableConcept: its text, else the first display, else the first code.
pub fn label(concept: &Value) -> Option<String> {
    concept
        .get("text")
        .and_then(Value::as_str)
        .or_else(|| codings(concept).find_map(|c| c.get("display").and_then(Value::as_str)))
        .or_else(|| codings(concept).find_map(|c| c.get("code").and_then(Value::as_str)))
        .map(str::to_string)
}

/// The codings of a CodeableConcept.
pub fn codings(concept: &Value) -> impl Iterator<Item = &Value> {
    concept
        .get("coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Whether a CodeableConcept has this code in this system.
pub fn has_code(concept: &Value, system: &str, code: &str) -> bool {
    codings(concept).any(|c| {
        c.get("system").and_then(Value::as_str) == Some(system)
            && c.get("code").and_then(Value::as_str) == Some(code)
    })
}

/// Every word of a concept's text, displays and codes, lower-cased (for matching
/// medicine and substance names).
pub fn words(concept: &Value) -> String {
    let mut out = String::new();
    if let Some(t) = concept.get("text").and_then(Value::as_str) {
        out.push_str(t);
    }
    for c in codings(concept) {
        for key in ["display", "code"] {
            if let Some(v) = c.get(key).and_then(Value::as_str) {
                out.push(' ');
                out.push_str(v);
            }
        }
    }
    out.to_lowercase()
}

/// A reference to a resource by type and id.
pub fn reference(resource_type: &str, id: &str) -> Value {
    json!({"reference": format!("{resource_type}/{id}")})
}

/// The status of a resource (`status`, or `clinicalStatus.coding[0].code`).
pub fn status(resource: &Value) -> Option<&str> {
    resource.get("status").and_then(Value::as_str).or_else(|| {
        resource
            .get("clinicalStatus")
            .and_then(|c| codings(c).next())
            .and_then(|c| c.get("code"))
            .and_then(Value::as_str)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_codes() {
        let c = concept(LOINC, "4548-4", "Hemoglobin A1c");
        assert_eq!(label(&c).as_deref(), Some("Hemoglobin A1c"));
        assert!(has_code(&c, LOINC, "4548-4"));
        assert!(words(&c).contains("hemoglobin a1c"));
        let bare = json!({"coding": [{"code": "x1"}]});
        assert_eq!(label(&bare).as_deref(), Some("x1"));
        assert_eq!(
            status(&json!({"clinicalStatus": {"coding": [{"code": "active"}]}})),
            Some("active")
        );
    }
}
