//! FHIR documents: a Bundle of type `document`, led by its Composition. ABDM
//! moves every health record as one (the NRCES `DocumentBundle`: a lab report,
//! a prescription, a discharge summary…), so the wallet keeps a document whole,
//! exactly as it came, as one record that the timeline shows with its entries
//! beneath it, and files each clinical entry as a record of its own too (naming
//! the document it belongs to), so that summaries, trends and search see them.
//! Who and where (the Patient, Practitioners, Organizations, Locations) and the
//! Composition itself live only inside the document: they are not records of
//! the patient.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{CodeableConcept, Composition, HumanName};
use super::{Description, FhirError, Found, HiType, Reading, Resource, read_value_entry, results_by_context};

/// Resource types that say who and where in a document, not what happened:
/// kept inside the document's record, never filed as records of their own.
pub const CONTEXT_TYPES: &[&str] = &[
    "Composition",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
];

/// Whether JSON is a FHIR document (a Bundle of type `document`).
pub fn is_document(json: &Value) -> bool {
    json["resourceType"] == "Bundle" && json["type"] == "document"
}

/// The entries of a document, each validated and described (Observations a
/// report lists read as results), with its `fullUrl`. The first problem
/// refuses the whole document, with its path.
pub(super) fn entries(bundle: &Resource) -> Result<Vec<(Option<String>, Resource, Description)>, FhirError> {
    let Some(list) = bundle.json()["entry"].as_array() else {
        return Err(FhirError::new(
            "entry",
            "a document needs its entries (a Composition first)",
        ));
    };
    let results = crate::par::map(list, read_value_entry);
    let mut out = Vec::with_capacity(results.len());
    for (i, result) in results.into_iter().enumerate() {
        out.push(result.map_err(|e| e.within(&format!("entry[{i}]")))?);
    }
    if !out.iter().any(|(_, r, _)| r.resource_type() == "Composition") {
        return Err(FhirError::new(
            "entry[0]",
            "a document's first entry must be its Composition",
        ));
    }
    results_by_context(&mut out);
    Ok(out)
}

/// What the wallet makes of a document: the Composition's kind (ABDM type),
/// date and title, with who wrote it and where, so one line of the timeline
/// says what the paper would.
pub(super) fn describe(resource: &Resource, found: &mut Found) -> Reading {
    let json = resource.json();
    let (at, composition) = composition(json)
        .ok_or_else(|| FhirError::new("entry[0]", "a document's first entry must be its Composition"))?;
    let c = Composition::deserialize(composition)
        .map_err(|e| FhirError::new(format!("entry[{at}].resource"), e.to_string()))?;
    found.codes.extend(c.r#type.tokens());
    found.status = Some(c.status.clone());
    let people = People::of(json);
    let mut title = c.title.trim().to_string();
    for by in people.authors.iter().take(1).chain(&people.facility) {
        title.push_str(" · ");
        title.push_str(by);
    }
    Ok((kind(composition, &c.r#type), Some(c.date), title))
}

/// The document's Composition and its entry's index.
fn composition(json: &Value) -> Option<(usize, &Value)> {
    json["entry"]
        .as_array()?
        .iter()
        .enumerate()
        .find(|(_, e)| e["resource"]["resourceType"] == "Composition")
        .map(|(i, e)| (i, &e["resource"]))
}

/// The ABDM type of a Composition: its SNOMED CT type code as ABDM assigns
/// them; else the NRCES profile it claims (`…/StructureDefinition/WellnessRecord`,
/// whose type is text only); else the type's text ("Wellness Record").
pub(super) fn kind(composition: &Value, r#type: &CodeableConcept) -> HiType {
    if let Some(hi) = HiType::ALL
        .into_iter()
        .find(|t| t.snomed().is_some_and(|code| r#type.has_any_code(code)))
    {
        return hi;
    }
    let squash = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let profiles = composition["meta"]["profile"].as_array().into_iter().flatten();
    let names = profiles
        .filter_map(Value::as_str)
        .filter_map(|p| p.rsplit('/').next())
        .chain(r#type.text.as_deref())
        .map(squash);
    for name in names {
        let found = HiType::ALL.into_iter().find(|t| {
            let t = squash(t.as_str());
            // NRCES names profiles `OPConsultRecord`, `PrescriptionRecord`…
            name == t || name == format!("{t}record") || (t == "opconsultation" && name == "opconsultrecord")
        });
        if let Some(t) = found {
            return t;
        }
    }
    HiType::HealthDocumentRecord
}

/// Who wrote a document and where, by name: a reference is looked up among
/// the document's entries (by `fullUrl` or `Type/id`), else its `display`.
struct People {
    authors: Vec<String>,
    facility: Option<String>,
    patient: Option<String>,
}

impl People {
    fn of(json: &Value) -> People {
        let entries = json["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
        let name_of = |reference: &Value| -> Option<String> {
            resolve(entries, reference)
                .and_then(resource_name)
                .or_else(|| reference["display"].as_str().map(str::to_string))
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
        };
        let (_, composition) = composition(json).unwrap_or((0, &Value::Null));
        People {
            authors: composition["author"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(name_of)
                .collect(),
            facility: name_of(&composition["custodian"]),
            patient: name_of(&composition["subject"]),
        }
    }
}

/// The resource a Reference points to among a document's entries: by the
/// entry's `fullUrl`, or by `Type/id` (relative, or at the end of an absolute
/// address).
fn resolve<'a>(entries: &'a [Value], reference: &Value) -> Option<&'a Value> {
    let r = reference["reference"].as_str()?;
    entries.iter().find_map(|e| {
        let res = &e["resource"];
        let relative = format!(
            "{}/{}",
            res["resourceType"].as_str().unwrap_or_default(),
            res["id"].as_str().unwrap_or_default()
        );
        (e["fullUrl"].as_str() == Some(r) || relative == r || r.ends_with(&format!("/{relative}")))
            .then_some(res)
    })
}

/// A Practitioner's, Patient's or Organization's name.
fn resource_name(resource: &Value) -> Option<String> {
    match &resource["name"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(names) => names
            .iter()
            .filter_map(|n| HumanName::deserialize(n).ok())
            .find_map(|n| n.label()),
        _ => None,
    }
}

/// A document as a person reads it: what, when, by whom, where, and its
/// sections with their entries. The same for the patient's record page and
/// the doctor's view of a share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outline {
    /// The Composition's title.
    pub title: String,
    /// ABDM type, from the Composition's type.
    pub kind: HiType,
    /// The Composition's date, as written.
    pub date: Option<String>,
    /// Who wrote it.
    pub authors: Vec<String>,
    /// The organisation that keeps it (the Composition's custodian).
    pub facility: Option<String>,
    /// Whom it is about, as it names them.
    pub patient: Option<String>,
    /// Its sections in order.
    pub sections: Vec<Section>,
}

/// One section of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Its title ("Medications", "Vital Signs").
    pub title: String,
    /// The entries it lists.
    pub entries: Vec<Entry>,
}

/// One entry of a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// One line, as the timeline would show it.
    pub title: String,
    /// For a report: a line for each result it lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<String>,
}

/// The outline of a document, or `None` for anything else (or a document too
/// damaged to describe, which the wallet would not have stored).
pub fn outline(resource: &Resource) -> Option<Outline> {
    let json = resource.json();
    if !is_document(json) {
        return None;
    }
    let (_, composition) = composition(json)?;
    let c = Composition::deserialize(composition).ok()?;
    let entries = json["entry"].as_array()?.as_slice();
    let find = |reference: &Value| -> Option<Resource> {
        Resource::from_value(resolve(entries, reference)?.clone()).ok()
    };
    // The line for what a reference points to (found among the entries).
    let title = |found: Option<&Resource>, reference: &Value| -> String {
        found
            .and_then(|res| res.describe().ok())
            .map(|d| d.title)
            .or_else(|| reference["display"].as_str().map(str::to_string))
            .unwrap_or_else(|| reference["reference"].as_str().unwrap_or_default().to_string())
    };
    let title_of = |reference: &Value| title(find(reference).as_ref(), reference);
    let entry_of = |reference: &Value| -> Entry {
        let found = find(reference);
        let results = found
            .as_ref()
            .filter(|r| r.resource_type() == "DiagnosticReport")
            .map(|r| {
                r.json()["result"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(title_of)
                    .collect()
            })
            .unwrap_or_default();
        Entry {
            title: title(found.as_ref(), reference),
            results,
        }
    };
    let sections = composition["section"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| Section {
            title: s["title"]
                .as_str()
                .map(str::to_string)
                .or_else(|| {
                    CodeableConcept::deserialize(&s["code"])
                        .ok()
                        .and_then(|c| c.label())
                })
                .unwrap_or_default(),
            entries: s["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(entry_of)
                .collect(),
        })
        .collect();
    let people = People::of(json);
    Some(Outline {
        title: c.title.clone(),
        kind: kind(composition, &c.r#type),
        date: Some(c.date.as_str().to_string()),
        authors: people.authors,
        facility: people.facility,
        patient: people.patient,
        sections,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fhir::read_resources;

    fn document(composition_type: Value, profile: &str) -> Value {
        json!({"resourceType": "Bundle", "type": "document", "entry": [
            {"fullUrl": "urn:uuid:c", "resource": {"resourceType": "Composition", "status": "final",
                "meta": {"profile": [format!("https://nrces.in/ndhm/fhir/r4/StructureDefinition/{profile}")]},
                "type": composition_type, "date": "2026-03-02", "title": "Visit",
                "subject": {"reference": "urn:uuid:p"},
                "author": [{"reference": "Practitioner/d1"}],
                "custodian": {"reference": "urn:uuid:o", "display": "ignored: the entry has a name"},
                "section": [{"code": {"text": "Medications"}, "entry": [{"reference": "urn:uuid:m"}]}]}},
            {"fullUrl": "urn:uuid:p", "resource": {"resourceType": "Patient", "name": [{"text": "Priya Sharma"}]}},
            {"fullUrl": "https://hip.example/Practitioner/d1", "resource": {"resourceType": "Practitioner", "id": "d1",
                "name": [{"given": ["Anjali"], "family": "Mehta"}]}},
            {"fullUrl": "urn:uuid:o", "resource": {"resourceType": "Organization", "name": "City Clinic"}},
            {"fullUrl": "urn:uuid:m", "resource": {"resourceType": "MedicationRequest", "status": "active",
                "intent": "order", "subject": {"reference": "urn:uuid:p"},
                "medicationCodeableConcept": {"text": "Metformin 500 mg"}}}
        ]})
    }

    #[test]
    fn the_kind_comes_from_the_code_else_the_profile_else_the_text() {
        let sct = |code: &str| json!({"coding": [{"system": "http://snomed.info/sct", "code": code}]});
        for (t, profile, kind) in [
            (sct("440545006"), "Anything", HiType::Prescription),
            (sct("41000179103"), "Anything", HiType::ImmunizationRecord),
            (
                json!({"text": "Wellness Record"}),
                "WellnessRecord",
                HiType::WellnessRecord,
            ),
            (
                json!({"text": "Visit"}),
                "OPConsultRecord",
                HiType::OPConsultation,
            ),
            (
                json!({"text": "Discharge summary"}),
                "Other",
                HiType::DischargeSummary,
            ),
            (
                json!({"text": "Something else"}),
                "Other",
                HiType::HealthDocumentRecord,
            ),
        ] {
            let doc = Resource::from_value(document(t.clone(), profile)).unwrap();
            assert_eq!(doc.describe().unwrap().hi_type, kind, "{t} {profile}");
        }
    }

    #[test]
    fn a_document_is_one_record_its_entries_name_it_and_who_and_where_stay_inside() {
        let doc = document(json!({"text": "Visit"}), "PrescriptionRecord");
        let alone = json!({"resourceType": "Observation", "status": "final", "code": {"text": "Weight"}});
        // As the whole file, and as an entry of a collection after another resource.
        let collection = json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": alone}, {"resource": doc}]});
        for (file, at) in [(doc.to_string(), 0), (collection.to_string(), 0)] {
            let read = read_resources(file.as_bytes()).unwrap();
            let kinds: Vec<(&str, Option<usize>)> = read
                .iter()
                .map(|r| (r.resource.resource_type(), r.document))
                .collect();
            let mut expected = vec![("Bundle", None), ("MedicationRequest", Some(at))];
            if file.contains("collection") {
                expected.push(("Observation", None));
            }
            assert_eq!(kinds, expected);
            assert_eq!(read[0].resource.json(), &doc, "kept whole, as it came");
            assert_eq!(read[0].description.title, "Visit · Anjali Mehta · City Clinic");
        }
    }

    #[test]
    fn an_outline_lists_sections_and_a_reports_results() {
        let mut doc = document(json!({"text": "Visit"}), "DiagnosticReportRecord");
        let entries = doc["entry"].as_array_mut().unwrap();
        entries.push(
            json!({"fullUrl": "urn:uuid:r", "resource": {"resourceType": "DiagnosticReport",
            "status": "final", "code": {"text": "Lipid panel"}, "result": [{"reference": "urn:uuid:x"}]}}),
        );
        entries.push(
            json!({"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Observation",
            "status": "final", "code": {"text": "LDL"}, "valueQuantity": {"value": 131, "unit": "mg/dL"}}}),
        );
        doc["entry"][0]["resource"]["section"]
            .as_array_mut()
            .unwrap()
            .push(json!({"title": "Results", "entry": [{"reference": "urn:uuid:r"}, {"reference": "urn:uuid:gone", "display": "Named only"}]}));
        let o = outline(&Resource::from_value(doc).unwrap()).unwrap();
        assert_eq!(
            (o.authors, o.facility, o.patient),
            (
                vec!["Anjali Mehta".to_string()],
                Some("City Clinic".to_string()),
                Some("Priya Sharma".to_string())
            )
        );
        let titles: Vec<(&str, Vec<&str>)> = o
            .sections
            .iter()
            .map(|s| {
                (
                    s.title.as_str(),
                    s.entries.iter().map(|e| e.title.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            titles,
            [
                ("Medications", vec!["Metformin 500 mg"]),
                ("Results", vec!["Lipid panel", "Named only"])
            ]
        );
        assert_eq!(o.sections[1].entries[0].results, ["LDL: 131 mg/dL"]);
    }
}
