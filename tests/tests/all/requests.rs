//! Consent requests, provider → patient → provider: `amanat provider request`,
//! `amanat requests open/approve/deny`, `amanat receive --request`, with a
//! real relay; the lifecycle on both sides and every refusal in its words.

use std::path::{Path, PathBuf};

use amanat_tests::browser::{Chrome, WalletServer, write_y4m};
use amanat_tests::{Run, TestRelay, TestVault, amanat_bare, provider, signed_registry, trust_registry};
use serde_json::Value;

use crate::sharing::wallet_with_records;

const DOCTOR_PASS: (&str, &str) = ("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase");

/// `amanat provider request …` by the provider `identity`, as JSON.
fn request(identity: &Path, args: &[&str]) -> Value {
    let mut a = vec![
        "provider",
        "request",
        "--json",
        "--identity",
        identity.to_str().unwrap(),
    ];
    a.extend_from_slice(args);
    amanat_bare(&a, &[DOCTOR_PASS]).json()
}

/// The provider's own commands, with their passphrase.
fn as_doctor(identity: &Path, args: &[&str]) -> Run {
    let mut a = args.to_vec();
    a.extend_from_slice(&["--identity", identity.to_str().unwrap()]);
    amanat_bare(&a, &[DOCTOR_PASS])
}

/// A wallet with records that trusts the council listing Dr. Rao; his identity.
fn patient_and_doctor() -> (TestVault, PathBuf) {
    let v = wallet_with_records();
    let (rao, card) = provider(&v, "Dr. Imran Rao", "PMDC-12345-P");
    let (thumbprint, snapshot) = signed_registry(&v, &[&card]);
    trust_registry(&v, &snapshot, &thumbprint).ok();
    (v, rao)
}

fn state_of(v: &TestVault, id: &str) -> String {
    let rows = v.run(&["requests", "--json"]).json();
    let row = rows.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap();
    row["state"].as_str().unwrap().to_string()
}

fn doctor_state(rao: &Path, id: &str) -> String {
    let rows = as_doctor(rao, &["provider", "requests", "--json"]).json();
    let row = rows.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap();
    row["state"].as_str().unwrap().to_string()
}

/// Dr. Rao asks, through `relay`, for reports, observations and conditions
/// since 2018 for treatment, for a week; its QR code in `png`.
fn ask_for_a_week(rao: &Path, relay: &TestRelay, png: &Path) -> Value {
    request(
        rao,
        &[
            "--types",
            "DiagnosticReport,Observation,Condition",
            "--since",
            "2018-01-01",
            "--purpose",
            "CAREMGT",
            "--for",
            "7d",
            "--relay",
            &relay.url,
            "--qr-png",
            png.to_str().unwrap(),
        ],
    )
}

#[test]
fn a_request_narrowed_and_approved_reaches_the_doctor_with_exactly_the_narrowed_records() {
    let relay = TestRelay::start(0);
    let (v, rao) = patient_and_doctor();
    let png = v.scratch("request.png");
    let made = ask_for_a_week(&rao, &relay, &png);
    let id = made["id"].as_str().unwrap().to_string();
    assert_eq!(doctor_state(&rao, &id), "requested");
    // Before the patient answers, the doctor hears there is no answer yet.
    as_doctor(&rao, &["receive", "--request", &id]).fails_saying(6, "no answer yet");

    // The patient opens it from the photo of its QR code: verified, in words.
    let shown = v
        .run(&["requests", "open", "--qr-image", png.to_str().unwrap()])
        .ok();
    for words in [
        "from Dr. Imran Rao (PMDC-12345-P), listed by Pakistan Medical & Dental Council",
        "asks to see your DiagnosticReport, Observation, Condition from 2018-01-01, for treatment (CAREMGT), for 7 days",
        "6 of your records match what is asked",
    ] {
        assert!(shown.contains(words), "{words:?} in {shown}");
    }
    assert_eq!(state_of(&v, &id), "requested");

    // Wider than asked is refused, nothing shared.
    v.run(&["requests", "approve", &id, "--types", "VisionPrescription"])
        .fails_saying(1, "VisionPrescription was not asked for");
    v.run(&["requests", "approve", &id, "--for", "30d"]).fails_saying(
        1,
        "access is asked for 7 days: you can give that or less, not 30 days",
    );
    v.run(&["requests", "approve", &id, "--since", "2017-01-01"])
        .fails_saying(1, "the request asks for records from 2018-01-01");
    assert!(v.run(&["grants", "--json"]).json().as_array().unwrap().is_empty());

    // Narrowed: one type, a later start, fewer days.
    let answer = v
        .run(&[
            "requests",
            "approve",
            &id,
            "--types",
            "Observation",
            "--since",
            "2026-06-01",
            "--for",
            "3d",
            "--json",
        ])
        .json();
    assert_eq!(answer["grant"]["id"], id.as_str());
    assert_eq!(answer["records"].as_array().unwrap().len(), 1);
    assert_eq!(state_of(&v, &id), "granted");

    // The doctor opens it by the request's id: exactly the narrowed records.
    let got = as_doctor(&rao, &["receive", "--request", &id, "--json"]).json();
    let records = got["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["resourceType"], "Observation");
    assert_eq!(records[0]["effectiveDateTime"], "2026-06-01");
    let grant = &got["grant"];
    assert_eq!(grant["jti"], id.as_str());
    assert_eq!(
        grant["exp"].as_i64().unwrap() - grant["iat"].as_i64().unwrap(),
        3 * 86_400
    );
    assert_eq!(grant["to"]["registry"], "Pakistan Medical & Dental Council");
    assert_eq!(doctor_state(&rao, &id), "granted");
    // Answered once: it cannot be approved again, nor denied.
    v.run(&["requests", "approve", &id])
        .fails_saying(1, "is granted: only a request still waiting");
    v.run(&["requests", "deny", &id]).fails_saying(1, "is granted");

    // The patient revokes: both sides say so.
    v.run(&["grants", "revoke", &id]).ok();
    assert_eq!(state_of(&v, &id), "revoked");
    as_doctor(&rao, &["receive", "--request", &id]).fails_saying(6, "revoked");
    assert_eq!(doctor_state(&rao, &id), "revoked");

    let audit = v.run(&["audit"]).ok();
    for words in [
        &format!(
            "opened consent request {id} from Dr. Imran Rao (PMDC-12345-P, listed by Pakistan Medical & Dental Council)"
        ),
        &format!("approved consent request {id} from Dr. Imran Rao"),
    ] {
        assert!(audit.contains(words.as_str()), "{words:?} in {audit}");
    }
}

#[test]
fn denied_expired_unlisted_impostor_and_altered_requests_each_say_so() {
    let (v, rao) = patient_and_doctor();
    let ask = |identity: &Path, extra: &[&str]| {
        let mut a = vec!["--types", "Observation"];
        a.extend_from_slice(extra);
        request(identity, &a)
    };

    // Denied: recorded, then nothing more can be done with it.
    let denied = ask(&rao, &["--relay", "http://127.0.0.1:9"]);
    let id = denied["id"].as_str().unwrap();
    v.run(&["requests", "open", denied["text"].as_str().unwrap()])
        .ok();
    v.run(&["requests", "deny", id]).ok_saying("Denied request");
    assert_eq!(state_of(&v, id), "denied");
    v.run(&["requests", "approve", id]).fails_saying(1, "is denied");
    assert!(
        v.run(&["audit"])
            .ok()
            .contains(&format!("denied consent request {id}"))
    );

    // Expired before it was opened.
    let late = ask(&rao, &["--expires", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    v.run(&["requests", "open", late["text"].as_str().unwrap()])
        .fails_saying(1, "the request expired on");

    // From a doctor no trusted registry lists: shown, and said so.
    let (stranger, _) = provider(&v, "Dr. Noor Fatima", "PMDC-99999-P");
    let unlisted = ask(&stranger, &[]);
    let shown = v
        .run(&["requests", "open", unlisted["text"].as_str().unwrap()])
        .ok();
    assert!(shown.contains("NOT IN ANY REGISTRY YOU TRUST"), "{shown}");
    let rows = v.run(&["requests", "--json"]).json();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == unlisted["id"])
        .unwrap();
    assert!(row["listed_by"].is_null());

    // Someone asking in Dr. Rao's name with their own key is refused.
    let impostor = amanat_tests::impostor(&v, "Dr. Imran Rao", "PMDC-12345-P");
    let forged = ask(&impostor, &[]);
    v.run(&["requests", "open", forged["text"].as_str().unwrap()])
        .fails_saying(1, "lists with another key: refused");

    // Widened after signing: the signature catches it.
    let honest = ask(&rao, &[]);
    let text = honest["text"].as_str().unwrap();
    let mut parts: Vec<String> = text.split('.').map(str::to_string).collect();
    let mut claims = honest["request"].clone();
    claims["types"] = serde_json::json!(["Observation", "Condition"]);
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    v.run(&["requests", "open", &parts.join(".")])
        .fails_saying(1, "the request was altered");
    v.run(&["requests", "open", "AMANAT-REQUEST:nonsense"])
        .fails_saying(1, "not a consent request");
    v.run(&["requests", "approve", "no-such-request"])
        .fails_saying(1, "no consent request 'no-such-request'");
}

#[test]
fn without_a_relay_the_answer_is_a_qr_code_the_doctor_scans() {
    let (v, rao) = patient_and_doctor();
    let made = request(&rao, &["--types", "Condition"]);
    let id = made["id"].as_str().unwrap();
    v.run(&["requests", "open", made["text"].as_str().unwrap()]).ok();
    let png = v.scratch("answer.png");
    let out = v
        .run(&["requests", "approve", id, "--qr-png", png.to_str().unwrap()])
        .ok_saying("Show this code to the doctor");
    assert!(out.contains("AMANAT"), "{out}");
    as_doctor(&rao, &["receive", "--request", id]).fails_saying(1, "asked for the answer as a QR code");
    let got = as_doctor(&rao, &["receive", "--qr-image", png.to_str().unwrap(), "--json"]).json();
    assert_eq!(got["grant"]["jti"], id);
    assert_eq!(got["records"][0]["resourceType"], "Condition");
    assert_eq!(got["records"].as_array().unwrap().len(), 1);
    assert_eq!(doctor_state(&rao, id), "granted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patients_phone_scans_a_request_gives_less_than_asked_and_the_doctor_receives_it() {
    let relay = TestRelay::start(0);
    let (v, rao) = patient_and_doctor();
    let png = v.scratch("request.png");
    let made = ask_for_a_week(&rao, &relay, &png);
    let id = made["id"].as_str().unwrap().to_string();
    let denied = request(&rao, &["--types", "Condition"]);
    let (stranger, _) = provider(&v, "Dr. Noor Fatima", "PMDC-99999-P");
    let unlisted = request(&stranger, &["--types", "Condition"]);
    let y4m = v.scratch("request.y4m");
    write_y4m(&std::fs::read(&png).unwrap(), &y4m);

    let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
    let phone = Chrome::phone_with_camera(&y4m).await;
    let c = &phone.client;
    c.goto(&server.url).await.unwrap();
    phone.wait("[data-testid=patient-name]").await;
    c.goto(&format!("{}/#/requests", server.base)).await.unwrap();
    // The camera reads the doctor's code: the request in plain words.
    phone.click("[data-testid=camera]").await;
    let asked = phone
        .wait_text("[data-testid=request-asked]", "asks to see your")
        .await;
    assert!(
        asked.contains("Dr. Imran Rao (PMDC-12345-P) asks to see your DiagnosticReport, Observation, Condition from 2018-01-01, for treatment (CAREMGT), for 7 days"),
        "{asked}"
    );
    phone
        .wait_text(
            "[data-testid=request-listed]",
            "Pakistan Medical & Dental Council",
        )
        .await;
    phone
        .wait_text("[data-testid=request-matching]", "6 of your records")
        .await;
    assert_eq!(phone.overflow_x().await, 0);
    phone.shot("request-phone").await;
    // Less than asked: Observations only, from June 2026, for one day.
    phone
        .click("[data-testid=request-type][value=DiagnosticReport]")
        .await;
    phone.click("[data-testid=request-type][value=Condition]").await;
    c.execute(
        "const e = document.querySelector('[data-testid=request-since]'); e.value = '2026-06-01'; e.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    phone
        .click("[data-testid=request-duration] option[value='86400']")
        .await;
    phone.click("[data-testid=request-approve]").await;
    phone
        .wait_text("[data-testid=request-sent]", "Sent to the doctor")
        .await;
    phone.wait_text("[data-testid=request-state]", "granted").await;

    // The doctor receives exactly that.
    let got = as_doctor(&rao, &["receive", "--request", &id, "--json"]).json();
    let records = got["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["resourceType"], "Observation");
    let grant = &got["grant"];
    assert_eq!(
        grant["exp"].as_i64().unwrap() - grant["iat"].as_i64().unwrap(),
        86_400
    );

    // Pasted: one denied, one from a doctor no trusted registry lists, in red.
    for (text, deny) in [(&denied, true), (&unlisted, false)] {
        // Another page and back: the requests page starts afresh.
        c.goto(&format!("{}/#/grants", server.base)).await.unwrap();
        phone.wait("[data-testid=grants-table]").await;
        c.goto(&format!("{}/#/requests", server.base)).await.unwrap();
        phone
            .type_in("[data-testid=request-text]", text["text"].as_str().unwrap())
            .await;
        phone.click("[data-testid=request-open]").await;
        phone.wait("[data-testid=request-asked]").await;
        if deny {
            phone.click("[data-testid=request-deny]").await;
        }
    }
    phone
        .wait_text("[data-testid=request-unlisted]", "Not in any registry you trust")
        .await;
    phone.shot("request-unlisted-phone").await;
    let mut states = Vec::new();
    for row in c
        .find_all(fantoccini::Locator::Css("[data-testid=request-row]"))
        .await
        .unwrap()
    {
        states.push(row.text().await.unwrap());
    }
    let joined = states.join("\n");
    assert!(
        joined.contains("granted") && joined.contains("denied") && joined.contains("requested"),
        "{joined}"
    );
}
