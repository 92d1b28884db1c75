//! ABDM documents kept whole: a document of each of the seven ABDM
//! health-information types, built to the NRCES FHIR IG profiles
//! (`tests/fixtures/abdm/`: DocumentBundle, a Composition typed as ABDM
//! assigns, Patient, Practitioner, Organization, the clinical entries), is one
//! item of the timeline with its entries beneath it, its who-and-where never a
//! record of the patient; exports and shares carry it whole, once.

use std::collections::BTreeSet;

use amanat_tests::browser::{Chrome, WalletServer};
use amanat_tests::{TestRelay, TestVault, amanat_bare, fixture, write_json};
use fantoccini::Locator;
use serde_json::{Value, json};

use crate::import_export::stock_age;
use crate::sharing::share;

/// The seven documents: file, ABDM type, Composition title, the types of
/// the records filed beneath it.
const DOCUMENTS: [(&str, &str, &str, &[&str]); 7] = [
    (
        "prescription.json",
        "Prescription",
        "Prescription",
        &["MedicationRequest", "MedicationRequest"],
    ),
    (
        "diagnostic-report.json",
        "DiagnosticReport",
        "Diagnostic studies report",
        &["DiagnosticReport", "Observation", "Observation", "Observation"],
    ),
    (
        "op-consultation.json",
        "OPConsultation",
        "Consultation Report",
        &["AllergyIntolerance", "Condition", "Encounter", "Observation"],
    ),
    (
        "discharge-summary.json",
        "DischargeSummary",
        "Discharge Summary",
        &["Condition", "Encounter", "MedicationRequest", "Procedure"],
    ),
    (
        "immunization-record.json",
        "ImmunizationRecord",
        "Immunization Record",
        &["Immunization", "Immunization"],
    ),
    (
        "health-document.json",
        "HealthDocumentRecord",
        "Health Document",
        &["DocumentReference"],
    ),
    (
        "wellness-record.json",
        "WellnessRecord",
        "Wellness Record",
        &["Observation", "Observation", "Observation"],
    ),
];

fn abdm(name: &str) -> String {
    fixture(&format!("abdm/{name}")).to_str().unwrap().to_string()
}

/// A wallet for the patient the documents are about.
fn priya() -> TestVault {
    let v = TestVault::empty();
    v.run(&[
        "init",
        "--name",
        "Priya Sharma",
        "--abha-number",
        "91-5544-3322-1100",
        "--birth-date",
        "1981-07-23",
        "--gender",
        "female",
    ])
    .ok();
    v
}

fn rows(v: &TestVault) -> Vec<Value> {
    v.run(&["list", "--json", "-n", "0"])
        .json()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn each_abdm_document_is_one_item_with_its_entries_beneath_it() {
    let v = priya();
    let mut total = 0;
    for (file, hi_type, title, members) in DOCUMENTS {
        let before: BTreeSet<String> = rows(&v).iter().map(|r| r["id"].to_string()).collect();
        let imported = v.run(&["import", "--json", &abdm(file)]).json();
        assert_eq!(imported["added"], members.len() + 1, "{file}: {imported}");
        total += members.len() + 1;
        let new: Vec<Value> = rows(&v)
            .into_iter()
            .filter(|r| !before.contains(&r["id"].to_string()))
            .collect();
        let documents: Vec<&Value> = new.iter().filter(|r| r["type"] == "Bundle").collect();
        assert_eq!(documents.len(), 1, "{file}: one item for the document: {new:?}");
        let doc = documents[0];
        assert_eq!(doc["hi_type"], hi_type, "{file}: typed from its Composition");
        assert_eq!(
            doc["title"],
            format!("{title} · Dr. Anjali Mehta · Safdarjung Health Centre, New Delhi"),
            "{file}: what, by whom, where"
        );
        let mut beneath: Vec<&str> = new
            .iter()
            .filter(|r| r["document"] == doc["id"])
            .map(|r| r["type"].as_str().unwrap())
            .collect();
        beneath.sort_unstable();
        assert_eq!(beneath, members, "{file}: its clinical entries, beneath it");
    }
    let all = rows(&v);
    assert_eq!(all.len(), total);
    let kinds: BTreeSet<&str> = all.iter().map(|r| r["type"].as_str().unwrap()).collect();
    for context in ["Composition", "Patient", "Practitioner", "Organization"] {
        assert!(
            !kinds.contains(context),
            "{context} is not a record of the patient: {kinds:?}"
        );
    }
    // The table shows each entry beneath its document.
    let table = v.run(&["list", "-n", "0"]).ok();
    let lines: Vec<&str> = table.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Diagnostic studies report · Dr. Anjali Mehta"))
        .unwrap();
    for line in &lines[at + 1..at + 5] {
        assert!(line.contains("  └ "), "{table}");
    }

    // The lab document reads as a document, its report's results beneath it.
    let report = all
        .iter()
        .find(|r| r["hi_type"] == "DiagnosticReport" && r["type"] == "Bundle")
        .unwrap();
    let shown = v.run(&["show", report["id"].as_str().unwrap()]).ok();
    for words in [
        "by:       Dr. Anjali Mehta",
        "facility: Safdarjung Health Centre, New Delhi",
        "Laboratory report\n  - Diabetes and anaemia panel\n      Hemoglobin A1c/Hemoglobin.total in Blood: 7.4 %",
    ] {
        assert!(shown.contains(words), "{words:?} in:\n{shown}");
    }
    // An entry says which document it is part of, and where that came from.
    let hba1c = v.first_id(&["--type", "Observation", "--search", "a1c"]);
    let entry = v.run(&["show", &hba1c]).ok();
    assert!(
        entry.contains("source:   in the document “Diagnostic studies report")
            && entry.contains("imported from diagnostic-report.json, about Priya Sharma")
            && entry.contains(&format!("document: {}", report["id"].as_str().unwrap())),
        "{entry}"
    );

    // Lab values with no category are results; vitals are vital signs only.
    let summary = v.run(&["summary", "--json"]).json()["summary"].clone();
    let labels = |part: &str| -> Vec<String> {
        summary[part]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["label"].as_str().unwrap().to_string())
            .collect()
    };
    let (results, vitals) = (labels("results"), labels("vitals"));
    for lab in ["Hemoglobin A1c", "Fasting glucose", "Hemoglobin [Mass"] {
        assert!(results.iter().any(|r| r.starts_with(lab)), "{lab} in {results:?}");
        assert!(
            !vitals.iter().any(|r| r.starts_with(lab)),
            "{lab} not in {vitals:?}"
        );
    }
    for vital in ["Body weight", "Heart rate", "Blood pressure"] {
        assert!(
            vitals.iter().any(|r| r.starts_with(vital)),
            "{vital} in {vitals:?}"
        );
    }

    // The same document again adds nothing.
    let again = v
        .run(&["import", "--json", &abdm("diagnostic-report.json")])
        .json();
    assert_eq!(
        (again["added"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(5))
    );
}

#[test]
fn exports_and_shares_carry_a_document_whole_once() {
    let v = priya();
    let files: Vec<String> = DOCUMENTS.iter().map(|d| abdm(d.0)).collect();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    v.run(&args).ok_saying("Imported 27 new record(s)");

    // The backup holds each document once, exactly as it came, and no entry twice.
    let key = v.scratch("key.txt");
    let keygen = std::process::Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .expect("age-keygen");
    let recipient = String::from_utf8_lossy(&keygen.stderr)
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    let backup = v.scratch("backup.age");
    v.run(&["export", "--out", backup.to_str().unwrap(), "--to", &recipient])
        .ok_saying("Exported 27 record(s)");
    let plain = stock_age()
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&backup)
        .output()
        .unwrap();
    assert!(plain.status.success());
    let bundle: Value = serde_json::from_slice(&plain.stdout).unwrap();
    let exported: Vec<&Value> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    assert_eq!(exported.len(), 7, "seven documents, their entries inside them");
    for file in &files {
        let original: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        assert!(exported.contains(&&original), "{file} is in the backup, whole");
    }
    // Restored, the wallet is as it was.
    let restored = priya();
    restored
        .run(&[
            "import",
            "--identity",
            key.to_str().unwrap(),
            backup.to_str().unwrap(),
        ])
        .ok_saying("Imported 27 new record(s)");
    let titles = |w: &TestVault| -> BTreeSet<(String, Option<bool>)> {
        rows(w)
            .iter()
            .map(|r| {
                (
                    r["title"].as_str().unwrap().to_string(),
                    Some(r["document"].is_string()),
                )
            })
            .collect()
    };
    assert_eq!(titles(&restored), titles(&v));

    // Sharing by kind shares the document whole, not its entries a second time.
    let made = share(&v, &["--type", "DiagnosticReport", "--offline"]);
    let shared: Vec<&str> = made["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(shared, ["Bundle"], "{made}");
    let link = made["link"].as_str().unwrap();
    let seen = amanat_bare(&["receive", link], &[]).ok();
    for words in [
        "VERIFIED share from Priya Sharma",
        "Diagnostic studies report · Dr. Anjali Mehta",
        "└ Diabetes and anaemia panel",
        "Hemoglobin [Mass/volume] in Blood: 11.6 g/dL",
    ] {
        assert!(seen.contains(words), "{words:?} in:\n{seen}");
    }
    let received = amanat_bare(&["receive", "--json", link], &[]).json();
    let original: Value =
        serde_json::from_slice(&std::fs::read(abdm("diagnostic-report.json")).unwrap()).unwrap();
    assert_eq!(
        received["records"],
        json!([original]),
        "the document, whole and verified"
    );
}

#[test]
fn a_damaged_or_someone_elses_document_adds_nothing() {
    let v = priya();
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(abdm("diagnostic-report.json")).unwrap()).unwrap();
    // A result inside the document with a value that is not a number.
    let entries = doc["entry"].as_array_mut().unwrap();
    let at = entries
        .iter()
        .position(|e| e["resource"]["resourceType"] == "Observation")
        .unwrap();
    entries[at]["resource"]["valueQuantity"]["value"] = json!("high");
    let damaged = v.scratch("damaged.json");
    write_json(&damaged, &doc);
    let run = v.run(&["import", damaged.to_str().unwrap()]);
    let err = run.stdout.clone();
    run.fails_with(1);
    assert!(
        err.contains(&format!(
            "invalid FHIR at entry[{at}].resource.valueQuantity.value"
        )),
        "{err}"
    );
    // A document with no Composition is no document.
    let mut headless: Value =
        serde_json::from_slice(&std::fs::read(abdm("prescription.json")).unwrap()).unwrap();
    headless["entry"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["resource"]["resourceType"] != "Composition");
    let headless_file = v.scratch("headless.json");
    write_json(&headless_file, &headless);
    let run = v.run(&["import", headless_file.to_str().unwrap()]);
    let err = run.stdout.clone();
    run.fails_with(1);
    assert!(
        err.contains("a document's first entry must be its Composition"),
        "{err}"
    );
    assert!(rows(&v).is_empty(), "nothing was added");

    // The patient inside a document is compared with the profile like any other.
    let ayesha = TestVault::new();
    let run = ayesha.run(&["import", &abdm("wellness-record.json")]);
    let err = format!("{}{}", run.stdout, run.stderr);
    run.fails_with(1);
    assert!(
        err.contains("Priya Sharma") && err.contains("Ayesha Siddiqui"),
        "{err}"
    );
    assert!(rows(&ayesha).is_empty(), "nothing was added");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_wallet_and_the_doctors_phone_show_a_document_with_its_entries() {
    let v = priya();
    v.run(&["import", &abdm("diagnostic-report.json")]).ok();
    let relay = TestRelay::start(0);
    // And a record about someone else, imported anyway.
    let stranger = v.scratch("stranger.json");
    write_json(
        &stranger,
        &json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"text": "Ayesha Khan"}],
                "identifier": [{"value": "35202-1234567-4"}]}},
            {"resource": {"resourceType": "Condition", "code": {"text": "Asthma"},
                "subject": {"reference": "Patient/k"}}}]}),
    );
    v.run(&["import", "--accept-mismatch", stranger.to_str().unwrap()])
        .ok();
    let asthma = v.first_id(&["--type", "Condition"]);
    let document = v.first_id(&["--type", "Bundle"]);
    let made = share(&v, &[&document, &asthma, "--relay", &relay.url]);
    let link = made["link"].as_str().unwrap().to_string();
    let hba1c = v.first_id(&["--type", "Observation", "--search", "a1c"]);
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let phone = Chrome::phone().await;
    let c = &phone.client;
    c.goto(&server.url).await.unwrap();
    phone.wait("[data-testid=patient-name]").await;

    // The timeline: the document, its four entries beneath it.
    c.goto(&format!("{}/#/records", server.base)).await.unwrap();
    phone.wait_text("[data-testid=record-count]", "7").await;
    let members = c
        .find_all(Locator::Css("[data-testid=record-row].member"))
        .await
        .unwrap();
    assert_eq!(members.len(), 4, "the entries are shown beneath the document");
    let mut rows = Vec::new();
    for row in c
        .find_all(Locator::Css("[data-testid=record-row]"))
        .await
        .unwrap()
    {
        let class = row.attr("class").await.unwrap().unwrap_or_default();
        rows.push((row.text().await.unwrap(), class.contains("member")));
    }
    let at = rows
        .iter()
        .position(|(text, _)| text.contains("Diagnostic studies report · Dr. Anjali Mehta"))
        .unwrap();
    let beneath: Vec<bool> = rows[at..].iter().map(|(_, member)| *member).collect();
    assert_eq!(beneath, [false, true, true, true, true], "{rows:?}");
    assert_eq!(phone.overflow_x().await, 0);
    phone.shot("document-timeline-phone").await;

    // The document's page reads like the paper: who, where, its sections.
    c.goto(&format!("{}/#/record/{document}", server.base))
        .await
        .unwrap();
    let outline = phone
        .wait_text("[data-testid=document-outline]", "Hemoglobin A1c")
        .await;
    for words in [
        "Dr. Anjali Mehta",
        "Safdarjung Health Centre, New Delhi",
        "Laboratory report",
        "Diabetes and anaemia panel",
        "Hemoglobin [Mass/volume] in Blood: 11.6 g/dL",
    ] {
        assert!(outline.contains(words), "{words:?} in {outline}");
    }
    phone.shot("document-record-phone").await;
    // An entry's page leads back to its document.
    c.goto(&format!("{}/#/record/{hba1c}", server.base))
        .await
        .unwrap();
    phone.click("[data-testid=part-of]").await;
    phone
        .wait_text("[data-testid=document-outline]", "Diabetes and anaemia panel")
        .await;

    // The doctor's phone opens the share: the document, verified, whole.
    c.goto("about:blank").await.unwrap();
    c.goto(&link).await.unwrap();
    phone.wait("[data-testid=verified]").await;
    phone.click("[data-testid=received-record] summary").await;
    let seen = phone
        .wait_text(
            "[data-testid=received-record] [data-testid=document-outline]",
            "11.6 g/dL",
        )
        .await;
    assert!(
        seen.contains("Dr. Anjali Mehta") && seen.contains("Fasting glucose"),
        "{seen}"
    );
    // The record about someone else says so, before it is opened.
    let origin = phone
        .wait_text("[data-testid=record-origin]", "Ayesha Khan")
        .await;
    assert!(
        origin.contains("From a file about Ayesha Khan, CNIC 35202-1234567-4"),
        "{origin}"
    );
    let origins = c
        .find_all(Locator::Css("[data-testid=record-origin]"))
        .await
        .unwrap();
    assert_eq!(origins.len(), 1, "the document is hers: no warning on it");
    assert_eq!(phone.overflow_x().await, 0);
    phone.shot("document-viewer-phone").await;
}
