//! Insurer claim: builds a FHIR Claim from the visit the patient selects
//! (Encounter, Conditions, Procedures, MedicationRequests) and their Coverage,
//! submits it to the insurer's claims endpoint (the `claims_url` setting of the
//! signed manifest, the only origin the plugin may reach), and proposes the Claim
//! and the insurer's ClaimResponse as records.

use amanat_plugin::fhir;
use amanat_plugin::{
    ActionInfo, ActionInput, ActionOutput, Document, Plugin, PluginError, host, register_plugin,
};
use serde_json::{Value, json};

struct InsurerClaim;

impl Plugin for InsurerClaim {
    const NAME: &'static str = "insurer-claim";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn actions() -> Vec<ActionInfo> {
        vec![amanat_plugin::action(
            "claim",
            "Sends an insurance claim for the visit, diagnoses, procedures and medicines you select",
            false,
            true,
        )]
    }

    fn run(action: &str, input: ActionInput) -> Result<ActionOutput, PluginError> {
        if action != "claim" {
            return Err(amanat_plugin::unknown_action(action));
        }
        let selected = input
            .records
            .iter()
            .map(fhir::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(PluginError::InvalidInput)?;
        let coverages = host::read_all("Coverage").map_err(PluginError::Denied)?;
        let coverage = coverages
            .iter()
            .filter_map(|r| fhir::parse(r).ok().map(|v| (r.id.clone(), v)))
            .find(|(_, v)| v.get("status").and_then(Value::as_str) == Some("active"))
            .ok_or_else(|| {
                PluginError::InvalidInput(
                    "no active insurance Coverage record: import your insurance card first".into(),
                )
            })?;
        let url = host::setting("claims_url")
            .ok_or_else(|| PluginError::Failed("the plugin's manifest has no claims_url setting".into()))?;
        let claim = build_claim(&selected, &coverage.1, &coverage.0, host::now())
            .map_err(PluginError::InvalidInput)?;
        let (status, response) = host::post_json(&url, &claim).map_err(PluginError::Failed)?;
        if !(200..300).contains(&status) {
            return Err(PluginError::Failed(format!(
                "the insurer refused the claim (HTTP {status}): {response}"
            )));
        }
        if response.get("resourceType").and_then(Value::as_str) != Some("ClaimResponse") {
            return Err(PluginError::Failed(
                "the insurer did not answer with a ClaimResponse".into(),
            ));
        }
        host::propose(&claim).map_err(PluginError::Denied)?;
        host::propose(&response).map_err(PluginError::Denied)?;
        let outcome = response
            .get("outcome")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        let disposition = response.get("disposition").and_then(Value::as_str).unwrap_or("");
        let insurer = claim["insurer"]["display"].as_str().unwrap_or("the insurer");
        Ok(ActionOutput {
            message: format!("Claim sent to {insurer}: {outcome}. {disposition}")
                .trim()
                .to_string(),
            document: Some(Document {
                name: "claim.json".into(),
                media_type: "application/fhir+json".into(),
                bytes: serde_json::to_vec_pretty(&claim).unwrap_or_default(),
            }),
        })
    }
}

register_plugin!(InsurerClaim);

/// The Claim for the selected records under a Coverage.
pub fn build_claim(
    selected: &[Value],
    coverage: &Value,
    coverage_id: &str,
    now: i64,
) -> Result<Value, String> {
    let of = |t: &'static str| {
        selected
            .iter()
            .filter(move |r| r.get("resourceType").and_then(Value::as_str) == Some(t))
    };
    let encounter = of("Encounter")
        .next()
        .ok_or("select the visit (an Encounter record) to claim for")?;
    let beneficiary = coverage
        .get("beneficiary")
        .cloned()
        .ok_or("the Coverage has no beneficiary")?;
    let insurer = coverage
        .get("payor")
        .and_then(|p| p.get(0))
        .cloned()
        .ok_or("the Coverage has no payor")?;
    let date = encounter
        .pointer("/period/start")
        .and_then(Value::as_str)
        .map(|d| d.get(..10).unwrap_or(d).to_string())
        .ok_or("the visit has no date")?;
    let diagnosis: Vec<Value> = of("Condition")
        .enumerate()
        .map(|(i, c)| json!({"sequence": i + 1, "diagnosisCodeableConcept": c.get("code").cloned().unwrap_or(json!({}))}))
        .collect();
    let procedure: Vec<Value> = of("Procedure")
        .enumerate()
        .map(|(i, p)| json!({"sequence": i + 1, "procedureCodeableConcept": p.get("code").cloned().unwrap_or(json!({}))}))
        .collect();
    let mut items = vec![json!({
        "sequence": 1,
        "productOrService": encounter.pointer("/type/0").cloned().unwrap_or(json!({"text": "Consultation"})),
        "servicedDate": date,
    })];
    for m in of("MedicationRequest") {
        items.push(json!({
            "sequence": items.len() + 1,
            "productOrService": m.get("medicationCodeableConcept").cloned().unwrap_or(json!({"text": "Medicine"})),
            "servicedDate": date,
        }));
    }
    let days = now.div_euclid(86_400);
    let created = civil_date(days);
    let mut claim = json!({
        "resourceType": "Claim",
        "id": format!("claim-{}-{}", encounter.get("id").and_then(Value::as_str).unwrap_or("visit"), days),
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim",
        "patient": beneficiary,
        "created": created,
        "insurer": insurer,
        "provider": encounter.get("serviceProvider").cloned().unwrap_or(json!({"display": "Treating provider"})),
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": true, "coverage": fhir::reference("Coverage", coverage.get("id").and_then(Value::as_str).unwrap_or(coverage_id))}],
        "item": items,
    });
    if !diagnosis.is_empty() {
        claim["diagnosis"] = json!(diagnosis);
    }
    if !procedure.is_empty() {
        claim["procedure"] = json!(procedure);
    }
    Ok(claim)
}

/// Days since 1970 to `YYYY-MM-DD` (Howard Hinnant's civil-from-days).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_from_a_visit() {
        let enc = json!({"resourceType": "Encounter", "id": "enc1", "status": "finished", "class": {"code": "AMB"},
            "type": [{"text": "Diabetes clinic follow-up"}], "period": {"start": "2026-05-10T09:00:00+05:00"},
            "serviceProvider": {"display": "Services Hospital, Lahore"}});
        let cond = json!({"resourceType": "Condition", "code": {"text": "Type 2 diabetes"}});
        let med =
            json!({"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "Metformin"}});
        let cov = json!({"resourceType": "Coverage", "id": "cov1", "status": "active",
            "beneficiary": {"reference": "Patient/ayesha"}, "payor": [{"display": "State Life Insurance"}]});
        let claim = build_claim(&[enc, cond, med], &cov, "x", 1_790_000_000).unwrap();
        assert_eq!(claim["insurer"]["display"], "State Life Insurance");
        assert_eq!(claim["item"].as_array().unwrap().len(), 2);
        assert_eq!(
            claim["diagnosis"][0]["diagnosisCodeableConcept"]["text"],
            "Type 2 diabetes"
        );
        assert_eq!(claim["created"], "2026-09-21");
        assert_eq!(claim["insurance"][0]["coverage"]["reference"], "Coverage/cov1");
        assert!(build_claim(&[], &cov, "x", 0).unwrap_err().contains("Encounter"));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
    }
}
