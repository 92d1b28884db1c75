//! Records signed by the provider who wrote them: `amanat provider
//! sign-record`, imported (file or QR photo) only when a registry the
//! patient trusts lists the signer with that key, shown as signed, and
//! verified again by the doctor a share carries them to.

use std::path::{Path, PathBuf};
use std::process::Command;

use amanat_tests::browser::{Chrome, WalletServer};
use amanat_tests::{
    TestRelay, TestVault, amanat_bare, provider, signed_registry, trust_registry, write_json,
};
use serde_json::{Value, json};

use crate::sharing::share;

const COUNCIL: &str = "Pakistan Medical & Dental Council";
const DOCTOR_PASS: (&str, &str) = ("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase");

fn prescription() -> Value {
    json!({
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "Amoxicillin 500 mg capsule"},
        "subject": {"display": "Ayesha Khan"},
        "authoredOn": "2026-11-30",
        "requester": {"display": "Dr. Imran Rao"},
        "dosageInstruction": [{"text": "1 capsule three times a day for 5 days"}]
    })
}

/// `amanat provider sign-record FILE --registry REGISTRY --identity IDENTITY` and `extra`.
fn sign_record(file: &Path, registry: &str, identity: &Path, extra: &[&str]) -> amanat_tests::Run {
    let mut args = vec![
        "provider",
        "sign-record",
        file.to_str().unwrap(),
        "--registry",
        registry,
        "--identity",
        identity.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    amanat_bare(&args, &[DOCTOR_PASS])
}

/// Dr. Rao's signed prescription, as `sign-record` writes it, and its QR
/// code; the doctor's identity file and card.
fn signed_prescription(v: &TestVault) -> (PathBuf, PathBuf, PathBuf, String) {
    let (rao, card) = provider(v, "Dr. Imran Rao", "PMDC-12345-P");
    let rx = v.scratch("rx.json");
    write_json(&rx, &prescription());
    let png = v.scratch("rx.png");
    sign_record(&rx, COUNCIL, &rao, &["--qr-png", png.to_str().unwrap()])
        .ok_saying("as Dr. Imran Rao (PMDC-12345-P, listed by Pakistan Medical & Dental Council)");
    (v.scratch("rx.amanat-record"), png, rao, card)
}

/// Imports `file`, which must be refused saying `words`.
#[track_caller]
fn import_refused(v: &TestVault, file: &std::path::Path, words: &str) {
    let run = v.run(&["import", file.to_str().unwrap()]);
    let said = run.stdout.clone();
    run.fails_with(1);
    assert!(said.contains(words), "expected {words:?} in:\n{said}");
}

/// An active penicillin allergy in `v`'s wallet.
fn import_penicillin_allergy(v: &TestVault) {
    let allergy = v.scratch("allergy.json");
    write_json(
        &allergy,
        &json!({"resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "code": {"text": "Penicillin"}, "patient": {"display": "Ayesha Siddiqui"}}),
    );
    v.run(&["import", allergy.to_str().unwrap()]).ok();
}

/// The patient trusts the council, whose snapshot lists the identity `card`s.
fn trust_council(v: &TestVault, cards: &[&str]) {
    let (thumbprint, snapshot) = signed_registry(v, cards);
    trust_registry(v, &snapshot, &thumbprint).ok();
}

#[test]
fn a_signed_prescription_imports_saying_who_signed_it_and_the_doctor_it_is_shared_with_sees_it() {
    let v = TestVault::new();
    let (record, png, _, card) = signed_prescription(&v);
    let file = record.to_str().unwrap();
    // Until the patient trusts a registry that lists Dr. Rao, it is refused.
    import_refused(
        &v,
        &record,
        "signed by Dr. Imran Rao (PMDC-12345-P), who is not listed by Pakistan Medical & Dental Council",
    );
    assert!(v.ids(&[]).is_empty(), "nothing was added");
    trust_council(&v, &[&card]);
    v.run(&["import", file]).ok_saying("1 added");

    // Provenance in list, list --json and show.
    let list = v.run(&["list"]).ok();
    assert!(
        list.contains("Amoxicillin 500 mg capsule (1 capsule three times a day for 5 days)  ✓ signed by Dr. Imran Rao (PMDC-12345-P)"),
        "{list}"
    );
    let rows = v.run(&["list", "--json"]).json();
    assert_eq!(rows[0]["vouched_by"], "signed by Dr. Imran Rao (PMDC-12345-P)");
    let id = rows[0]["id"].as_str().unwrap().to_string();
    v.run(&["show", &id]).ok_saying(
        "signed by Dr. Imran Rao (PMDC-12345-P, Pakistan Medical & Dental Council), signature verified; from rx.amanat-record",
    );
    // What is stored is exactly what was signed: its compact JSON.
    let stored = v.open().get(id.parse().unwrap()).unwrap().bytes;
    assert_eq!(stored, serde_json::to_vec(&prescription()).unwrap());

    // The QR code photographed is the same signed record (already in the
    // wallet), not a picture of one.
    v.run(&["import", png.to_str().unwrap()])
        .ok_saying("0 added, 1 already in the wallet");

    // Shared with another doctor, the signature travels and is verified again.
    let (noor, noor_card) = provider(&v, "Dr. Noor Fatima", "PMDC-99999-P");
    let card_file = v.scratch("noor.card");
    std::fs::write(&card_file, &noor_card).unwrap();
    let made = share(
        &v,
        &[
            &id,
            "--offline",
            "--to",
            card_file.to_str().unwrap(),
            "--mode",
            "store",
        ],
    );
    let link = made["link"].as_str().unwrap();
    let out_dir = v.scratch("received");
    let seen = amanat_bare(
        &[
            "receive",
            link,
            "--identity",
            noor.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &[DOCTOR_PASS],
    )
    .ok();
    assert!(
        seen.contains(
            "✓ signed by Dr. Imran Rao (PMDC-12345-P, Pakistan Medical & Dental Council), signature verified (key "
        ),
        "{seen}"
    );
    // The doctor keeps the signature with the record, and it verifies with
    // npm's jose over the saved bytes (RFC 7515 detached payload).
    let signature = std::fs::read_to_string(out_dir.join("1-MedicationRequest.signature")).unwrap();
    let saved = std::fs::read(out_dir.join("1-MedicationRequest.json")).unwrap();
    let verified = jose_verify(&v, &signature, &saved).expect("jose verifies the travelled signature");
    assert_eq!(verified["signer"]["registration"], "PMDC-12345-P");
    let mut altered = saved.clone();
    altered.extend_from_slice(b" ");
    assert!(
        jose_verify(&v, &signature, &altered).is_err(),
        "jose refused other bytes"
    );
    let json = amanat_bare(
        &["receive", "--json", link, "--identity", noor.to_str().unwrap()],
        &[DOCTOR_PASS],
    )
    .json();
    assert_eq!(json["signed_by"][0]["name"], "Dr. Imran Rao");
}

/// Verifies a detached JWS over `payload` with npm's jose; the protected
/// header on success.
fn jose_verify(v: &TestVault, detached: &str, payload: &[u8]) -> Result<Value, String> {
    let js = amanat_tests::workspace_root().join("target/js");
    assert!(
        js.join("node_modules/jose").exists(),
        "npm's jose is needed: the README test command installs it into target/js"
    );
    let script = js.join("verify-detached.mjs");
    std::fs::write(
        &script,
        r#"
        import { flattenedVerify, EmbeddedJWK } from 'jose';
        import { readFileSync } from 'node:fs';
        const [h, , s] = process.argv[2].split('.');
        // RFC 7515 Appendix F: the detached payload is put back, base64url.
        const payload = readFileSync(process.argv[3]).toString('base64url');
        const { protectedHeader } = await flattenedVerify({ protected: h, payload, signature: s }, EmbeddedJWK);
        console.log(JSON.stringify(protectedHeader));
        "#,
    )
    .unwrap();
    let file = v.scratch("payload.bin");
    std::fs::write(&file, payload).unwrap();
    let out = Command::new("node")
        .arg(&script)
        .arg(detached.trim())
        .arg(&file)
        .output()
        .expect("node runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

#[test]
fn altered_impostor_and_collection_records_are_refused_each_in_words_and_add_nothing() {
    let v = TestVault::new();
    let (record, _, rao, card) = signed_prescription(&v);
    let rx = v.scratch("rx.json");
    trust_council(&v, &[&card]);
    let text = std::fs::read_to_string(&record).unwrap();

    // One character of the signed bytes changed.
    let payload_at = text.find('.').unwrap() + 30;
    let mut altered = text.clone().into_bytes();
    altered[payload_at] = if altered[payload_at] == b'A' { b'B' } else { b'A' };
    let altered_file = v.scratch("altered.amanat-record");
    std::fs::write(&altered_file, &altered).unwrap();
    import_refused(&v, &altered_file, "the record or its signature was altered");

    // Someone signs in Dr. Rao's name with a key of their own.
    let impostor = amanat_tests::impostor(&v, "Dr. Imran Rao", "PMDC-12345-P");
    let forged = v.scratch("forged.amanat-record");
    sign_record(&rx, COUNCIL, &impostor, &["-o", forged.to_str().unwrap()]).ok();
    import_refused(
        &v,
        &forged,
        "signed by a key that is not the one Pakistan Medical & Dental Council lists for PMDC-12345-P",
    );
    // Named by a registry the patient does not trust.
    let elsewhere = v.scratch("elsewhere.amanat-record");
    sign_record(
        &rx,
        "Some other council",
        &rao,
        &["-o", elsewhere.to_str().unwrap()],
    )
    .ok();
    import_refused(&v, &elsewhere, "who is not listed by Some other council");
    assert!(v.ids(&[]).is_empty(), "nothing was added");

    // A doctor cannot sign a collection as one record, nor what is not FHIR.
    let bundle = v.scratch("bundle.json");
    write_json(
        &bundle,
        &json!({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": prescription()}]}),
    );
    sign_record(&bundle, COUNCIL, &rao, &[]).fails_saying(1, "is a Bundle but not a FHIR document");
    let junk = v.scratch("junk.json");
    std::fs::write(&junk, b"{\"resourceType\": 5}").unwrap();
    sign_record(&junk, COUNCIL, &rao, &[]).fails_saying(1, "is not FHIR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_wallet_marks_a_signed_record_and_the_doctors_phone_shows_who_signed_it() {
    let v = TestVault::new();
    let (record, _, rao, card) = signed_prescription(&v);
    trust_council(&v, &[&card]);
    v.run(&["import", record.to_str().unwrap()]).ok();
    let id = v.first_id(&[]);
    // And a vaccination from a SMART Health Card (kill-the-clipboard issues it).
    let epi = v.scratch("epi");
    let kid = crate::cards::issue(&epi, &crate::cards::vaccination(), crate::cards::EPI, None, None);
    v.run(&[
        "issuers",
        "trust",
        epi.join("jwks.json").to_str().unwrap(),
        "--iss",
        crate::cards::EPI,
        "--name",
        "Punjab EPI",
    ])
    .ok();
    v.run(&["import", epi.join("card.smart-health-card").to_str().unwrap()])
        .ok();
    let vaccination = v.first_id(&["--type", "Immunization"]);
    // Then a penicillin allergy, the pharmacy plugin, and a second signed
    // prescription of amoxicillin, which the web import will be warned of.
    v.install_plugin("e-pharmacy.wasm");
    import_penicillin_allergy(&v);
    let refill = v.scratch("refill.json");
    let mut again = prescription();
    again["authoredOn"] = json!("2026-12-01");
    write_json(&refill, &again);
    sign_record(&refill, COUNCIL, &rao, &[]).ok();
    let refill = v.scratch("refill.amanat-record");
    let relay = TestRelay::start(0);
    let made = share(&v, &[&id, &vaccination, "--relay", &relay.url]);
    let link = made["link"].as_str().unwrap().to_string();
    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let phone = Chrome::phone().await;
    let c = &phone.client;
    c.goto(&server.url).await.unwrap();
    phone.wait("[data-testid=patient-name]").await;
    c.goto(&format!("{}/#/records", server.base)).await.unwrap();
    phone.wait("[data-testid=vouched]").await;
    let timeline = phone
        .wait_text("main", "signed by Dr. Imran Rao (PMDC-12345-P)")
        .await;
    assert!(timeline.contains("issued by Punjab EPI"), "{timeline}");
    assert_eq!(phone.overflow_x().await, 0);

    // The refill, uploaded: the plugin's warning, not saved until the patient says so.
    c.goto(&format!("{}/#/import", server.base)).await.unwrap();
    let input = phone.wait("[data-testid=import-input]").await;
    input.send_keys(refill.to_str().unwrap()).await.unwrap();
    let warned = phone
        .wait_text("[data-testid=import-results]", "you are allergic to penicillin")
        .await;
    assert!(
        warned.contains("not saved")
            && warned.contains("e-pharmacy: Warning: Amoxicillin 500 mg capsule is one of the penicillins"),
        "{warned}"
    );
    // Below the drop zone, yet on screen: the page brought it into view.
    let in_view = "const r = document.querySelector('[data-testid=save-anyway]').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight";
    let mut seen = false;
    for _ in 0..20 {
        seen = c.execute(in_view, vec![]).await.unwrap().as_bool() == Some(true);
        if seen {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the warning's answer is off screen on a phone");
    phone.shot("pharmacy-warning-phone").await;
    phone.click("[data-testid=save-anyway]").await;
    phone.wait_text("[data-testid=import-results]", "1 added").await;
    c.goto(&format!("{}/#/record/{id}", server.base)).await.unwrap();
    phone
        .wait_text(
            "main",
            "signed by Dr. Imran Rao (PMDC-12345-P, Pakistan Medical & Dental Council), signature verified",
        )
        .await;

    // The doctor's phone: the record, and who signed it, verified there.
    c.goto("about:blank").await.unwrap();
    c.goto(&link).await.unwrap();
    phone.wait("[data-testid=verified]").await;
    let signer = phone
        .wait_text("[data-testid=record-signer]", "Dr. Imran Rao")
        .await;
    assert!(
        signer.contains("Signed by Dr. Imran Rao (PMDC-12345-P, Pakistan Medical & Dental Council)"),
        "{signer}"
    );
    let issuer = phone.wait_text("[data-testid=record-issuer]", "Punjab EPI").await;
    assert!(
        issuer.contains(&format!(
            "SMART Health Card issued by Punjab EPI ({})",
            crate::cards::EPI
        )) && issuer.contains(&kid),
        "{issuer}"
    );
    assert_eq!(phone.overflow_x().await, 0);
    phone.shot("signed-record-viewer-phone").await;
}

#[test]
fn a_signed_prescription_is_checked_by_the_pharmacy_plugin_before_it_is_saved() {
    // No allergy on record: the plugin says so and the prescription is saved.
    let clear = TestVault::new();
    let (record, _, _, card) = signed_prescription(&clear);
    trust_council(&clear, &[&card]);
    clear.install_plugin("e-pharmacy.wasm");
    clear
        .run(&["import", record.to_str().unwrap()])
        .ok_saying("✓ e-pharmacy: No allergy or duplicate medicine found in your records for Amoxicillin 500 mg capsule.");

    // A penicillin allergy on record: the patient sees the warning, and the
    // prescription is not saved unless they say so.
    let v = TestVault::new();
    let (record, _, _, card) = signed_prescription(&v);
    trust_council(&v, &[&card]);
    v.install_plugin("e-pharmacy.wasm");
    import_penicillin_allergy(&v);
    let warning = "⚠ e-pharmacy: Warning: Amoxicillin 500 mg capsule is one of the penicillins, and you are allergic to penicillin: ask your doctor before you take it.";
    import_refused(&v, &record, warning);
    import_refused(&v, &record, "import it with --accept-warnings to save it anyway");
    assert!(v.ids(&["--type", "MedicationRequest"]).is_empty(), "not saved");
    let saved = v
        .run(&["import", record.to_str().unwrap(), "--accept-warnings"])
        .ok_saying("1 added");
    assert!(saved.contains(warning), "{saved}");
    assert_eq!(v.ids(&["--type", "MedicationRequest"]).len(), 1);
    // Each check is in the audit log as the plugin's run.
    let audit = v.run(&["audit"]).ok();
    assert!(audit.contains("e-pharmacy") && audit.contains("check"), "{audit}");
}

#[test]
fn a_lab_plugin_proposes_a_report_its_publisher_signed_and_the_wallet_keeps_who_signed_it() {
    let v = TestVault::new();
    v.install_plugin("lab-import.wasm");
    // The lab's system signs a result with the key its plugin is signed with.
    let hba1c = v.scratch("hba1c.json");
    write_json(
        &hba1c,
        &json!({"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}], "text": "HbA1c"},
            "subject": {"display": "Ayesha Siddiqui"}, "effectiveDateTime": "2026-11-28",
            "valueQuantity": {"value": 6.1, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}),
    );
    let publisher = [("AMANAT_PUBLISHER_PASSPHRASE", "amanat development publisher")];
    let key = amanat_tests::built_plugin("publisher.key");
    amanat_bare(
        &[
            "plugin",
            "sign-record",
            hba1c.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--registry",
            "Lab Plugin Directory",
        ],
        &publisher,
    )
    .ok_saying("as publisher Amanat sample plugins (listed by Lab Plugin Directory)");
    let signed = v.scratch("hba1c.amanat-record");

    // Altered after signing, or signed by someone else (a doctor's key): refused, nothing saved.
    let text = std::fs::read_to_string(&signed).unwrap();
    let altered = v.scratch("altered.amanat-record");
    let mut parts: Vec<String> = text.trim().split('.').map(str::to_string).collect();
    let flipped = if parts[1].as_bytes()[20] == b'A' { "B" } else { "A" };
    parts[1].replace_range(20..21, flipped);
    std::fs::write(&altered, parts.join(".")).unwrap();
    let run = |file: &Path| {
        v.run(&[
            "plugin",
            "run",
            "lab-import",
            "--input",
            file.to_str().unwrap(),
            "--yes",
        ])
    };
    run(&altered).fails_saying(
        7,
        "refused by the wallet: the record or its signature was altered",
    );
    let (rao, _) = provider(&v, "Dr. Imran Rao", "PMDC-12345-P");
    sign_record(
        &hba1c,
        COUNCIL,
        &rao,
        &["-o", v.scratch("by-doctor.amanat-record").to_str().unwrap()],
    )
    .ok();
    run(&v.scratch("by-doctor.amanat-record")).fails_saying(7, "is not this plugin's publisher's");
    assert!(v.ids(&[]).is_empty(), "nothing saved");

    // The lab's own: proposed as signed, saved saying who signed it.
    let ran = run(&signed).ok();
    assert!(ran.contains("your wallet checked the lab's signature"), "{ran}");
    assert!(
        ran.contains("+ Observation: HbA1c") && ran.contains("(signed by its publisher)"),
        "{ran}"
    );
    let rows = v.run(&["list", "--json"]).json();
    let vouched = rows[0]["vouched_by"].as_str().unwrap().to_string();
    assert!(
        vouched.starts_with("signed by Amanat sample plugins (publisher key "),
        "{vouched}"
    );
    let id = rows[0]["id"].as_str().unwrap().to_string();
    v.run(&["show", &id])
        .ok_saying("no registry you trust), signature verified; from plugin lab-import");
    let stored = v.open().get(id.parse().unwrap()).unwrap().bytes;
    assert!(
        text.contains(&base64_url(&stored)),
        "the signed bytes are the stored bytes"
    );

    // Shared with a doctor, the lab's signature travels and verifies there.
    let (noor, noor_card) = provider(&v, "Dr. Noor Fatima", "PMDC-99999-P");
    let card_file = v.scratch("noor.card");
    std::fs::write(&card_file, &noor_card).unwrap();
    let made = share(&v, &[&id, "--offline", "--to", card_file.to_str().unwrap()]);
    let seen = amanat_bare(
        &[
            "receive",
            made["link"].as_str().unwrap(),
            "--identity",
            noor.to_str().unwrap(),
        ],
        &[DOCTOR_PASS],
    )
    .ok();
    assert!(
        seen.contains("✓ signed by Amanat sample plugins (plugin publisher, Lab Plugin Directory), signature verified (key "),
        "{seen}"
    );
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
