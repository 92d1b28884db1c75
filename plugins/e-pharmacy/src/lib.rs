//! E-pharmacy: orders the medicines of the prescriptions the patient selects,
//! after checking them against the patient's allergies (a penicillin allergy
//! blocks amoxicillin) and active medicines (duplicate therapy is flagged), and
//! sends the order to the pharmacy's endpoint (the `orders_url` setting of the
//! signed manifest). The pharmacy's answer (a FHIR Task) is proposed as a record.
//! Its `check` action reads one prescription given as a file (the wallet gives it
//! a signed prescription before the patient saves it) and answers what it finds
//! against the same records, as a FHIR `DetectedIssue` document.

use amanat_plugin::fhir;
use amanat_plugin::{
    ActionInfo, ActionInput, ActionOutput, Document, Plugin, PluginError, host, register_plugin,
};
use serde_json::{Value, json};

struct EPharmacy;

/// Drug classes: (class, members). Allergies to a class or a member block every member.
const CLASSES: &[(&str, &[&str])] = &[
    (
        "penicillins",
        &[
            "penicillin",
            "amoxicillin",
            "ampicillin",
            "co-amoxiclav",
            "amoxiclav",
            "augmentin",
            "cloxacillin",
            "flucloxacillin",
            "dicloxacillin",
            "piperacillin",
            "benzylpenicillin",
        ],
    ),
    (
        "sulfonamides",
        &[
            "sulfamethoxazole",
            "co-trimoxazole",
            "cotrimoxazole",
            "sulfadiazine",
            "sulfa",
        ],
    ),
    (
        "nsaids",
        &[
            "ibuprofen",
            "diclofenac",
            "naproxen",
            "aspirin",
            "mefenamic",
            "ketorolac",
        ],
    ),
    (
        "statins",
        &[
            "atorvastatin",
            "rosuvastatin",
            "simvastatin",
            "pravastatin",
            "lovastatin",
        ],
    ),
    ("biguanides", &["metformin"]),
    (
        "sglt2 inhibitors",
        &["empagliflozin", "dapagliflozin", "canagliflozin"],
    ),
    (
        "ace inhibitors",
        &["lisinopril", "enalapril", "ramipril", "captopril", "perindopril"],
    ),
    (
        "angiotensin receptor blockers",
        &["losartan", "valsartan", "telmisartan", "irbesartan", "olmesartan"],
    ),
    (
        "calcium channel blockers",
        &["amlodipine", "nifedipine", "felodipine"],
    ),
    (
        "proton pump inhibitors",
        &[
            "omeprazole",
            "esomeprazole",
            "pantoprazole",
            "lansoprazole",
            "rabeprazole",
        ],
    ),
];

/// The classes a medicine or substance name belongs to (words matched, lower-case).
pub fn classes_of(words: &str) -> Vec<&'static str> {
    CLASSES
        .iter()
        .filter(|(class, members)| {
            words.contains(class.trim_end_matches('s')) || members.iter().any(|m| words.contains(m))
        })
        .map(|(class, _)| *class)
        .collect()
}

/// The outcome of checking one ordered medicine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// Safe to order.
    Ok,
    /// Blocked by an allergy (the allergy, the class).
    Allergy(String, String),
    /// Same class as an active medicine (that medicine, the class): flagged, not blocked.
    Duplicate(String, String),
}

/// Checks a medicine against allergies and active medicines (their names, lower-cased).
pub fn check(medicine: &str, allergies: &[String], active: &[String]) -> Vec<Check> {
    let classes = classes_of(medicine);
    let mut out = Vec::new();
    for allergy in allergies {
        for class in classes_of(allergy) {
            if classes.contains(&class) {
                out.push(Check::Allergy(allergy.clone(), class.to_string()));
            }
        }
    }
    for other in active.iter().filter(|a| *a != medicine) {
        for class in classes_of(other) {
            if classes.contains(&class) {
                out.push(Check::Duplicate(other.clone(), class.to_string()));
            }
        }
    }
    out
}

fn medicine_of(resource: &Value) -> String {
    resource
        .get("medicationCodeableConcept")
        .map(fhir::words)
        .unwrap_or_default()
}

fn label_of(resource: &Value) -> String {
    resource
        .get("medicationCodeableConcept")
        .and_then(fhir::label)
        .unwrap_or_else(|| "the medicine".into())
}

impl Plugin for EPharmacy {
    const NAME: &'static str = "e-pharmacy";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn actions() -> Vec<ActionInfo> {
        vec![
            amanat_plugin::action(
                "order",
                "Orders the medicines of the prescriptions you select, after checking your allergies and current medicines",
                false,
                true,
            ),
            amanat_plugin::action(
                "check",
                "Checks a prescription (a file) against your allergies and current medicines, before you save it",
                true,
                false,
            ),
        ]
    }

    fn run(action: &str, input: ActionInput) -> Result<ActionOutput, PluginError> {
        match action {
            "order" => order(input),
            "check" => check_file(input),
            other => Err(amanat_plugin::unknown_action(other)),
        }
    }
}

/// The patient's active allergies and current medicines, as words.
fn allergies_and_medicines() -> Result<(Vec<String>, Vec<String>), PluginError> {
    let allergies: Vec<String> = host::read_all("AllergyIntolerance")
        .map_err(PluginError::Denied)?
        .iter()
        .filter_map(|r| fhir::parse(r).ok())
        .filter(|a| fhir::status(a).is_none_or(|s| s == "active"))
        .filter_map(|a| a.get("code").map(fhir::words))
        .collect();
    let mut active: Vec<String> = Vec::new();
    for kind in ["MedicationRequest", "MedicationStatement"] {
        for r in host::read_all(kind).map_err(PluginError::Denied)? {
            let v = fhir::parse(&r).map_err(PluginError::Failed)?;
            if matches!(fhir::status(&v), Some("active") | Some("on-hold") | None) {
                active.push(medicine_of(&v));
            }
        }
    }
    Ok((allergies, active))
}

/// `check`: one prescription (the file) against the patient's records. A
/// finding comes back as a FHIR DetectedIssue (severity `high` for an
/// allergy, `moderate` for duplicate therapy), its detail the same words.
fn check_file(input: ActionInput) -> Result<ActionOutput, PluginError> {
    let bytes = input
        .file
        .ok_or_else(|| PluginError::InvalidInput("give the prescription as the action's file".into()))?;
    let prescription: Value = serde_json::from_slice(&bytes)
        .map_err(|e| PluginError::InvalidInput(format!("the prescription is not JSON: {e}")))?;
    if prescription.get("resourceType").and_then(Value::as_str) != Some("MedicationRequest") {
        return Err(PluginError::InvalidInput(
            "the file is not a prescription (MedicationRequest)".into(),
        ));
    }
    let (allergies, active) = allergies_and_medicines()?;
    let label = label_of(&prescription);
    let findings = check(&medicine_of(&prescription), &allergies, &active);
    let mut words = Vec::new();
    let mut severity = "moderate";
    for finding in &findings {
        match finding {
            Check::Allergy(allergy, class) => {
                severity = "high";
                words.push(format!(
                    "{label} is one of the {class}, and you are allergic to {allergy}: ask your doctor before you take it"
                ));
            }
            Check::Duplicate(other, class) => words.push(format!(
                "{label} and {other} are both {class} (duplicate therapy): check with your doctor"
            )),
            Check::Ok => {}
        }
    }
    if words.is_empty() {
        return Ok(ActionOutput {
            message: format!("No allergy or duplicate medicine found in your records for {label}."),
            document: None,
        });
    }
    let detail = words.join("; ");
    let issue = json!({
        "resourceType": "DetectedIssue",
        "status": "final",
        "severity": severity,
        "code": {"text": if severity == "high" { "Drug-allergy" } else { "Duplicate therapy" }},
        "detail": detail,
    });
    Ok(ActionOutput {
        message: format!("Warning: {detail}."),
        document: Some(Document {
            name: "detected-issue.json".into(),
            media_type: "application/fhir+json".into(),
            bytes: serde_json::to_vec(&issue).unwrap_or_default(),
        }),
    })
}

/// `order`: the selected prescriptions, checked, sent to the pharmacy.
fn order(input: ActionInput) -> Result<ActionOutput, PluginError> {
    let orders: Vec<Value> = input
        .records
        .iter()
        .map(fhir::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(PluginError::InvalidInput)?
        .into_iter()
        .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some("MedicationRequest"))
        .collect();
    if orders.is_empty() {
        return Err(PluginError::InvalidInput(
            "select the prescriptions to order (MedicationRequest records)".into(),
        ));
    }
    let (allergies, active) = allergies_and_medicines()?;
    let mut warnings = Vec::new();
    for order in &orders {
        for finding in check(&medicine_of(order), &allergies, &active) {
            match finding {
                Check::Allergy(allergy, class) => {
                    return Ok(ActionOutput::message(format!(
                        "Not ordered: {} is one of the {class}, and you are allergic to {allergy}. Ask your doctor for an alternative.",
                        label_of(order)
                    )));
                }
                Check::Duplicate(other, class) => warnings.push(format!(
                    "{} and {other} are both {class} (duplicate therapy): check with your doctor",
                    label_of(order)
                )),
                Check::Ok => {}
            }
        }
    }
    let url = host::setting("orders_url")
        .ok_or_else(|| PluginError::Failed("the plugin's manifest has no orders_url setting".into()))?;
    let order = json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": orders.iter().map(|o| json!({"resource": o})).collect::<Vec<_>>(),
    });
    let (status, answer) = host::post_json(&url, &order).map_err(PluginError::Failed)?;
    if !(200..300).contains(&status) || answer.get("resourceType").and_then(Value::as_str) != Some("Task") {
        return Err(PluginError::Failed(format!(
            "the pharmacy did not accept the order (HTTP {status})"
        )));
    }
    host::propose(&answer).map_err(PluginError::Denied)?;
    let mut message = format!(
        "Ordered {} medicine(s); the pharmacy says: {}.",
        orders.len(),
        answer.get("status").and_then(Value::as_str).unwrap_or("received")
    );
    for w in warnings {
        message.push_str(&format!(" Warning: {w}."));
    }
    Ok(ActionOutput {
        message,
        document: Some(Document {
            name: "order.json".into(),
            media_type: "application/fhir+json".into(),
            bytes: serde_json::to_vec_pretty(&order).unwrap_or_default(),
        }),
    })
}

register_plugin!(EPharmacy);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penicillin_allergy_blocks_amoxicillin() {
        let found = check("amoxicillin 500 mg capsule", &["penicillin".into()], &[]);
        assert_eq!(
            found,
            vec![Check::Allergy("penicillin".into(), "penicillins".into())]
        );
        assert!(check("azithromycin 250 mg", &["penicillin".into()], &[]).is_empty());
    }

    #[test]
    fn duplicate_therapy_is_flagged() {
        let found = check(
            "rosuvastatin 10 mg",
            &[],
            &["atorvastatin 20 mg oral tablet".into()],
        );
        assert_eq!(
            found,
            vec![Check::Duplicate(
                "atorvastatin 20 mg oral tablet".into(),
                "statins".into()
            )]
        );
        assert!(check("metformin 500", &[], &["amlodipine 5 mg".into()]).is_empty());
    }
}
