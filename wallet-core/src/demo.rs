//! A synthetic, clinically plausible patient for demos and benchmarks.
//!
//! Ayesha Siddiqui (born 1968, Lahore) has type 2 diabetes, hypertension and high
//! cholesterol, a penicillin allergy, and eight years of follow-up: quarterly HbA1c
//! falling from 8.9 % as treatment takes hold, fasting glucose, clinic blood
//! pressure and weight, visits, prescriptions, vaccinations and a few PDF reports.
//! Her daughter Zara (born 2016) has her childhood vaccinations. Asking for more
//! records adds home glucose and blood-pressure readings, as a glucometer or cuff
//! that syncs to the wallet would. Everything is generated from a seed, so the
//! same call gives the same data; nothing here is a real person.

use serde_json::{Value, json};

use crate::fhir::date::FhirDateTime;

const DAY: i64 = 86_400;

/// Deterministic pseudo-random numbers (SplitMix64); not for cryptography.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    /// Roughly normal (sum of uniforms), mean 0, sd 1.
    fn gauss(&mut self) -> f64 {
        (0..6).map(|_| self.range(-1.0, 1.0)).sum::<f64>() / 1.414
    }
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

fn date_time(t: i64) -> String {
    // Clinic times in Pakistan Standard Time (+05:00).
    let local = FhirDateTime::from_unix(t + 5 * 3600);
    format!("{}+05:00", local.as_str().trim_end_matches('Z'))
}

fn day(t: i64) -> String {
    FhirDateTime::from_unix(t).day().to_string()
}

/// The demo family: the owner's resources and her daughter's.
#[derive(Debug, Clone)]
pub struct DemoFamily {
    /// Ayesha's records (FHIR resources as JSON).
    pub owner: Vec<Value>,
    /// Zara's records.
    pub child: Vec<Value>,
}

/// Ayesha's profile details.
pub const OWNER_NAME: &str = "Ayesha Siddiqui";
/// Ayesha's birth date.
pub const OWNER_BIRTH_DATE: &str = "1968-04-12";
/// Ayesha's (synthetic) CNIC.
pub const OWNER_CNIC: &str = "35202-1234567-2";
/// Zara's profile details.
pub const CHILD_NAME: &str = "Zara Siddiqui";
/// Zara's birth date.
pub const CHILD_BIRTH_DATE: &str = "2016-09-03";

struct Builder {
    rng: Rng,
    today: i64,
    out: Vec<Value>,
    seq: u64,
}

impl Builder {
    fn id(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{:06}", self.seq)
    }

    fn subject() -> Value {
        json!({"reference": "Patient/ayesha", "display": OWNER_NAME})
    }

    #[allow(clippy::too_many_arguments)]
    fn lab(
        &mut self,
        t: i64,
        loinc: &str,
        display: &str,
        value: f64,
        unit: &str,
        ucum: &str,
        low: f64,
        high: f64,
        category: &str,
        performer: &str,
    ) {
        let interpretation = if value > high {
            ("H", "High")
        } else if value < low {
            ("L", "Low")
        } else {
            ("N", "Normal")
        };
        let id = self.id("obs");
        let (cat_code, cat_display) = if category == "laboratory" {
            ("laboratory", "Laboratory")
        } else {
            ("vital-signs", "Vital Signs")
        };
        self.out.push(json!({
            "resourceType": "Observation",
            "id": id,
            "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Observation"], "lastUpdated": date_time(t + 3600)},
            "identifier": [{"system": "urn:amanat:demo:observation", "value": id}],
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": cat_code, "display": cat_display}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": loinc, "display": display}], "text": display},
            "subject": Self::subject(),
            "effectiveDateTime": date_time(t),
            "issued": format!("{}Z", FhirDateTime::from_unix(t + 3 * 3600).as_str().trim_end_matches('Z')),
            "performer": [{"display": performer}],
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum},
            "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": interpretation.0, "display": interpretation.1}]}],
            "referenceRange": [{"low": {"value": low, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum},
                                 "high": {"value": high, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum},
                                 "text": format!("{low}-{high} {unit}")}],
        }));
    }

    fn blood_pressure(&mut self, t: i64, systolic: f64, diastolic: f64, performer: &str) {
        let id = self.id("bp");
        let component = |code: &str, display: &str, v: f64, high: f64| {
            json!({
                "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
                "valueQuantity": {"value": v, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"},
                "interpretation": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                    "code": if v > high { "H" } else { "N" }, "display": if v > high { "High" } else { "Normal" }}]}],
                "referenceRange": [{"high": {"value": high, "unit": "mmHg"}, "text": format!("below {high} mmHg")}],
            })
        };
        self.out.push(json!({
            "resourceType": "Observation",
            "id": id,
            "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/bp"]},
            "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs", "display": "Vital Signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel with all children optional"}], "text": "Blood pressure"},
            "subject": Self::subject(),
            "effectiveDateTime": date_time(t),
            "performer": [{"display": performer}],
            "component": [component("8480-6", "Systolic blood pressure", systolic, 130.0), component("8462-4", "Diastolic blood pressure", diastolic, 80.0)],
        }));
    }

    fn condition(&mut self, onset: i64, snomed: &str, icd: &str, display: &str) {
        let id = self.id("cond");
        self.out.push(json!({
            "resourceType": "Condition",
            "id": id,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active", "display": "Active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item", "display": "Problem List Item"}]}],
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": snomed, "display": display},
                                 {"system": "http://hl7.org/fhir/sid/icd-10", "code": icd}], "text": display},
            "subject": Self::subject(),
            "onsetDateTime": day(onset),
            "recordedDate": day(onset),
        }));
    }

    fn medication(&mut self, t: i64, rxnorm: &str, display: &str, dose: &str, status: &str) {
        let id = self.id("med");
        self.out.push(json!({
            "resourceType": "MedicationRequest",
            "id": id,
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxnorm, "display": display}], "text": display},
            "subject": Self::subject(),
            "authoredOn": day(t),
            "requester": {"display": "Dr. Imran Rao, Services Hospital Lahore"},
            "dosageInstruction": [{"text": dose}],
        }));
    }

    fn immunization(&mut self, t: i64, cvx: &str, display: &str, patient: Value) {
        let id = self.id("imm");
        self.out.push(json!({
            "resourceType": "Immunization",
            "id": id,
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": cvx, "display": display}], "text": display},
            "patient": patient,
            "occurrenceDateTime": day(t),
            "lotNumber": format!("LOT{}", 1000 + self.rng.next() % 9000),
        }));
    }

    fn encounter(&mut self, t: i64, reason: &str) {
        let id = self.id("enc");
        self.out.push(json!({
            "resourceType": "Encounter",
            "id": id,
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
            "type": [{"text": "Diabetes clinic follow-up"}],
            "subject": Self::subject(),
            "period": {"start": date_time(t), "end": date_time(t + 1800)},
            "reasonCode": [{"text": reason}],
            "serviceProvider": {"display": "Services Hospital, Lahore"},
        }));
    }

    fn pdf(&mut self, t: i64, title: &str, lines: &[String]) {
        use base64::Engine;
        let bytes = simple_pdf(title, lines);
        let id = self.id("doc");
        self.out.push(json!({
            "resourceType": "DocumentReference",
            "id": id,
            "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2", "display": "Laboratory report"}]},
            "subject": Self::subject(),
            "date": date_time(t),
            "description": title,
            "content": [{"attachment": {
                "contentType": "application/pdf",
                "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
                "size": bytes.len(),
                "title": format!("{}.pdf", title.to_lowercase().replace(' ', "-")),
                "creation": date_time(t),
            }}],
        }));
    }
}

/// Builds the demo family. `records` is the owner's record count (at least the
/// core history, about 150); `today` anchors the timeline.
pub fn family(records: usize, today: i64, seed: u64) -> DemoFamily {
    let mut b = Builder {
        rng: Rng(seed),
        today,
        out: Vec::new(),
        seq: 0,
    };
    let years = 8;
    let start = today - years * 365 * DAY;
    b.out.push(json!({
        "resourceType": "Patient",
        "id": "ayesha",
        "identifier": [{"system": "urn:oid:2.16.586.1.1", "type": {"text": "CNIC"}, "value": OWNER_CNIC}],
        "name": [{"text": OWNER_NAME, "family": "Siddiqui", "given": ["Ayesha"]}, {"text": "عائشہ صدیقی"}],
        "gender": "female",
        "birthDate": OWNER_BIRTH_DATE,
        "address": [{"city": "Lahore", "country": "PK"}],
    }));
    b.condition(start, "44054006", "E11.9", "Type 2 diabetes mellitus");
    b.condition(start + 200 * DAY, "38341003", "I10", "Essential hypertension");
    b.condition(start + 700 * DAY, "55822004", "E78.5", "Hyperlipidemia");
    b.out.push(json!({
        "resourceType": "AllergyIntolerance",
        "id": "allergy-penicillin",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}]},
        "category": ["medication"],
        "criticality": "high",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005", "display": "Allergy to penicillin"}], "text": "Penicillin"},
        "patient": Builder::subject(),
        "recordedDate": day(start - 3000 * DAY),
        "reaction": [{"manifestation": [{"text": "Hives and facial swelling"}], "severity": "severe"}],
    }));
    b.medication(
        start + 10 * DAY,
        "860975",
        "Metformin 500 mg oral tablet",
        "500 mg twice daily with meals",
        "completed",
    );
    b.medication(
        start + 400 * DAY,
        "861004",
        "Metformin 1000 mg oral tablet",
        "1000 mg twice daily with meals",
        "active",
    );
    b.medication(
        start + 210 * DAY,
        "197361",
        "Amlodipine 5 mg oral tablet",
        "5 mg once daily",
        "active",
    );
    b.medication(
        start + 710 * DAY,
        "617310",
        "Atorvastatin 20 mg oral tablet",
        "20 mg at night",
        "active",
    );
    b.medication(
        start + 1500 * DAY,
        "1373463",
        "Empagliflozin 10 mg oral tablet",
        "10 mg once daily in the morning",
        "active",
    );
    let person = Builder::subject();
    for y in 0..years {
        b.immunization(
            start + (y * 365 + 280) * DAY,
            "158",
            "Influenza, seasonal, injectable",
            person.clone(),
        );
    }
    b.immunization(
        start + 900 * DAY,
        "208",
        "COVID-19, mRNA, 30 mcg/0.3 mL",
        person.clone(),
    );
    b.immunization(
        start + 930 * DAY,
        "208",
        "COVID-19, mRNA, 30 mcg/0.3 mL",
        person.clone(),
    );
    b.immunization(start + 1200 * DAY, "115", "Tdap", person);

    // Quarterly clinic visits: HbA1c, fasting glucose, blood pressure, weight.
    let visits = years * 4;
    for q in 0..visits {
        let t = start + q * 91 * DAY + (b.rng.next() % 10) as i64 * DAY + 9 * 3600;
        let progress = q as f64 / visits as f64;
        let hba1c = round(
            8.9 - 1.9 * (1.0 - (-4.0 * progress).exp()) + 0.25 * b.rng.gauss(),
            1,
        );
        let glucose = round(28.7 * hba1c - 46.7 + 8.0 * b.rng.gauss(), 0);
        b.encounter(t, "Type 2 diabetes and hypertension review");
        b.lab(
            t,
            "4548-4",
            "Hemoglobin A1c/Hemoglobin.total in Blood",
            hba1c,
            "%",
            "%",
            4.0,
            5.6,
            "laboratory",
            "Chughtai Lab, Lahore",
        );
        b.lab(
            t,
            "1558-6",
            "Fasting glucose [Mass/volume] in Serum or Plasma",
            glucose,
            "mg/dL",
            "mg/dL",
            70.0,
            99.0,
            "laboratory",
            "Chughtai Lab, Lahore",
        );
        let systolic = round(152.0 - 20.0 * progress.min(0.6) / 0.6 + 5.0 * b.rng.gauss(), 0);
        let diastolic = round(94.0 - 12.0 * progress.min(0.6) / 0.6 + 3.0 * b.rng.gauss(), 0);
        b.blood_pressure(t, systolic, diastolic, "Services Hospital, Lahore");
        let weight = round(79.0 - 6.0 * progress + 0.6 * b.rng.gauss(), 1);
        b.lab(
            t,
            "29463-7",
            "Body weight",
            weight,
            "kg",
            "kg",
            45.0,
            75.0,
            "vital-signs",
            "Services Hospital, Lahore",
        );
        if q % 4 == 3 {
            let ldl = round(160.0 - 60.0 * progress + 8.0 * b.rng.gauss(), 0);
            b.lab(
                t,
                "13457-7",
                "LDL cholesterol (calculated)",
                ldl,
                "mg/dL",
                "mg/dL",
                0.0,
                100.0,
                "laboratory",
                "Chughtai Lab, Lahore",
            );
            let creatinine = round(0.8 + 0.1 * progress + 0.05 * b.rng.gauss(), 2);
            b.lab(
                t,
                "2160-0",
                "Creatinine [Mass/volume] in Serum or Plasma",
                creatinine,
                "mg/dL",
                "mg/dL",
                0.5,
                1.1,
                "laboratory",
                "Chughtai Lab, Lahore",
            );
        }
        if q % 11 == 5 {
            let lines = vec![
                format!("Patient: {OWNER_NAME}   CNIC: {OWNER_CNIC}"),
                format!("Date: {}", day(t)),
                format!("HbA1c: {hba1c} %  (reference 4.0-5.6)"),
                format!("Fasting glucose: {glucose} mg/dL  (reference 70-99)"),
                "Synthetic demo report - not a real patient.".to_string(),
            ];
            b.pdf(t, "Chughtai Lab report", &lines);
        }
    }

    // Home readings fill the rest, from yesterday backwards so any count ends now,
    // and never further back than the history: a large count means a
    // continuous glucose monitor taking many readings a day.
    let midnight = b.today - b.today.rem_euclid(DAY);
    let remaining = records.saturating_sub(b.out.len()) as i64;
    let history_days = years * 365 - 1;
    let per_day = ((remaining + history_days - 1) / history_days).max(2);
    let mut days_back = 1;
    while b.out.len() < records {
        let base = midnight - days_back * DAY;
        let progress = ((base - start) as f64 / (b.today - start) as f64).clamp(0.0, 1.0);
        for slot in 0..per_day {
            if b.out.len() >= records {
                break;
            }
            if slot == 1 {
                let systolic = round(148.0 - 16.0 * progress + 6.0 * b.rng.gauss(), 0);
                let diastolic = round(92.0 - 10.0 * progress + 4.0 * b.rng.gauss(), 0);
                b.blood_pressure(
                    base + 14 * 3600,
                    systolic,
                    diastolic,
                    "Home blood pressure monitor",
                );
            } else {
                let t = base + 2 * 3600 + slot * (DAY - 3 * 3600) / per_day;
                let glucose = round(150.0 - 35.0 * progress + 14.0 * b.rng.gauss(), 0);
                b.lab(
                    t,
                    "2339-0",
                    "Glucose [Mass/volume] in Blood (home glucometer)",
                    glucose,
                    "mg/dL",
                    "mg/dL",
                    70.0,
                    130.0,
                    "laboratory",
                    "Home glucometer",
                );
            }
        }
        days_back += 1;
    }
    b.out.truncate(records.max(1));
    let owner = std::mem::take(&mut b.out);

    // Zara's childhood vaccinations (Pakistan's EPI schedule).
    let born = FhirDateTime::parse(CHILD_BIRTH_DATE)
        .map(|d| d.start())
        .unwrap_or(today - 3650 * DAY);
    let zara = json!({"reference": "Patient/zara", "display": CHILD_NAME});
    for (days, cvx, name) in [
        (0, "19", "BCG"),
        (0, "179", "OPV-0 (oral polio)"),
        (42, "102", "Pentavalent 1 (DTP-HepB-Hib)"),
        (42, "133", "PCV10 1 (pneumococcal)"),
        (70, "102", "Pentavalent 2 (DTP-HepB-Hib)"),
        (98, "102", "Pentavalent 3 (DTP-HepB-Hib)"),
        (98, "10", "IPV (inactivated polio)"),
        (270, "05", "Measles 1"),
        (456, "05", "Measles 2"),
        (3000, "62", "HPV"),
    ] {
        if born + days * DAY <= today {
            b.immunization(born + days * DAY, cvx, name, zara.clone());
        }
    }
    b.out.push(json!({
        "resourceType": "Patient",
        "id": "zara",
        "name": [{"text": CHILD_NAME, "family": "Siddiqui", "given": ["Zara"]}],
        "gender": "female",
        "birthDate": CHILD_BIRTH_DATE,
    }));
    DemoFamily { owner, child: b.out }
}

/// A one-page PDF with the given lines of text (Helvetica), with a correct
/// cross-reference table so viewers open it without repair.
pub fn simple_pdf(title: &str, lines: &[String]) -> Vec<u8> {
    let escape = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .map(|c| match c {
                '(' | ')' | '\\' => format!("\\{c}"),
                c => c.to_string(),
            })
            .collect()
    };
    let mut content = format!("BT /F1 18 Tf 56 780 Td ({}) Tj ET\n", escape(title));
    for (i, line) in lines.iter().enumerate() {
        content.push_str(&format!(
            "BT /F1 11 Tf 56 {} Td ({}) Tj ET\n",
            740 - 18 * i as i32,
            escape(line)
        ));
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{}endstream", content.len(), content),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{}\nendobj\n", i + 1, obj).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{}\n%%EOF\n",
            objects.len() + 1,
            xref
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{HiType, Resource};

    #[test]
    fn every_demo_resource_validates() {
        let today = 1_790_000_000;
        let fam = family(400, today, 7);
        assert_eq!(fam.owner.len(), 400);
        let mut hi = std::collections::HashSet::new();
        let big = family(30_000, today, 7);
        let oldest = big
            .owner
            .iter()
            .filter_map(|r| r.get("effectiveDateTime"))
            .filter_map(|d| d.as_str())
            .min()
            .unwrap();
        assert!(oldest > "2017", "home readings stay within the history: {oldest}");
        for r in fam.owner.iter().chain(&fam.child) {
            let res = Resource::from_value(r.clone()).unwrap();
            let d = res.describe().unwrap_or_else(|e| panic!("{e} in {r}"));
            hi.insert(d.hi_type);
            if let Some(date) = d.date {
                assert!(date.start() <= today + DAY, "{r}");
            }
        }
        for t in [
            HiType::Prescription,
            HiType::DiagnosticReport,
            HiType::OPConsultation,
            HiType::ImmunizationRecord,
            HiType::WellnessRecord,
            HiType::HealthDocumentRecord,
        ] {
            assert!(hi.contains(&t), "{t:?} missing");
        }
    }

    #[test]
    fn demo_is_deterministic_and_records_are_realistic_size() {
        let a = family(2000, 1_790_000_000, 1);
        let b = family(2000, 1_790_000_000, 1);
        assert_eq!(a.owner, b.owner);
        let home: Vec<usize> = a.owner[1000..]
            .iter()
            .map(|r| serde_json::to_vec(r).unwrap().len())
            .collect();
        let mean = home.iter().sum::<usize>() / home.len();
        assert!((900..2000).contains(&mean), "mean record size {mean}");
    }

    #[test]
    fn pdf_has_valid_structure() {
        let pdf = simple_pdf("Report (test)", &["line".into()]);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        let text = String::from_utf8(pdf).unwrap();
        let xref: usize = text.lines().rev().nth(1).unwrap().parse().unwrap();
        assert!(text[xref..].starts_with("xref"));
        assert!(text.contains("Report \\(test\\)"));
    }
}
