//! Importing files, browsing, and exporting backups that stock `age` opens.

use std::collections::BTreeSet;
use std::process::Command;

use amanat_tests::{TestVault, fixture};
use serde_json::Value;

fn f(name: &str) -> String {
    fixture(name).to_str().unwrap().to_string()
}

fn resources_of(bundle: &Value) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e.get("resource").cloned())
        .collect()
}

fn as_set(values: &[Value]) -> BTreeSet<String> {
    values.iter().map(|v| serde_json::to_string(v).unwrap()).collect()
}

#[test]
fn malformed_files_are_skipped_whole_and_named_the_rest_imports() {
    let v = TestVault::new();
    let junk = v.scratch("notes.txt");
    std::fs::write(&junk, "just some text").unwrap();
    let run = v.run(&[
        "import",
        &f("malformed-bundle.json"),
        &f("lab-bundle.json"),
        &f("message-bundle.json"),
        junk.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("malformed-bundle.json: invalid FHIR at entry[2].resource.valueQuantity.value: invalid type: string \"high\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "message-bundle.json: invalid FHIR at type: a Bundle of type 'message' cannot be imported"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("notes.txt: not FHIR JSON, a PDF, a JPEG, a PNG or an Amanat backup"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("lab-bundle.json: 7 added"), "{}", run.stdout);
    assert!(run.stderr.contains("3 file(s) were skipped"), "{}", run.stderr);
    // Nothing from the malformed bundle got in, though its first entries were valid.
    assert_eq!(v.run(&["list", "--json"]).json().as_array().unwrap().len(), 7);
}

#[test]
fn identical_content_is_stored_once() {
    let v = TestVault::new();
    v.run(&["import", &f("lab-bundle.json")]).ok();
    let again = v.run(&["import", "--json", &f("lab-bundle.json")]).json();
    assert_eq!(
        (again["added"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(7))
    );
    // The same resource with keys reordered and re-indented is the same content.
    let original: Value =
        serde_json::from_slice(&std::fs::read(fixture("observation.json")).unwrap()).unwrap();
    let mut reordered = serde_json::Map::new();
    let obj = original.as_object().unwrap();
    for k in obj.keys().rev() {
        reordered.insert(k.clone(), obj[k].clone());
    }
    let p = v.scratch("reordered.json");
    std::fs::write(&p, serde_json::to_string(&Value::Object(reordered)).unwrap()).unwrap();
    v.run(&["import", &f("observation.json")]).ok();
    let second = v.run(&["import", "--json", p.to_str().unwrap()]).json();
    assert_eq!(second["duplicates"], 1);
}

#[test]
fn bundles_of_every_importable_type_and_abdm_classification() {
    let v = TestVault::new();
    v.run(&[
        "import",
        &f("transaction.json"),
        &f("abdm-prescription-document.json"),
    ])
    .ok();
    let list = v.run(&["list", "--json"]).json();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 3, "the DELETE entry adds nothing: {list}");
    for r in rows {
        assert_eq!(r["hi_type"], "Prescription", "{r}");
        let mut keys: BTreeSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        // An entry of a document names it (the document is the row above).
        if keys.remove("document") {
            assert_eq!(r["type"], "MedicationRequest", "{r}");
        }
        assert_eq!(
            keys,
            BTreeSet::from(["id", "type", "date", "title", "profile", "hi_type"])
        );
    }
    let titles: Vec<&str> = rows.iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert!(
        titles.contains(&"Prescription from AIIMS OPD · Dr. Imran Rao"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Metformin 1000 mg (1 tablet twice daily)"),
        "{titles:?}"
    );
}

#[test]
fn list_filters_and_show() {
    let v = TestVault::new();
    v.run(&["import", &f("lab-bundle.json"), &f("observation.json")])
        .ok();
    let count = |args: &[&str]| {
        let mut a = vec!["list", "--json"];
        a.extend_from_slice(args);
        v.run(&a).json().as_array().unwrap().len()
    };
    assert_eq!(count(&[]), 8);
    assert_eq!(count(&["--type", "Observation"]), 4);
    assert_eq!(
        count(&["--type", "DiagnosticReport"]),
        5,
        "the ABDM type covers lab observations and the report"
    );
    assert_eq!(count(&["--type", "condition", "--type", "VisionPrescription"]), 2);
    assert_eq!(
        count(&["--since", "2026-05"]),
        7,
        "undated records (Patient, VisionPrescription) sort by import time"
    );
    assert_eq!(count(&["--since", "2026-05-11", "--until", "2026-06"]), 1);
    assert_eq!(
        count(&["--until", "2025"]),
        1,
        "only the 2018 condition; unknown types sort by import time"
    );
    assert_eq!(count(&["--search", "hemoglobin a1c"]), 1);
    assert_eq!(
        count(&["--search", "metformin"]),
        1,
        "the report's conclusion is searchable"
    );
    assert_eq!(count(&["--limit", "3"]), 3);
    let err = v.run(&["list", "--since", "2026-13"]).fails_with(1);
    assert!(
        err.contains("--since") && err.contains("not a valid FHIR date"),
        "{err}"
    );

    let hba1c = v.first_id(&["--search", "4548-4"]);
    let shown = v.run(&["show", "--json", &hba1c[..6]]).json();
    let bundle: Value = serde_json::from_slice(&std::fs::read(fixture("lab-bundle.json")).unwrap()).unwrap();
    assert_eq!(
        shown, bundle["entry"][1]["resource"],
        "show --json gives back exactly what came in"
    );
    let text = v.run(&["show", &hba1c]).ok();
    assert!(
        text.starts_with("Hemoglobin A1c/Hemoglobin.total in Blood: 7.4 %"),
        "{text}"
    );
    assert!(
        text.contains("DiagnosticReport") && text.contains("lab-bundle.json"),
        "{text}"
    );
    v.run(&["show", "zzzzzzzz"])
        .fails_saying(1, "no record 'zzzzzzzz'");
}

#[test]
fn documents_and_images_round_trip_their_bytes() {
    let v = TestVault::new();
    let pdf = v.scratch("discharge summary.pdf");
    std::fs::write(
        &pdf,
        wallet_core::demo::simple_pdf("Discharge summary", &["Ward 4".into()]),
    )
    .unwrap();
    let png = v.scratch("xray.png");
    let png_bytes: Vec<u8> = [
        &b"\x89PNG\r\n\x1a\n"[..],
        &[0u8, 0, 0, 13],
        b"IHDR",
        &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0],
        &[0x3a, 0x7e, 0x9b, 0x55],
    ]
    .concat();
    std::fs::write(&png, &png_bytes).unwrap();
    v.run(&["import", pdf.to_str().unwrap(), png.to_str().unwrap()])
        .ok();
    let list = v.run(&["list", "--json", "--type", "DocumentReference"]).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    for row in list.as_array().unwrap() {
        let id = row["id"].as_str().unwrap();
        let out = v.scratch(&format!("{id}.bin"));
        v.run(&["show", id, "--save-attachment", out.to_str().unwrap()])
            .ok();
        let saved = std::fs::read(&out).unwrap();
        let original = if row["title"] == "xray" {
            &png_bytes
        } else {
            &std::fs::read(&pdf).unwrap()
        };
        assert_eq!(&saved, original, "{row}");
        assert_eq!(row["hi_type"], "HealthDocumentRecord");
    }
    let again = v.run(&["import", "--json", pdf.to_str().unwrap()]).json();
    assert_eq!(again["duplicates"], 1, "the same file is not stored twice");
}

pub(crate) fn stock_age() -> Command {
    let probe = Command::new("age").arg("--version").output();
    assert!(
        probe.is_ok(),
        "the stock `age` tool is needed (apt-get install age); the README test command installs it"
    );
    Command::new("age")
}

#[test]
fn export_decrypts_with_stock_age_and_restores() {
    let v = TestVault::new();
    v.run(&[
        "import",
        &f("lab-bundle.json"),
        &f("observation.json"),
        &f("transaction.json"),
    ])
    .ok();
    let key = v.scratch("key.txt");
    let keygen = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .expect("age-keygen (apt-get install age)");
    assert!(keygen.status.success());
    let recipient = String::from_utf8_lossy(&keygen.stderr)
        .split_whitespace()
        .last()
        .unwrap()
        .to_string();
    assert!(recipient.starts_with("age1"), "{recipient}");

    for armor in [false, true] {
        let out = v.scratch(&format!("backup-{armor}.age"));
        let mut args = vec!["export", "--out", out.to_str().unwrap(), "--to", &recipient];
        if armor {
            args.push("--armor");
        }
        v.run(&args).ok_saying("Exported 9 record(s)");
        let plain = stock_age()
            .arg("-d")
            .arg("-i")
            .arg(&key)
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            plain.status.success(),
            "{}",
            String::from_utf8_lossy(&plain.stderr)
        );
        let bundle: Value = serde_json::from_slice(&plain.stdout).unwrap();
        assert_eq!(bundle["resourceType"], "Bundle");
        assert_eq!(bundle["type"], "collection");
        let mut originals = Vec::new();
        for name in ["lab-bundle.json", "transaction.json"] {
            let b: Value = serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap();
            originals.extend(resources_of(&b));
        }
        originals.push(serde_json::from_slice(&std::fs::read(fixture("observation.json")).unwrap()).unwrap());
        assert_eq!(
            as_set(&resources_of(&bundle)),
            as_set(&originals),
            "the same resources, unknown fields included"
        );
    }
    v.run(&[
        "export",
        "--out",
        v.scratch("backup-false.age").to_str().unwrap(),
        "--to",
        &recipient,
    ])
    .fails_saying(1, "already exists");
    v.run(&[
        "export",
        "--out",
        v.scratch("x.age").to_str().unwrap(),
        "--to",
        "age1nope",
    ])
    .fails_saying(1, "'age1nope' is not an age recipient");

    // Restore into a new wallet with the identity.
    let fresh = TestVault::new();
    let backup = v.scratch("backup-true.age");
    let restored = fresh
        .run(&[
            "import",
            "--json",
            "--identity",
            key.to_str().unwrap(),
            backup.to_str().unwrap(),
        ])
        .json();
    assert_eq!(restored["added"], 9);
    let titles = |t: &TestVault| -> BTreeSet<String> {
        t.run(&["list", "--json", "-n", "0"])
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles(&fresh), titles(&v));
    TestVault::new()
        .run(&["import", backup.to_str().unwrap()])
        .fails_saying(1, "skipped");
}

#[test]
fn passphrase_backup_restores_in_another_wallet() {
    let v = TestVault::new();
    v.run(&["import", &f("lab-bundle.json")]).ok();
    let out = v.scratch("backup.age");
    v.run_env(
        &["export", "--passphrase", "--out", out.to_str().unwrap()],
        &[("AMANAT_EXPORT_PASSPHRASE", "backup passphrase 1")],
    )
    .ok();
    let fresh = TestVault::new();
    let wrong = fresh.run_env(
        &["import", out.to_str().unwrap()],
        &[("AMANAT_BACKUP_PASSPHRASE", "not it at all")],
    );
    assert_eq!(wrong.code, 1);
    assert!(
        wrong
            .stdout
            .contains("encrypted to a key or passphrase not given here"),
        "{}",
        wrong.stdout
    );
    let ok = fresh
        .run_env(
            &["import", "--json", out.to_str().unwrap()],
            &[("AMANAT_BACKUP_PASSPHRASE", "backup passphrase 1")],
        )
        .json();
    assert_eq!(ok["added"], 7);
}

#[test]
fn summary_shows_the_patient_at_a_glance() {
    let v = TestVault::empty();
    v.run(&["demo", "--records", "250"]).ok();
    let s = v.run(&["summary", "--json"]).json();
    let summary = &s["summary"];
    assert_eq!(summary["problems"].as_array().unwrap().len(), 3);
    assert_eq!(summary["allergies"][0]["title"], "Allergy: Penicillin");
    assert!(
        summary["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["label"].as_str().unwrap().starts_with("Hemoglobin A1c"))
    );
    let text = v.run(&["summary"]).ok();
    for heading in [
        "Problems",
        "Allergies",
        "Medications",
        "Immunizations",
        "Latest results",
        "Latest vitals",
    ] {
        assert!(text.contains(heading), "{heading} missing:\n{text}");
    }
    let zara = v.run(&["--profile", "zara", "summary", "--json"]).json();
    assert!(zara["summary"]["immunizations"].as_array().unwrap().len() >= 8);
}

/// A bundle about Ayesha Khan (CNIC 35202-1234567-4, born 1968-04-12) with one result.
fn ayesha_khans_bundle(v: &TestVault) -> String {
    let bundle = serde_json::json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p", "name": [{"given": ["Ayesha"], "family": "Khan"}],
                "birthDate": "1968-04-12", "gender": "female",
                "identifier": [{"system": "urn:oid:2.16.586.1.1", "value": "35202-1234567-4"}]}},
            {"resource": {"resourceType": "Observation", "status": "final", "category": [{"coding": [{"code": "laboratory"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}], "text": "HbA1c"},
                "subject": {"reference": "Patient/p"}, "effectiveDateTime": "2025-10-01",
                "valueQuantity": {"value": 7.2, "unit": "%"}}}
        ]
    });
    let path = v.scratch("ayesha-khan.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_file_about_someone_else_is_refused_naming_both_and_adds_nothing() {
    // The wallet of a nine-year-old; the file is about a woman born in 1968.
    let v = TestVault::empty();
    v.run(&[
        "init",
        "--name",
        "Zara Siddiqui",
        "--cnic",
        "35202-7654321-8",
        "--birth-date",
        "2016-09-03",
    ])
    .ok();
    let file = ayesha_khans_bundle(&v);
    let run = v.run(&["import", &file]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let refused = run.stdout;
    assert!(
        refused.contains("this file is about Ayesha Khan, born 1968-04-12, female, CNIC 35202-1234567-4")
            && refused.contains("the profile 'zara' is Zara Siddiqui, born 2016-09-03, CNIC 35202-7654321-8")
            && refused.contains("CNIC 35202-1234567-4 in the file, 35202-7654321-8 in the profile"),
        "{refused}"
    );
    assert_eq!(
        v.run(&["list", "--json"]).json().as_array().unwrap().len(),
        0,
        "nothing added"
    );
    // The patient may say it is theirs after all; each record keeps whom
    // its file was about, in the CLI and in what the web's record page reads.
    v.run(&["import", "--accept-mismatch", &file])
        .ok_saying("2 added");
    let id = v.first_id(&[]);
    let shown = v.run(&["show", &id]).ok();
    assert!(
        shown.contains(
            "imported from ayesha-khan.json, about Ayesha Khan, born 1968-04-12, female, CNIC 35202-1234567-4"
        ),
        "{shown}"
    );
}

#[test]
fn a_file_goes_to_the_profile_it_is_about_among_three() {
    let v = TestVault::empty();
    v.run(&["init", "--name", "Imran Khan", "--birth-date", "1965-01-20"])
        .ok();
    v.run(&[
        "profile",
        "add",
        "--name",
        "Zara Khan",
        "--handle",
        "zara",
        "--birth-date",
        "2016-09-03",
    ])
    .ok();
    v.run(&[
        "profile",
        "add",
        "--name",
        "عائشہ خان",
        "--handle",
        "ammi",
        "--cnic",
        "35202-1234567-4",
    ])
    .ok();
    let file = ayesha_khans_bundle(&v);
    // No --profile: the file's CNIC names her mother's profile, and the import says so.
    v.run(&["import", &file])
        .ok_saying("2 added into 'ammi' (whom the file is about)");
    let ammi = v.run(&["--profile", "ammi", "list", "--json"]).json();
    assert_eq!(ammi.as_array().unwrap().len(), 2);
    assert_eq!(v.run(&["list", "--json"]).json().as_array().unwrap().len(), 0);
    // Chosen by hand for the wrong person: refused.
    let run = v.run(&["--profile", "zara", "import", &file]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("the profile 'zara' is Zara Khan, born 2016-09-03"),
        "{}",
        run.stdout
    );
    // A wallet made without a name says nothing of whom it is: the file goes
    // in, and a note says how to make the profile that person.
    let blank = TestVault::empty();
    blank.run(&["init"]).ok();
    let out = blank
        .run(&["import", &ayesha_khans_bundle(&blank)])
        .ok_saying("2 added");
    assert!(
        out.contains("is about Ayesha Khan, born 1968-04-12, female, CNIC 35202-1234567-4; `amanat import --fill-profile`"),
        "{out}"
    );
    assert_eq!(
        blank.run(&["whoami", "--json"]).json()["profiles"][0]["name"],
        "Me"
    );
}

#[test]
fn a_blank_profile_is_filled_from_the_file_on_confirmation() {
    let v = TestVault::empty();
    v.run(&["init"]).ok();
    let file = ayesha_khans_bundle(&v);
    let out = v.run(&["import", "--fill-profile", &file]).ok_saying("2 added");
    assert!(
        out.contains("filled   profile 'me' from ayesha-khan.json: Ayesha Khan, born 1968-04-12, female, CNIC 35202-1234567-4"),
        "{out}"
    );
    let me = &v.run(&["whoami", "--json"]).json()["profiles"][0];
    assert_eq!(
        (
            me["name"].as_str(),
            me["birth_date"].as_str(),
            me["cnic"].as_str(),
            me["gender"].as_str()
        ),
        (
            Some("Ayesha Khan"),
            Some("1968-04-12"),
            Some("35202-1234567-4"),
            Some("female")
        ),
        "{me}"
    );
    assert!(
        v.run(&["audit"])
            .ok()
            .contains("filled profile 'me' from ayesha-khan.json"),
        "the audit log says so"
    );
    // Filled once: the profile is someone now, so a file about another person
    // is refused like any other.
    let khan_again = v.run(&["import", "--fill-profile", &file]).ok();
    assert!(!khan_again.contains("filled"), "{khan_again}");
    let other = serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"text": "Bilal Ahmed"}], "birthDate": "1990-01-01",
            "identifier": [{"value": "35202-7654321-8"}]}}]});
    let path = v.scratch("bilal.json");
    std::fs::write(&path, other.to_string()).unwrap();
    v.run(&["import", "--fill-profile", path.to_str().unwrap()])
        .fails_with(1);
    assert_eq!(
        v.run(&["whoami", "--json"]).json()["profiles"][0]["name"],
        "Ayesha Khan"
    );
}
