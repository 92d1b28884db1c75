//! Scan & Share: a facility's counter card (`amanat provider facility-card`),
//! patients registering by scanning it (`amanat scan-share`) through a real
//! relay, the facility's inbox in arrival order with token numbers (`amanat
//! provider inbox`): the details and nothing else, and each refusal in words.

use std::path::Path;

use amanat_tests::browser::{Chrome, WalletServer, write_y4m};
use amanat_tests::{
    Run, TestRelay, TestVault, amanat_bare, impostor, provider, signed_registry, trust_registry,
};
use serde_json::Value;

use crate::sharing::wallet_with_records;

const FACILITY_PASS: (&str, &str) = ("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase");

/// The facility's own commands, with its passphrase.
fn as_facility(identity: &Path, args: &[&str]) -> Run {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--identity", identity.to_str().unwrap()]);
    amanat_bare(&a, &[FACILITY_PASS])
}

/// A counter card for the facility `identity`, sending to `relay`; its QR code in `png`.
fn counter_card(identity: &Path, relay: &TestRelay, png: &Path, extra: &[&str]) -> Value {
    let mut a = vec![
        "provider",
        "facility-card",
        "--name",
        "City Hospital",
        "--counter",
        "OPD registration",
        "--relay",
        &relay.url,
        "--qr-png",
        png.to_str().unwrap(),
        "--json",
    ];
    a.extend_from_slice(extra);
    as_facility(identity, &a).json()
}

fn inbox(identity: &Path, extra: &[&str]) -> Vec<Value> {
    let mut a = vec!["provider", "inbox", "--json"];
    a.extend_from_slice(extra);
    as_facility(identity, &a).json().as_array().unwrap().clone()
}

/// A second patient, with a phone number in their profile.
fn patient_with_phone() -> TestVault {
    let v = TestVault::empty();
    v.run(&[
        "init",
        "--name",
        "Imran Qureshi",
        "--birth-date",
        "1980-02-29",
        "--gender",
        "male",
        "--cnic",
        "42101-7654321-3",
        "--phone",
        "+92 300 1234567",
    ])
    .ok();
    v
}

#[test]
fn scan_and_share_delivers_the_details_alone_to_the_facility_in_arrival_order_with_tokens() {
    let relay = TestRelay::start(0);
    let ayesha = wallet_with_records();
    let imran = patient_with_phone();
    let (hospital, card) = provider(&ayesha, "City Hospital", "IN2710000123");
    let (thumbprint, snapshot) = signed_registry(&ayesha, &[&card]);
    trust_registry(&ayesha, &snapshot, &thumbprint).ok();
    let png = ayesha.scratch("counter.png");
    let made = counter_card(&hospital, &relay, &png, &[]);
    assert_eq!(made["card"]["facility"]["id"], "IN2710000123");
    as_facility(&hospital, &["provider", "inbox"]).ok_saying("No patient has registered on");

    // Scanned in a script without --yes: shown, nothing shared.
    let shown = ayesha
        .run(&["scan-share", "--qr-image", png.to_str().unwrap()])
        .ok();
    for words in [
        "City Hospital, OPD registration (facility IN2710000123)",
        "listed by Pakistan Medical & Dental Council",
        "It would receive, for 1 day:",
        "Ayesha Siddiqui",
        "born 1968-04-12), CNIC 35202-1234567-2",
        "and no health record.",
        "Nothing was shared (add --yes to share them)",
    ] {
        assert!(shown.contains(words), "{words:?} in {shown}");
    }
    assert!(
        ayesha
            .run(&["grants", "--json"])
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Ayesha, then Imran (whose wallet trusts no registry: shown in red words).
    let first = ayesha
        .run(&[
            "scan-share",
            "--qr-image",
            png.to_str().unwrap(),
            "--yes",
            "--json",
        ])
        .json();
    assert_eq!(first["token"], 1);
    assert_eq!(first["facility"], "City Hospital, OPD registration");
    assert_eq!(first["share"]["records"], 0, "no record is shared");
    let text = made["text"].as_str().unwrap();
    let unlisted = imran.run(&["scan-share", text]).ok();
    assert!(unlisted.contains("NOT IN ANY REGISTRY YOU TRUST"), "{unlisted}");
    assert!(unlisted.contains("phone +92 300 1234567"), "{unlisted}");
    let second = imran.run(&["scan-share", text, "--yes"]).ok();
    assert!(
        second.contains("✓ Token 2 at City Hospital, OPD registration"),
        "{second}"
    );

    // Four more patients at the same moment: every one a different token,
    // whoever loses a race at the relay takes the next.
    let others: Vec<TestVault> = (0..4).map(|_| TestVault::new()).collect();
    let tokens: Vec<u64> = std::thread::scope(|s| {
        let runs: Vec<_> = others
            .iter()
            .map(|v| {
                s.spawn(move || v.run(&["scan-share", text, "--yes", "--json"]).json()["token"].as_u64())
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap().unwrap()).collect()
    });
    let mut sorted = tokens.clone();
    sorted.sort();
    assert_eq!(sorted, vec![3, 4, 5, 6], "{tokens:?}");

    // Imran withdraws his first registration.
    let imran_first = imran.run(&["grants", "--json"]).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    imran
        .run(&["grants", "revoke", &imran_first])
        .ok_saying("Revoked");
    // and registers again: the next token, after everyone before him.
    let again = imran.run(&["scan-share", text, "--yes", "--json"]).json();
    assert_eq!(again["token"], 7);

    // The facility's inbox: in order, the details as signed, nothing else.
    let out = ayesha.scratch("arrivals");
    let arrivals = inbox(&hospital, &["--out", out.to_str().unwrap()]);
    let tokens: Vec<u64> = arrivals.iter().map(|a| a["token"].as_u64().unwrap()).collect();
    assert_eq!(tokens, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(arrivals[0]["state"], "arrived");
    assert_eq!(arrivals[0]["name"], "Ayesha Siddiqui");
    let withdrawn: Vec<_> = arrivals.iter().filter(|a| a["state"] == "withdrawn").collect();
    assert_eq!(withdrawn.len(), 1, "{arrivals:?}");
    assert_eq!(withdrawn[0]["token"], 2);
    let patient = &arrivals[0]["patient"];
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(patient["birthDate"], "1968-04-12");
    assert_eq!(patient["identifier"][0]["value"], "35202-1234567-2");
    assert!(
        patient.get("telecom").is_none(),
        "Ayesha gave no phone: {patient}"
    );
    let imran_later = arrivals
        .iter()
        .find(|a| a["name"] == "Imran Qureshi" && a["state"] == "arrived")
        .unwrap();
    assert_eq!(
        imran_later["patient"]["telecom"],
        serde_json::json!([{"system": "phone", "value": "+92 300 1234567"}])
    );
    let saved = std::fs::read_to_string(out.join("token-1-Patient.json")).unwrap();
    assert!(saved.contains("\"resourceType\": \"Patient\""), "{saved}");
    assert!(
        !out.join("token-2-Patient.json").exists(),
        "withdrawn: not written"
    );
    for a in &arrivals {
        let keys: Vec<_> = a["patient"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        for key in &keys {
            assert!(
                [
                    "resourceType",
                    "id",
                    "name",
                    "identifier",
                    "gender",
                    "birthDate",
                    "telecom"
                ]
                .contains(&key.as_str()),
                "only details: {key} in {a}"
            );
        }
    }
    // None of Ayesha's records reached the relay or the facility.
    let table = as_facility(&hospital, &["provider", "inbox"]).ok();
    for words in [
        "TOKEN",
        "Ayesha Siddiqui",
        "(withdrawn by the patient)",
        "City Hospital, OPD registration",
    ] {
        assert!(table.contains(words), "{words:?} in {table}");
    }
    assert!(!table.contains("Hemoglobin"), "{table}");

    // The patient's wallet lists the share (no record), audited.
    let grants = ayesha.run(&["grants", "--json"]).json();
    assert!(
        grants
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["records"] == 0 && g["to"].as_str().unwrap().contains("City Hospital")),
        "{grants}"
    );
    let audit = ayesha.run(&["audit"]).ok();
    assert!(audit.contains("City Hospital"), "{audit}");

    // Another day's queue is empty.
    assert!(inbox(&hospital, &["--day", "2020-01-01"]).is_empty());
}

#[test]
fn altered_impostor_expired_and_foreign_facility_cards_are_refused_each_in_words() {
    let relay = TestRelay::start(0);
    let v = TestVault::new();
    let (hospital, card) = provider(&v, "City Hospital", "IN2710000123");
    let (thumbprint, snapshot) = signed_registry(&v, &[&card]);
    trust_registry(&v, &snapshot, &thumbprint).ok();
    let png = v.scratch("counter.png");
    let text = counter_card(&hospital, &relay, &png, &[])["text"]
        .as_str()
        .unwrap()
        .to_string();

    // One character of the payload changed.
    let (head, sig) = text.rsplit_once('.').unwrap();
    let (prefix, payload) = head.rsplit_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    bytes[20] = if bytes[20] == b'A' { b'B' } else { b'A' };
    let altered = format!("{prefix}.{}.{sig}", String::from_utf8(bytes).unwrap());
    v.run(&["scan-share", &altered, "--yes"])
        .fails_saying(1, "the facility card was altered: its signature does not verify");

    // Someone else's key, in the listed facility's name.
    let forger = impostor(&v, "City Hospital", "IN2710000123");
    let forged = counter_card(&forger, &relay, &v.scratch("forged.png"), &[])["text"]
        .as_str()
        .unwrap()
        .to_string();
    v.run(&["scan-share", &forged, "--yes"]).fails_saying(
        1,
        "which Pakistan Medical & Dental Council lists with another key: refused",
    );

    // Expired.
    let old = counter_card(&hospital, &relay, &v.scratch("old.png"), &["--valid", "1s"])["text"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    v.run(&["scan-share", &old, "--yes"])
        .fails_saying(1, "the facility card expired on");

    // A consent request is not a facility card; a facility card names its own id.
    v.run(&["scan-share", "AMANAT-REQUEST:a.b.c"])
        .fails_saying(1, "not a facility card: it does not start with AMANAT-FACILITY:");
    as_facility(
        &hospital,
        &[
            "provider",
            "facility-card",
            "--name",
            "X",
            "--facility-id",
            "IN999",
            "--relay",
            &relay.url,
        ],
    )
    .fails_saying(1, "your identity is registered as IN2710000123");

    // Nothing was shared by any of these.
    assert!(v.run(&["grants", "--json"]).json().as_array().unwrap().is_empty());
    assert!(inbox(&hospital, &[]).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patients_phone_scans_the_counters_code_and_shows_its_token() {
    let relay = TestRelay::start(0);
    let v = wallet_with_records();
    let (hospital, card) = provider(&v, "City Hospital", "IN2710000123");
    let (thumbprint, snapshot) = signed_registry(&v, &[&card]);
    trust_registry(&v, &snapshot, &thumbprint).ok();
    let png = v.scratch("counter.png");
    counter_card(&hospital, &relay, &png, &[]);
    let forger = impostor(&v, "City Hospital", "IN2710000123");
    let forged = counter_card(&forger, &relay, &v.scratch("forged.png"), &[]);
    let y4m = v.scratch("counter.y4m");
    write_y4m(&std::fs::read(&png).unwrap(), &y4m);

    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let phone = Chrome::phone_with_camera(&y4m).await;
    let c = &phone.client;
    c.goto(&server.url).await.unwrap();
    phone.wait("[data-testid=patient-name]").await;

    // A forged card, pasted: refused in words, nothing shown to share.
    c.goto(&format!("{}/#/requests", server.base)).await.unwrap();
    phone
        .type_in("[data-testid=request-text]", forged["text"].as_str().unwrap())
        .await;
    phone.click("[data-testid=request-open]").await;
    phone
        .wait_text(
            ".scan-request [data-testid=banner-error]",
            "lists with another key",
        )
        .await;

    // The camera reads the counter's code: the facility, listed, and what it would get.
    phone.click("[data-testid=camera]").await;
    phone
        .wait_text("[data-testid=facility-name]", "City Hospital, OPD registration")
        .await;
    phone
        .wait_text(
            "[data-testid=facility-listed]",
            "Pakistan Medical & Dental Council",
        )
        .await;
    let details = phone
        .wait_text("[data-testid=facility-details]", "Ayesha Siddiqui")
        .await;
    assert!(details.contains("CNIC 35202-1234567-2"), "{details}");
    assert_eq!(phone.overflow_x().await, 0);
    phone.shot("scan-share-phone").await;
    phone.click("[data-testid=facility-share]").await;
    phone.wait_text("[data-testid=facility-token]", "1").await;
    phone.shot("scan-share-token-phone").await;

    // The facility's inbox has her, token 1, and nothing else.
    let arrivals = inbox(&hospital, &[]);
    assert_eq!(arrivals.len(), 1, "{arrivals:?}");
    assert_eq!(arrivals[0]["token"], 1);
    assert_eq!(arrivals[0]["name"], "Ayesha Siddiqui");
    assert_eq!(
        arrivals[0]["patient"]["identifier"][0]["value"],
        "35202-1234567-2"
    );
}
