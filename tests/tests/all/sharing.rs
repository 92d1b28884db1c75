//! Consent grants and QR sharing: offline, relay, verified receive, revoke, and
//! every way a share must be refused.

use std::process::Command;

use amanat_tests::{TestVault, amanat_bare, fixture, provider, signed_registry, trust_registry, write_json};
use serde_json::{Value, json};

pub fn wallet_with_records() -> TestVault {
    let v = TestVault::new();
    v.run(&[
        "import",
        fixture("lab-bundle.json").to_str().unwrap(),
        fixture("observation.json").to_str().unwrap(),
    ])
    .ok();
    v
}

pub fn share(v: &TestVault, extra: &[&str]) -> Value {
    share_run(v, extra).json()
}

/// `amanat share --json --purpose CAREMGT --expires 2h` and `extra`, as run.
pub fn share_run(v: &TestVault, extra: &[&str]) -> amanat_tests::Run {
    let mut a = vec!["share", "--json", "--purpose", "CAREMGT", "--expires", "2h"];
    a.extend_from_slice(extra);
    v.run(&a)
}

/// The link a share prints (`share`'s flags as in [`share`]).
pub fn share_link(v: &TestVault, extra: &[&str]) -> String {
    share(v, extra)["link"].as_str().unwrap().to_string()
}

pub fn receive(link: &str) -> amanat_tests::Run {
    amanat_bare(&["receive", "--json", link], &[])
}

#[test]
fn an_unknown_purpose_or_access_mode_is_refused_by_name() {
    let v = wallet_with_records();
    v.run(&["share", "--purpose", "gossip", "--expires", "1h"])
        .fails_saying(
            2,
            "'gossip' is not a purpose: use CAREMGT, BTG, PUBHLTH, HPAYMT, DSRCH or PATRQT",
        );
    v.run(&[
        "share",
        "--purpose",
        "treatment",
        "--mode",
        "keep",
        "--expires",
        "1h",
    ])
    .fails_saying(2, "'keep' is not an access mode: use view or store");
    // Words work as well as codes, in any case.
    let made = share(&v, &["--type", "Condition", "--offline", "--mode", "STORE"]);
    assert!(made["link"].as_str().is_some(), "{made}");
    v.run(&["grants"]).ok();
    let listed = v.run(&["grants", "--json"]).json();
    assert_eq!(listed[0]["mode"], "store", "{listed}");
}

#[test]
fn offline_share_is_received_with_no_network_and_no_wallet() {
    let v = wallet_with_records();
    let chosen = v.ids(&["--type", "Observation"]);
    let mut args: Vec<&str> = chosen.iter().map(String::as_str).collect();
    args.push("--offline");
    let out = share(&v, &args);
    let link = out["link"].as_str().unwrap();
    assert!(link.starts_with("AMANAT:"));
    assert!(out["qr_version"].as_i64().unwrap() <= 40);
    assert_eq!(out["records"].as_array().unwrap().len(), 4);

    let got = receive(link).json();
    assert_eq!(got["grant"]["patient"], "Ayesha Siddiqui");
    assert_eq!(got["grant"]["purpose"], "CAREMGT");
    let who = v.run(&["whoami", "--json"]).json();
    assert_eq!(got["wallet_id"], who["wallet_id"]);
    let records = got["records"].as_array().unwrap();
    assert_eq!(records.len(), 4);
    // Exactly the stored resources, unknown fields included.
    let lab: Value = serde_json::from_slice(&std::fs::read(fixture("lab-bundle.json")).unwrap()).unwrap();
    assert!(
        records.contains(&lab["entry"][1]["resource"]),
        "HbA1c as imported"
    );
    let text = amanat_bare(&["receive", link], &[]).ok();
    assert!(text.starts_with("VERIFIED share from Ayesha Siddiqui"), "{text}");
    assert!(
        text.contains("Hemoglobin A1c/Hemoglobin.total in Blood: 7.4 %"),
        "{text}"
    );
}

/// A bearer share of one Condition made with the library, as a wallet (or an
/// attacker's own code) could: `patient` as the grant names them, valid for an
/// hour from `from`.
pub fn crafted_share(v: &TestVault, patient: &str, from: i64, condition: Vec<u8>) -> String {
    let vault = v.open();
    let grant = wallet_core::share::grant::Grant {
        v: 1,
        jti: "craftedgrant0001".into(),
        wallet: String::new(),
        patient: patient.into(),
        subject: None,
        to: wallet_core::share::grant::Grantee::Bearer,
        purpose: wallet_core::share::grant::Purpose::CareManagement,
        mode: wallet_core::share::grant::AccessMode::View,
        iat: from,
        nbf: from,
        exp: from + 3600,
        uses: None,
        records: vec![],
    };
    let input = wallet_core::share::ShareInput {
        resource_type: "Condition".into(),
        bytes: condition,
        about: None,
        signature: None,
        card: None,
    };
    let sealed = wallet_core::share::seal(
        &[input],
        grant,
        vault.signing_key(),
        wallet_core::share::Lock::Bearer,
    )
    .unwrap();
    sealed.link(None, &vault.verifying_key()).encode()
}

#[test]
fn expired_truncated_tampered_and_garbage_links_are_refused_each_with_its_own_message() {
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    let link = share_link(&v, &[&id[0], "--offline"]);

    // Expired: a grant signed with this wallet's key but already past its expiry.
    let expired = {
        let record = v.open().get(id[0].parse().unwrap()).unwrap();
        let then = wallet_core::fhir::date::FhirDateTime::parse("2020-01-01")
            .unwrap()
            .start();
        crafted_share(&v, "Ayesha Siddiqui", then, record.bytes)
    };
    receive(&expired).fails_saying(6, "this share expired at 2020-01-01 01:00 UTC");

    receive(&link[..link.len() - 1]).fails_saying(6, "incomplete: it was cut off");
    let err = receive(&link[..link.len() / 2]).fails_with(6);
    assert!(err.contains("incomplete") || err.contains("damaged"), "{err}");

    for at in [8, link.len() / 3, link.len() / 2, link.len() - 5] {
        let mut bytes = link.clone().into_bytes();
        bytes[at] = if bytes[at] == b'Z' { b'Y' } else { b'Z' };
        let tampered = String::from_utf8(bytes).unwrap();
        let err = receive(&tampered).fails_with(6);
        assert!(err.contains("share refused:"), "change at {at}: {err}");
        assert!(!err.contains("VERIFIED"), "{err}");
    }

    for (garbage, message) in [
        ("hello doctor", "not an Amanat share link"),
        ("AMANAT:", "incomplete"),
        ("AMANAT:HELLO DOCTOR PLEASE READ", "damaged"),
    ] {
        let err = receive(garbage).fails_with(6);
        assert!(err.contains(message), "{garbage}: {err}");
    }
}

#[test]
fn every_single_character_change_is_caught() {
    // Through the library, for speed: every position of a real link.
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    let link = share_link(&v, &[&id[0], "--offline"]);
    let current = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for at in "AMANAT:".len()..link.len() {
        let mut bytes = link.clone().into_bytes();
        bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
        let changed = String::from_utf8(bytes).unwrap();
        let verdict = wallet_core::share::link::ShareLink::decode(&changed)
            .map_err(|e| e.to_string())
            .and_then(|l| match &l.location {
                wallet_core::share::link::Location::Inline(ct) => {
                    wallet_core::share::open(&l, ct, current, None, None)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                wallet_core::share::link::Location::Relay(_) => Err("not offline".into()),
            });
        assert!(verdict.is_err(), "changing character {at} went unnoticed");
    }
}

#[test]
fn a_share_for_one_provider_opens_only_for_them() {
    let v = wallet_with_records();
    let (rao, rao_card) = provider(&v, "Dr. Imran Rao", "PMDC-12345-P");
    let (noor, _) = provider(&v, "Dr. Noor Fatima", "PMDC-99999-P");
    let card_file = v.scratch("rao.card");
    std::fs::write(&card_file, &rao_card).unwrap();
    let id = v.ids(&["--type", "Condition"]);
    let out = share(
        &v,
        &[
            &id[0],
            "--offline",
            "--to",
            card_file.to_str().unwrap(),
            "--mode",
            "store",
        ],
    );
    let link = out["link"].as_str().unwrap();
    let pass = [("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase")];

    amanat_bare(&["receive", link], &[]).fails_saying(6, "this share is for Dr. Imran Rao (PMDC-12345-P)");
    amanat_bare(&["receive", link, "--identity", noor.to_str().unwrap()], &pass)
        .fails_saying(6, "not for you");
    let out_dir = v.scratch("received");
    amanat_bare(
        &[
            "receive",
            link,
            "--identity",
            rao.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ],
        &pass,
    )
    .ok_saying("to you, Dr. Imran Rao (PMDC-12345-P)");
    // Named by position in the share: the wallet's own record ids stay in the wallet.
    let saved = std::fs::read(out_dir.join("1-Condition.json")).unwrap();
    let original = v.open().get(id[0].parse().unwrap()).unwrap().bytes;
    assert_eq!(saved, original, "the stored record is the shared bytes");
    assert!(out_dir.join("grant.jws").exists());
    // Whom they are about, as the signed grant says: a FHIR Patient.
    let patient: Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("0-Patient.json")).unwrap()).unwrap();
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(
        patient["name"][0]["text"],
        v.run(&["profile", "list", "--json"]).json()[0]["name"]
    );
    // Health data on the doctor's disk is theirs alone, whatever the umask.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out_dir), 0o700);
    for file in std::fs::read_dir(&out_dir).unwrap().flatten() {
        assert_eq!(mode(&file.path()), 0o600, "{}", file.path().display());
    }

    // A view-only share may not be saved.
    let view = share_link(&v, &[&id[0], "--offline"]);
    amanat_bare(
        &["receive", &view, "--out", v.scratch("nope").to_str().unwrap()],
        &[],
    )
    .fails_saying(6, "view-only");
}

#[test]
fn registries_let_a_patient_name_a_provider_by_registration() {
    let v = wallet_with_records();
    let (rao, rao_card) = provider(&v, "Dr. Imran Rao", "PMDC-12345-P");
    let (thumbprint, snapshot) = signed_registry(&v, &[&rao_card]);
    // A thumbprint is base64url: one key in 64 has one that begins with '-',
    // which must reach the check, not be read as a flag.
    trust_registry(&v, &snapshot, "-7AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .fails_saying(1, "not the registry's key you gave");
    trust_registry(&v, &snapshot, &thumbprint).ok();
    assert!(v.run(&["registry", "list"]).ok().contains("PMDC-12345-P"));
    let id = v.ids(&["--type", "Condition"]);
    let link = share_link(&v, &[&id[0], "--offline", "--to", "pmdc-12345-p"]);
    amanat_bare(
        &["receive", &link, "--identity", rao.to_str().unwrap()],
        &[("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase")],
    )
    .ok_saying("listed by Pakistan Medical & Dental Council");
}

#[test]
fn qr_png_is_read_back_from_the_image() {
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Observation"]);
    let png = v.scratch("share.png");
    let svg = v.scratch("share.svg");
    share(
        &v,
        &[
            &id[0],
            &id[1],
            "--offline",
            "--qr-png",
            png.to_str().unwrap(),
            "--qr-svg",
            svg.to_str().unwrap(),
        ],
    );
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let got = amanat_bare(&["receive", "--json", "--qr-image", png.to_str().unwrap()], &[]).json();
    assert_eq!(got["records"].as_array().unwrap().len(), 2);
    let blank = v.scratch("blank.png");
    std::fs::copy(fixture("blank.png"), &blank).unwrap();
    amanat_bare(&["receive", "--qr-image", blank.to_str().unwrap()], &[])
        .fails_saying(6, "no QR code was found");
}

#[test]
fn passcode_locked_share() {
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Condition"]);
    let share_args = [
        "share",
        "--json",
        &id[0],
        "--purpose",
        "emergency",
        "--expires",
        "30m",
        "--offline",
        "--passcode",
    ];

    // A short passcode is refused: the QR code carries the ciphertext, so it
    // could be guessed offline (it used to be accepted).
    let err = v
        .run_env(&share_args, &[("AMANAT_SHARE_PASSCODE", "4417")])
        .fails_with(1);
    assert!(
        err.contains("a passcode of 4 characters is too easy to guess")
            && err.contains("about 100,000 a second"),
        "{err}"
    );
    assert_eq!(v.run(&["grants", "--json"]).json().as_array().unwrap().len(), 0);

    // The wallet makes one: 60 random bits, shown once.
    let out = v.run(&share_args).json();
    let link = out["link"].as_str().unwrap().to_string();
    let code = out["passcode"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 14, "{code}");
    amanat_bare(&["receive", &link], &[("AMANAT_SHARE_PASSCODE", "1111")])
        .fails_saying(6, "passcode is wrong");
    // As a doctor's phone keyboard may type it: a capital, no dashes.
    let typed = format!("{}{}", code[..1].to_uppercase(), code[1..].replace('-', ""));
    amanat_bare(&["receive", &link], &[("AMANAT_SHARE_PASSCODE", &typed)]).ok_saying("an emergency (BTG)");

    // A long passphrase of the patient's own is used exactly as given.
    let phrase = "zara's doctor at the lahore clinic";
    let out = v
        .run_env(&share_args, &[("AMANAT_SHARE_PASSCODE", phrase)])
        .json();
    assert!(
        out["passcode"].is_null(),
        "a chosen passphrase is not printed back"
    );
    let link = out["link"].as_str().unwrap().to_string();
    amanat_bare(&["receive", &link], &[("AMANAT_SHARE_PASSCODE", phrase)]).ok_saying("an emergency (BTG)");
}

#[test]
fn an_independent_jose_library_verifies_the_grant() {
    let v = wallet_with_records();
    let id = v.ids(&["--type", "Observation"]);
    let link = share_link(&v, &[&id[0], "--offline"]);
    let got = receive(&link).json();
    let jws = got["jws"].as_str().unwrap();
    let js = amanat_tests::workspace_root().join("target/js");
    assert!(
        js.join("node_modules/jose").exists(),
        "npm's jose is needed: the README test command installs it into target/js"
    );
    let script = r#"
        import { compactVerify, EmbeddedJWK } from 'jose';
        const { payload, protectedHeader } = await compactVerify(process.argv[2], EmbeddedJWK);
        console.log(JSON.stringify({ header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload)) }));
    "#;
    let path = js.join("verify-grant.mjs");
    std::fs::write(&path, script).unwrap();
    let out = Command::new("node")
        .arg(&path)
        .arg(jws)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "jose refused the grant: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verified["header"]["alg"], "EdDSA");
    assert_eq!(verified["payload"], got["grant"]);
    // And refuses it when one byte of the payload changes.
    let mut parts: Vec<&str> = jws.split('.').collect();
    let altered = parts[1].replacen('e', "f", 1);
    parts[1] = &altered;
    let out = Command::new("node")
        .arg(&path)
        .arg(parts.join("."))
        .output()
        .unwrap();
    assert!(!out.status.success(), "jose accepted an altered grant");
}

#[test]
fn a_share_cannot_hide_text_from_the_doctor_with_terminal_escapes() {
    // A share made with the library (as an attacker's own code would), whose
    // patient name hides what follows and whose record title moves the cursor.
    let v = wallet_with_records();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let condition = br#"{"resourceType":"Condition","subject":{"reference":"Patient/p"},"code":{"text":"Hypertension\u001b[1A\u001b[2KNo known conditions"}}"#;
    let patient = "Ayesha Siddiqui\u{1b}[8m (not the patient you think)\u{202e}";
    let link = crafted_share(&v, patient, now, condition.to_vec());
    let run = amanat_bare(&["receive", &link], &[]);
    let shown = run.ok();
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{202e}'),
        "{shown:?}"
    );
    assert!(
        shown.contains("VERIFIED share from Ayesha Siddiqui\\u{1b}[8m (not the patient you think)\\u{202e}"),
        "{shown}"
    );
    assert!(
        shown.contains("Hypertension\\u{1b}[1A\\u{1b}[2KNo known conditions"),
        "{shown}"
    );
}

#[test]
fn a_record_imported_anyway_tells_the_doctor_whom_its_file_was_about() {
    let v = TestVault::new();
    // Her own lab report, and her sister's, imported anyway into her profile.
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok();
    let sister = v.scratch("sister.json");
    write_json(
        &sister,
        &json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "name": [{"text": "Ayesha Khan"}],
                "birthDate": "1971-02-03", "identifier": [{"value": "35202-1234567-4"}]}},
            {"resource": {"resourceType": "Condition", "code": {"text": "Asthma"},
                "subject": {"reference": "Patient/k"}}}]}),
    );
    v.run(&["import", sister.to_str().unwrap()]).fails_with(1);
    v.run(&["import", "--accept-mismatch", sister.to_str().unwrap()])
        .ok();
    let asthma = v.first_id(&["--type", "Condition", "--search", "asthma"]);
    let own = v.first_id(&["--type", "Observation"]);
    let link = share(&v, &[&asthma, &own, "--offline"])["link"]
        .as_str()
        .unwrap()
        .to_string();

    // Signed with the grant, shown beside the record: the doctor sees that
    // this record, in Ayesha Siddiqui's share, was written about someone else.
    let shown = amanat_bare(&["receive", &link], &[]).ok();
    let warning = "! from a file about Ayesha Khan, born 1971-02-03, CNIC 35202-1234567-4";
    assert_eq!(shown.matches(warning).count(), 1, "{shown}");
    let line_before = shown.lines().take_while(|l| !l.contains(warning)).last().unwrap();
    assert!(line_before.contains("Asthma"), "{shown}");
    let got = receive(&link).json();
    let about: Vec<Value> = got["grant"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["about"].clone())
        .collect();
    assert_eq!(
        about,
        [
            json!("Ayesha Khan, born 1971-02-03, CNIC 35202-1234567-4"),
            Value::Null
        ],
        "her own record says nothing more"
    );
}
