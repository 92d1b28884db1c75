//! WebAssembly plugins: the three sample plugins end to end, and a hostile
//! plugin that is stopped, refused and audited while the wallet carries on.

use std::path::PathBuf;

use amanat_tests::{
    TestHttpServer, TestVault, amanat_bare, built_plugin, fixture, sign_plugin, try_sign_plugin, write_json,
};
use serde_json::{Value, json};

fn install(v: &TestVault, wasm: &std::path::Path) {
    v.run(&["plugin", "install", "--yes", wasm.to_str().unwrap()])
        .ok_saying("Installed");
}

fn records(v: &TestVault) -> Value {
    v.run(&["list", "--json", "-n", "0", "--all-profiles"]).json()
}

fn manifest(name: &str) -> Value {
    let path = amanat_tests::workspace_root().join(format!("plugins/{name}/amanat-plugin.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A Rust sample plugin as cargo built it: a core module, not yet a component.
fn unsigned(name: &str) -> PathBuf {
    let path = amanat_tests::workspace_root().join(format!(
        "target/wasm32-unknown-unknown/release/{}.wasm",
        name.replace('-', "_")
    ));
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-plugins",
        path.display()
    );
    path
}

pub(crate) const ORU: &str = "MSH|^~\\&|LIS|Chughtai Lab^CHUGHTAI|AMANAT|PATIENT|202605100930+0500||ORU^R01^ORU_R01|MSG0001|P|2.5.1\r\
PID|1||35202-1234567-2^^^NADRA^NI||Siddiqui^Ayesha||19680412|F\r\
OBR|1|ORD1|FIL1|24331-1^Diabetes panel^LN|||202605100900+0500\r\
OBX|1|NM|4548-4^Hemoglobin A1c/Hemoglobin.total in Blood^LN||7.4|%|4.0-5.6|H|||F|||202605100900+0500\r\
OBX|2|NM|1558-6^Fasting glucose [Mass/volume] in Serum or Plasma^LN||142|mg/dL|70-99|H|||F\r";

#[test]
fn lab_import_turns_an_hl7_message_into_results() {
    let v = TestVault::new();
    install(&v, &built_plugin("lab-import.wasm"));
    let shown = v
        .run(&["plugin", "show", "lab-import"])
        .ok_saying("suggest new test results and measurements (Observation)");
    assert!(shown.contains("no internet access"), "{shown}");
    let input = v.scratch("report.hl7");
    std::fs::write(&input, ORU).unwrap();
    let out = v
        .run(&[
            "plugin",
            "run",
            "lab-import",
            "--input",
            input.to_str().unwrap(),
            "--yes",
        ])
        .ok_saying("Read 2 result(s) from CHUGHTAI; outside the normal range");
    assert!(out.contains("Saved 3 record(s)"), "{out}");
    let a1c = v.run(&["list", "--json", "--search", "4548-4"]).json();
    assert_eq!(a1c[0]["title"], "Hemoglobin A1c/Hemoglobin.total in Blood: 7.4 %");
    v.run(&["show", a1c[0]["id"].as_str().unwrap()])
        .ok_saying("from plugin lab-import");
    // The same report again proposes the same records: nothing is stored twice.
    v.run(&[
        "plugin",
        "run",
        "lab-import",
        "--input",
        input.to_str().unwrap(),
        "--yes",
    ])
    .ok_saying("Saved 0 record(s) (3 already there)");
    let audit = v.run(&["audit"]).ok_saying("installed plugin lab-import 0.1.0");
    assert!(audit.contains("ran lab-import import: completed"), "{audit}");
    // Bad input is the plugin's clear error, and nothing is saved.
    std::fs::write(&input, "not a lab report").unwrap();
    v.run(&[
        "plugin",
        "run",
        "lab-import",
        "--input",
        input.to_str().unwrap(),
        "--yes",
    ])
    .fails_saying(7, "plugin lab-import: invalid input");
}

/// The SDK's allocator starts from a static heap (512 KiB) in the module's
/// initial memory; a report bigger than that makes it grow the memory, which
/// works, and the call's memory cap still stops a report bigger than the cap.
#[test]
fn a_report_bigger_than_the_sdk_heap_imports_and_the_memory_cap_still_holds() {
    let v = TestVault::new();
    install(&v, &built_plugin("lab-import.wasm"));
    // 3 MiB: the lab's own segment (which lab-import skips) after the results.
    let big = format!("{ORU}ZNT|1|{}\r", "x".repeat(3 << 20));
    let run = |extra: &[&str]| amanat_tests::run_action(&v, "lab-import", "import", Some(&big), extra);
    let before = records(&v).as_array().unwrap().len();
    run(&["--memory-limit", "4"]).fails_saying(7, "more than its 4 MiB of memory");
    assert_eq!(records(&v).as_array().unwrap().len(), before, "nothing saved");
    let out = run(&[]).ok_saying("Read 2 result(s) from CHUGHTAI");
    assert!(out.contains("Saved 3 record(s)"), "{out}");
    assert_eq!(records(&v).as_array().unwrap().len(), before + 3);
}

#[test]
fn a_lab_report_about_someone_else_is_refused_unless_accepted() {
    let v = TestVault::new();
    install(&v, &built_plugin("lab-import.wasm"));
    // The same report, for Zara Khan (another CNIC): the plugin says whom it
    // is about (PID), the wallet compares that with the profile.
    let input = v.scratch("zara.hl7");
    std::fs::write(
        &input,
        ORU.replace(
            "35202-1234567-2^^^NADRA^NI||Siddiqui^Ayesha",
            "35202-7654321-8^^^NADRA^NI||Khan^Zara",
        ),
    )
    .unwrap();
    let path = input.to_str().unwrap();
    let err = v
        .run(&["plugin", "run", "lab-import", "--input", path, "--yes"])
        .fails_saying(
            1,
            "this file is about Zara Khan, CNIC 35202-7654321-8, but the profile 'ayesha' is Ayesha Siddiqui",
        );
    assert!(err.contains("nothing was saved"), "{err}");
    assert_eq!(v.run(&["list", "--json"]).json().as_array().unwrap().len(), 0);
    v.run(&[
        "plugin",
        "run",
        "lab-import",
        "--input",
        path,
        "--yes",
        "--accept-mismatch",
    ])
    .ok_saying("Saved 3 record(s)");
}

fn visit_records() -> Value {
    let subject = json!({"reference": "Patient/ayesha"});
    json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Coverage", "id": "cov1", "status": "active", "beneficiary": subject,
            "subscriberId": "SLIC-778812", "payor": [{"display": "State Life Insurance"}]}},
        {"resource": {"resourceType": "Encounter", "id": "enc9", "status": "finished", "class": {"code": "AMB"},
            "type": [{"text": "Diabetes clinic follow-up"}], "subject": subject,
            "period": {"start": "2026-05-10T09:00:00+05:00"}, "serviceProvider": {"display": "Services Hospital, Lahore"}}},
        {"resource": {"resourceType": "Condition", "id": "dm2", "subject": subject,
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006", "display": "Type 2 diabetes mellitus"}]}}},
        {"resource": {"resourceType": "MedicationRequest", "id": "mr9", "status": "active", "intent": "order", "subject": subject,
            "medicationCodeableConcept": {"text": "Metformin 1000 mg"}}}
    ]})
}

#[test]
fn insurer_claim_is_sent_to_the_insurer_and_the_answer_kept() {
    let insurer = TestHttpServer::start(|method, path, body| {
        let claim: Value = serde_json::from_slice(body).unwrap_or_default();
        assert_eq!((method, path), ("POST", "/fhir/Claim"));
        let answer = json!({"resourceType": "ClaimResponse", "status": "active", "type": claim["type"], "use": "claim",
            "patient": claim["patient"], "created": "2026-05-11", "insurer": claim["insurer"], "outcome": "complete",
            "disposition": "Approved: PKR 4,500"});
        (
            200,
            vec![("content-type".into(), "application/fhir+json".into())],
            answer.to_string().into_bytes(),
        )
    });
    let v = TestVault::new();
    let bundle = v.scratch("visit.json");
    write_json(&bundle, &visit_records());
    v.run(&["import", bundle.to_str().unwrap()]).ok();
    let mut m = manifest("insurer-claim");
    m["permissions"]["network"] = json!([insurer.origin]);
    m["settings"]["claims_url"] = json!(format!("{}/fhir/Claim", insurer.origin));
    let signed = v.scratch("insurer-claim.wasm");
    sign_plugin(&unsigned("insurer-claim"), &m, &signed);
    install(&v, &signed);
    let id = |t: &str| v.first_id(&["--type", t]);
    let (enc, cond, med) = (id("Encounter"), id("Condition"), id("MedicationRequest"));
    let doc = v.scratch("claim-out.json");
    v.run(&[
        "plugin",
        "run",
        "insurer-claim",
        "--record",
        &enc,
        "--record",
        &cond,
        "--record",
        &med,
        "--yes",
        "--save-document",
        doc.to_str().unwrap(),
    ])
    .ok_saying("Claim sent to State Life Insurance: complete. Approved: PKR 4,500");
    let sent = insurer.received();
    assert_eq!(sent.len(), 1);
    let claim: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"],
        "44054006"
    );
    assert_eq!(claim["item"].as_array().unwrap().len(), 2);
    let saved: Value = serde_json::from_slice(&std::fs::read(&doc).unwrap()).unwrap();
    assert_eq!(saved, claim);
    assert_eq!(
        v.run(&["list", "--json", "--type", "ClaimResponse"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        v.run(&["list", "--json", "--type", "Claim"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn e_pharmacy_blocks_a_penicillin_for_an_allergic_patient_and_flags_duplicates() {
    let pharmacy = TestHttpServer::start(|_, _, _| {
        let task = json!({"resourceType": "Task", "status": "accepted", "intent": "order",
            "description": "Order 7781 accepted; delivery tomorrow"});
        (201, vec![], task.to_string().into_bytes())
    });
    let v = TestVault::empty();
    v.run(&["demo", "--records", "200"]).ok();
    v.run(&[
        "import",
        fixture("abdm-prescription-document.json").to_str().unwrap(),
    ])
    .ok();
    let mut m = manifest("e-pharmacy");
    m["permissions"]["network"] = json!([pharmacy.origin]);
    m["settings"]["orders_url"] = json!(format!("{}/orders", pharmacy.origin));
    let signed = v.scratch("e-pharmacy.wasm");
    sign_plugin(&unsigned("e-pharmacy"), &m, &signed);
    install(&v, &signed);
    let amoxicillin = v.first_id(&["--type", "MedicationRequest", "--search", "amoxicillin"]);
    v
        .run(&[
            "plugin",
            "run",
            "e-pharmacy",
            "order",
            "--record",
            &amoxicillin,
            "--yes",
        ]).ok_saying("Not ordered: Amoxicillin 500 mg capsule is one of the penicillins, and you are allergic to penicillin");
    assert!(pharmacy.received().is_empty(), "nothing was sent to the pharmacy");

    let rosuvastatin = v.scratch("rx.json");
    write_json(
        &rosuvastatin,
        &json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
        "subject": {"reference": "Patient/ayesha"}, "authoredOn": "2026-06-01",
        "medicationCodeableConcept": {"text": "Rosuvastatin 10 mg tablet"}}),
    );
    v.run(&["import", rosuvastatin.to_str().unwrap()]).ok();
    let id = v.first_id(&["--search", "rosuvastatin"]);
    let out = v
        .run(&["plugin", "run", "e-pharmacy", "order", "--record", &id, "--yes"])
        .ok_saying("Ordered 1 medicine(s); the pharmacy says: accepted");
    assert!(out.contains("duplicate therapy"), "{out}");
    assert_eq!(pharmacy.received().len(), 1);
    assert_eq!(
        v.run(&["list", "--json", "--type", "Task"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A wallet with the hostile plugin installed (reads Observations, proposes
/// Observations, may reach `network`), two profiles, and a record of each.
fn hostile_wallet(network: &[String]) -> (TestVault, String, String) {
    let v = TestVault::with("lab-bundle.json");
    v.run(&["profile", "add", "--name", "Zara Siddiqui", "--handle", "zara"])
        .ok();
    v.run(&[
        "--profile",
        "zara",
        "import",
        fixture("observation.json").to_str().unwrap(),
    ])
    .ok();
    let m = json!({"name": "hostile", "version": "0.1.0", "interface": "0.1.0", "publisher": "Tests", "kind": "other",
        "description": "Misbehaves on purpose", "permissions": {"read": ["Observation"], "propose": ["Observation"], "network": network}});
    let signed = v.scratch("hostile.wasm");
    sign_plugin(&built_plugin("hostile-unsigned.wasm"), &m, &signed);
    install(&v, &signed);
    let mine = v.first_id(&["--type", "Condition"]);
    let zaras = v.run(&["--profile", "zara", "list", "--json"]).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (v, mine, zaras)
}

fn hostile(v: &TestVault, action: &str, input: Option<&str>, extra: &[&str]) -> amanat_tests::Run {
    let extra: Vec<&str> = ["--time-limit", "2"].iter().chain(extra).copied().collect();
    amanat_tests::run_action(v, "hostile", action, input, &extra)
}

#[test]
fn hostile_plugins_are_stopped_and_the_wallet_carries_on() {
    let (v, mine, zaras) = hostile_wallet(&[]);
    let before = records(&v);

    let err = hostile(&v, "spin", None, &[]).fails_with(7);
    assert!(
        err.contains("plugin hostile was stopped: it ran past its time limit of 2 s")
            || err.contains("computation budget"),
        "{err}"
    );
    hostile(&v, "bomb", None, &["--memory-limit", "32"]).fails_saying(
        7,
        "plugin hostile was stopped: it tried to use more than its 32 MiB of memory",
    );
    let err = hostile(&v, "panic", None, &[]).fails_with(7);
    assert!(
        err.contains("plugin hostile crashed: panic:") && err.contains("on purpose"),
        "{err}"
    );

    hostile(&v, "list-forbidden", None, &[]).fails_saying(
        7,
        "denied: list Condition records: this plugin may not read that type",
    );
    hostile(&v, "read", Some(&mine), &[]).fails_saying(7, "may not read that type");
    hostile(&v, "read", Some(&zaras), &[]).fails_saying(7, "it belongs to another profile");
    hostile(&v, "propose-forbidden", None, &[]).fails_saying(7, "denied: propose a Condition");
    hostile(&v, "fetch", Some("http://127.0.0.1:9/steal"), &[]).fails_saying(7, "no network permission");
    // Records it may not read cannot be handed to it either.
    hostile(&v, "echo", None, &["--record", &mine]).fails_saying(7, "cannot be given that record");
    let ok = hostile(&v, "echo", None, &[]).ok();
    assert!(
        ok.contains("0 input records, 3 observations readable"),
        "the profile's own Observations only: {ok}"
    );

    assert_eq!(records(&v), before, "no record changed");
    let audit = v.run(&["audit"]).ok();
    for expected in [
        "denied list Condition records",
        "denied read record",
        "it belongs to another profile",
        "denied propose a Condition",
        "ran hostile spin: plugin hostile was stopped",
    ] {
        assert!(
            audit.contains(expected),
            "'{expected}' not in the audit log:\n{audit}"
        );
    }
    v.run(&["audit", "--verify"]).ok();
}

#[test]
fn network_only_to_approved_origins_and_redirects_are_rechecked() {
    let evil = TestHttpServer::start(|_, _, _| (200, vec![], b"secrets welcome".to_vec()));
    let evil_origin = evil.origin.clone();
    let good = TestHttpServer::start(move |_, path, _| match path {
        "/redirect" => (
            302,
            vec![("location".into(), format!("{evil_origin}/collect"))],
            vec![],
        ),
        _ => (200, vec![], b"hello".to_vec()),
    });
    let (v, _, _) = hostile_wallet(std::slice::from_ref(&good.origin));
    hostile(&v, "fetch", Some(&format!("{}/ok", good.origin)), &[]).ok_saying("fetched 5 bytes, status 200");
    hostile(&v, "fetch", Some(&format!("{}/x", evil.origin)), &[])
        .fails_saying(7, "is not approved for this plugin");
    hostile(&v, "fetch", Some(&format!("{}/redirect", good.origin)), &[])
        .fails_saying(7, "is not approved for this plugin");
    assert!(
        evil.received().is_empty(),
        "the unapproved origin was never contacted"
    );
    v.run(&["audit"])
        .ok_saying(&format!("denied connect to {}/collect", evil.origin));
}

#[test]
fn tampered_unsigned_malformed_and_incompatible_plugins_are_refused_at_install() {
    let v = TestVault::new();
    let good = built_plugin("lab-import.wasm");
    let bytes = std::fs::read(&good).unwrap();

    let mut tampered = bytes.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x01;
    let path = v.scratch("tampered.wasm");
    std::fs::write(&path, &tampered).unwrap();
    v.run(&["plugin", "install", "--yes", path.to_str().unwrap()])
        .fails_saying(7, "the plugin was altered after its publisher signed it");

    // The build's core module is not a plugin until packed; packed, unsigned.
    v.run(&[
        "plugin",
        "install",
        "--yes",
        unsigned("lab-import").to_str().unwrap(),
    ])
    .fails_saying(
        7,
        "this is a core WebAssembly module; plugins are components: pack or sign it first",
    );
    v.run(&[
        "plugin",
        "install",
        "--yes",
        unsigned_with_manifest(&v).to_str().unwrap(),
    ])
    .fails_saying(7, "not signed by its publisher");

    let path = v.scratch("garbage.wasm");
    std::fs::write(&path, b"\x00asm\x0d\x00\x01\x00garbage").unwrap();
    v.run(&["plugin", "install", "--yes", path.to_str().unwrap()])
        .fails_saying(7, "not a valid plugin");
    std::fs::write(&path, b"\x00asm\x01\x00\x00\x00").unwrap();
    v.run(&["plugin", "install", "--yes", path.to_str().unwrap()])
        .fails_saying(7, "core WebAssembly module");

    // Built against a future interface version.
    let mut m = manifest("lab-import");
    m["interface"] = json!("0.2.0");
    let parsed = wallet_core::plugin::manifest::Manifest::parse(m.to_string().as_bytes()).unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
    let future =
        wallet_core::plugin::signature::sign(&std::fs::read(unsigned("lab-import")).unwrap(), &parsed, &key)
            .unwrap();
    let path = v.scratch("future.wasm");
    std::fs::write(&path, future).unwrap();
    v.run(&["plugin", "install", "--yes", path.to_str().unwrap()])
        .fails_saying(7, "built for plugin interface 0.2.0; this wallet supports 0.1.0");

    // A manifest that does not match the component's own name.
    let mut m = manifest("lab-import");
    m["name"] = json!("not-lab-import");
    let path = v.scratch("renamed.wasm");
    sign_plugin(&unsigned("lab-import"), &m, &path);
    v.run(&["plugin", "install", "--yes", path.to_str().unwrap()])
        .fails_saying(
            7,
            "calls itself lab-import 0.1.0, but its manifest says not-lab-import 0.1.0",
        );

    assert!(v.run(&["plugin", "list"]).ok().contains("No plugins installed"));
    // Development builds can be installed unsigned, loudly.
    let run = v.run(&[
        "plugin",
        "install",
        "--yes",
        "--allow-unsigned",
        unsigned_with_manifest(&v).to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("NOT signed"), "{}", run.stderr);
}

/// lab-import with its manifest section but no signature.
fn unsigned_with_manifest(v: &TestVault) -> PathBuf {
    let signed = std::fs::read(built_plugin("lab-import.wasm")).unwrap();
    // The signature is the last section: a custom section named amanat-signature.
    let needle = b"amanat-signature";
    let at = signed.windows(needle.len()).rposition(|w| w == needle).unwrap();
    // Walk back over the name length byte, the section size (LEB128) and the id byte.
    let mut start = at - 1;
    start -= 1;
    while signed[start - 1] & 0x80 != 0 {
        start -= 1;
    }
    start -= 1;
    assert_eq!(signed[start], 0, "custom section id");
    let path = v.scratch("lab-import-unsigned.wasm");
    std::fs::write(&path, &signed[..start]).unwrap();
    path
}

#[test]
fn plugins_are_listed_shown_and_removed() {
    let v = TestVault::new();
    install(&v, &built_plugin("lab-import.wasm"));
    let list = v.run(&["plugin", "list", "--json"]).json();
    assert_eq!(list[0]["manifest"]["name"], "lab-import");
    assert_eq!(list[0]["actions"][0]["name"], "import");
    v.run(&["plugin", "run", "lab-import", "export"])
        .fails_saying(7, "has no action 'export'; it offers: import");
    v.run(&["plugin", "remove", "lab-import"]).ok();
    v.run(&["plugin", "run", "lab-import"])
        .fails_saying(7, "no plugin 'lab-import' is installed");
}

#[test]
fn text_from_a_plugin_cannot_drive_the_terminal() {
    let (v, _, _) = hostile_wallet(&[]);
    let run = hostile(&v, "scribble", None, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}') && !text.contains('\u{202e}'),
            "{text:?}"
        );
    }
    assert!(
        run.stderr.contains("\\u{1b}[1A\\u{1b}[2KAll records verified"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("done\\u{1b}]0;retitled\\u{7}\\u{202e}txt.exe"),
        "{}",
        run.stdout
    );

    // A manifest's words are the publisher's: shown, never obeyed.
    let v = TestVault::new();
    let m = json!({"name": "hostile", "version": "0.1.0", "interface": "0.1.0", "publisher": "Trusted Lab\u{1b}[8m (hidden)",
        "kind": "other", "description": "Reads \u{1b}[2Jnothing", "permissions": {"read": ["Observation"], "propose": [],
        "network": []}});
    let signed = v.scratch("sly.wasm");
    sign_plugin(&built_plugin("hostile-unsigned.wasm"), &m, &signed);
    let install = v.run(&["plugin", "install", "--yes", signed.to_str().unwrap()]);
    let show = v.run(&["plugin", "show", "hostile"]);
    for text in [&install.stdout, &install.stderr, &show.stdout] {
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }
    assert!(install.stdout.contains("Installed hostile"), "{}", install.stderr);
    assert!(
        show.stdout.contains("Trusted Lab\\u{1b}[8m (hidden)"),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("Reads \\u{1b}[2Jnothing"), "{}", show.stdout);

    // An origin that is not a plain host name is refused (it used to be
    // approved and shown with its escape), and the refusal is shown safely.
    let mut m = m;
    m["permissions"]["network"] = json!(["https://evil.example\u{1b}[1A"]);
    let refused = try_sign_plugin(&built_plugin("hostile-unsigned.wasm"), &m, &v.scratch("net.wasm"));
    let err = refused.fails_with(7);
    assert!(
        err.contains("'https://evil.example\\u{1b}[1A' is not an origin"),
        "{err:?}"
    );
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn a_plugin_flooding_host_calls_leaves_the_audit_log_bounded() {
    let (v, _, _) = hostile_wallet(&[]);
    let entries = |v: &TestVault| v.run(&["audit", "--json"]).json().as_array().unwrap().len();
    let before = entries(&v);
    hostile(&v, "flood", None, &[]).fails_saying(7, "time limit");
    // At most MAX_CALL_EVENTS (500) entries for the call, one summing up the
    // rest, and the run itself; no entry holds the plugin's 64 KiB strings.
    let added = entries(&v) - before;
    assert!(added <= 502, "{added} audit entries for one call");
    let audit = v
        .run(&["audit"])
        .ok_saying("more host calls than are logged one by one");
    let longest = audit.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 1_000, "an audit line of {longest} bytes");
    v.run(&["audit", "--verify"]).ok();
}

#[test]
fn a_server_that_never_answers_cannot_hold_a_plugin_past_its_time_limit() {
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(16).collect();
        std::thread::sleep(std::time::Duration::from_secs(60));
        drop(held);
    });
    let (v, _, _) = hostile_wallet(std::slice::from_ref(&origin));
    let started = std::time::Instant::now();
    let err = hostile(&v, "fetch", Some(&format!("{origin}/never")), &[]).fails_with(7);
    let took = started.elapsed();
    assert!(err.contains("time limit"), "{err}");
    // The call's limit is 2 s; one request's own timeout is 15 s, and a
    // redirect chain could chain six of them.
    assert!(
        took < std::time::Duration::from_secs(10),
        "the plugin ran {took:?}"
    );
}

#[test]
fn a_plugin_spinning_while_it_describes_itself_gets_only_the_small_install_budget() {
    let v = TestVault::with("lab-bundle.json");
    let before = records(&v);
    let m = json!({"name": "hostile", "version": "0.1.0", "interface": "0.1.0", "publisher": "Tests", "kind": "other",
        "description": "Spins at install", "permissions": {"read": [], "propose": [], "network": []}});
    let signed = v.scratch("spinner.wasm");
    sign_plugin(&built_plugin("hostile-spin-at-install.wasm"), &m, &signed);
    // The full limits of an approved call (10 s, 5,000,000,000 fuel) used to
    // apply here, before the patient had approved anything.
    v
        .run(&["plugin", "install", "--yes", signed.to_str().unwrap()]).fails_saying(7, "plugin hostile was stopped: it used up its computation budget (50000000 units of fuel) while describing itself");
    assert!(
        v.run(&["plugin", "list"]).ok().contains("No plugins"),
        "installed anyway"
    );
    assert_eq!(records(&v), before);
}

/// Signs `wasm` with a publisher key of its own (not the development key).
fn sign_with_own_key(v: &TestVault, wasm: &std::path::Path, manifest: &Value, out: &std::path::Path) {
    let env = [("AMANAT_PUBLISHER_PASSPHRASE", "impostor passphrase")];
    let key = v.scratch("impostor.key");
    if !key.exists() {
        amanat_bare(
            &[
                "plugin",
                "keygen",
                "--publisher",
                "Amanat sample plugins",
                "--key",
                key.to_str().unwrap(),
                "--kdf-work-factor",
                "10",
            ],
            &env,
        )
        .ok();
    }
    let manifest_path = out.with_extension("manifest.json");
    write_json(&manifest_path, manifest);
    amanat_bare(
        &[
            "plugin",
            "sign",
            wasm.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--manifest",
            manifest_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &env,
    )
    .ok();
}

#[test]
fn a_publisher_is_named_only_when_a_trusted_registry_lists_its_key() {
    let v = TestVault::new();
    let lab = built_plugin("lab-import.wasm");
    // Signed, but nobody the patient trusts vouches for the key: it used to be
    // shown as "Amanat sample plugins (key …)", as if the name were checked.
    let install = v.run(&["plugin", "install", "--yes", lab.to_str().unwrap()]);
    let shown = install.ok_saying("UNKNOWN PUBLISHER: it calls itself 'Amanat sample plugins', but its key");
    let trust = |name: &str| v.run(&["plugin", "show", name, "--json"]).json()["publisher_trust"].clone();
    let fingerprint = trust("lab-import")["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fingerprint.len(), 43, "a SHA-256 thumbprint: {fingerprint}");
    assert!(shown.contains(&fingerprint), "the fingerprint is shown: {shown}");

    // Someone else's key calling itself the same publisher.
    let raw = unsigned("lab-import");
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(amanat_tests::workspace_root().join("plugins/lab-import/amanat-plugin.json")).unwrap(),
    )
    .unwrap();
    let impostor = v.scratch("impostor.wasm");
    sign_with_own_key(&v, &raw, &manifest, &impostor);
    // An update signed by another key is refused.
    v.run(&["plugin", "install", "--yes", impostor.to_str().unwrap()])
        .fails_saying(7, "a plugin 'lab-import' from another publisher is installed");
    let mut renamed = manifest.clone();
    renamed["name"] = "hostile".into();
    renamed["version"] = "0.1.0".into();
    let other = v.scratch("other.wasm");
    sign_with_own_key(&v, &built_plugin("hostile-unsigned.wasm"), &renamed, &other);
    v.run(&["plugin", "install", "--yes", other.to_str().unwrap()])
        .ok();

    // A registry vouches for the key that signed the sample plugins.
    let env = [("AMANAT_REGISTRY_PASSPHRASE", "registry passphrase")];
    let key = v.scratch("directory.key");
    let created = amanat_bare(
        &[
            "registry",
            "create",
            "--name",
            "Lab Plugin Directory",
            "--key",
            key.to_str().unwrap(),
        ],
        &env,
    )
    .ok();
    let thumbprint = created.lines().last().unwrap().trim().to_string();
    let list = v.scratch("publishers.json");
    amanat_bare(
        &[
            "registry",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--out",
            list.to_str().unwrap(),
            "--publisher",
            lab.to_str().unwrap(),
        ],
        &env,
    )
    .ok_saying("1 plugin publisher(s)");
    v.run(&[
        "plugin",
        "trust",
        list.to_str().unwrap(),
        "--key",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ])
    .fails_saying(1, "not the registry's key you gave");
    v.run(&["plugin", "trust", list.to_str().unwrap(), "--key", &thumbprint])
        .ok_saying("for 1 plugin publisher(s): Amanat sample plugins");

    v.run(&["plugin", "show", "lab-import"]).ok_saying(&format!(
        "Amanat sample plugins, vouched for by Lab Plugin Directory (key {fingerprint})"
    ));
    assert_eq!(trust("lab-import")["status"], "vouched");
    assert_eq!(
        trust("hostile")["status"],
        "unknown",
        "the same name under another key stays unknown"
    );
    v.run(&["plugin", "list"])
        .ok_saying("unknown ('Amanat sample plugins')");
    let audit = v
        .run(&["audit"])
        .ok_saying("trusted registry 'Lab Plugin Directory' for its 1 plugin publisher(s)");
    assert!(!audit.contains("(0 providers)"), "{audit}");
}
