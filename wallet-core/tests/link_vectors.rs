//! Table-driven test of the share-link format against `tests/vectors/link`:
//! `valid_*` links open (at the vector's `now`) to the stated records; `fail_*`
//! links are refused with the stated error. Regenerate with
//! `AMANAT_REGENERATE_VECTORS=1 cargo test -p wallet-core --test link_vectors`
//! (age encryption is randomised, so regenerated links differ byte for byte).

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use wallet_core::share::grant::{AccessMode, Grant, GrantError, Grantee, Purpose};
use wallet_core::share::link::{LinkError, ShareLink};
use wallet_core::share::{self, Lock, ShareError, ShareInput};

const NOW: i64 = 1_790_000_000;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/link")
}

fn inputs() -> Vec<ShareInput> {
    [
        r#"{"resourceType":"Condition","id":"c1","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]},"subject":{"reference":"Patient/p1"},"onsetDateTime":"2018-11-24"}"#,
        r#"{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},"effectiveDateTime":"2026-05-10","valueQuantity":{"value":7.4,"unit":"%"}}"#,
    ]
    .iter()
    .enumerate()
    .map(|(i, json)| ShareInput {
        resource_type: if i == 0 { "Condition".into() } else { "Observation".into() },
        bytes: json.as_bytes().to_vec(),
        about: None,
        signature: None,
        card: None,
    })
    .collect()
}

fn grant(exp: i64) -> Grant {
    Grant {
        v: 1,
        jti: "linkvectorgrant1".into(),
        wallet: String::new(),
        patient: "Ayesha Siddiqui".into(),
        subject: None,
        to: Grantee::Bearer,
        purpose: Purpose::CareManagement,
        mode: AccessMode::View,
        iat: NOW - 60,
        nbf: NOW - 60,
        exp,
        uses: None,
        records: vec![],
    }
}

fn generate() -> Vec<(&'static str, &'static str, String, &'static str)> {
    let key = SigningKey::from_bytes(&[0x42; 32]);
    let pk = key.verifying_key();
    let offline = share::seal(&inputs(), grant(NOW + 86_400), &key, Lock::Bearer)
        .unwrap()
        .link(None, &pk)
        .encode();
    // A relay link that carries its record list, so the grant verifies before
    // anything is fetched (wallets detach it; readers accept both).
    let mut relay = share::seal(&inputs(), grant(NOW + 86_400), &key, Lock::Bearer)
        .unwrap()
        .link(Some("https://relay.example/v1/shares/linkvectorgrant1"), &pk);
    relay.detached = false;
    let relay = relay.encode();
    let expired = share::seal(&inputs(), grant(NOW - 1), &key, Lock::Bearer)
        .unwrap()
        .link(None, &pk)
        .encode();
    let mut swapped = share::seal(&inputs(), grant(NOW + 86_400), &key, Lock::Bearer)
        .unwrap()
        .link(None, &pk);
    swapped.grant.patient = "Someone Else".into();
    let mid = offline.len() / 2;
    let mut damaged = offline.clone().into_bytes();
    damaged[mid] = if damaged[mid] == b'0' { b'1' } else { b'0' };
    vec![
        (
            "valid_offline",
            "an offline bearer link with two records",
            offline.clone(),
            "valid",
        ),
        (
            "valid_relay",
            "a relay link (grant verifiable before fetching)",
            relay,
            "valid_relay",
        ),
        (
            "fail_expired",
            "expired a second before `now`",
            expired,
            "expired",
        ),
        (
            "fail_altered_claims",
            "the patient's name changed after signing",
            swapped.encode(),
            "signature_mismatch",
        ),
        (
            "fail_truncated",
            "the last character cut off",
            offline[..offline.len() - 1].to_string(),
            "truncated",
        ),
        (
            "fail_damaged",
            "one character in the middle changed",
            String::from_utf8(damaged).unwrap(),
            "damaged",
        ),
        (
            "fail_not_a_link",
            "a web address, not a share",
            "https://example.com/".into(),
            "not_a_link",
        ),
    ]
}

fn outcome(text: &str) -> String {
    let link = match ShareLink::decode(text) {
        Ok(l) => l,
        Err(LinkError::Truncated) => return "truncated".into(),
        Err(LinkError::Damaged(_) | LinkError::Malformed(_)) => return "damaged".into(),
        Err(LinkError::NotALink) => return "not_a_link".into(),
        Err(e) => return format!("link:{e}"),
    };
    let result = match &link.location {
        wallet_core::share::link::Location::Inline(ct) => {
            share::open(&link, ct, NOW, None, None).map(|r| r.records.len())
        }
        wallet_core::share::link::Location::Relay(_) => {
            return match share::verify_link(&link, NOW, None) {
                Ok((g, _)) => format!("valid_relay:{}", g.records.len()),
                Err(e) => format!("error:{e}"),
            };
        }
    };
    match result {
        Ok(n) => format!("valid:{n}"),
        Err(ShareError::Grant(GrantError::Expired(_))) => "expired".into(),
        Err(ShareError::SignatureMismatch) => "signature_mismatch".into(),
        Err(ShareError::Link(LinkError::Damaged(_))) | Err(ShareError::Altered) => "damaged".into(),
        Err(e) => format!("error:{e}"),
    }
}

#[test]
fn link_vectors() {
    if std::env::var_os("AMANAT_REGENERATE_VECTORS").is_some() {
        for (name, description, link, expect) in generate() {
            let v = json!({"description": description, "now": NOW, "link": link, "expect": expect});
            std::fs::write(
                dir().join(format!("{name}.json")),
                serde_json::to_string_pretty(&v).unwrap() + "\n",
            )
            .unwrap();
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(files.len() >= 7, "link vectors missing");
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let got = outcome(v["link"].as_str().unwrap());
        let expect = v["expect"].as_str().unwrap();
        match expect {
            "valid" => assert_eq!(got, "valid:2", "{name}"),
            "valid_relay" => assert_eq!(got, "valid_relay:2", "{name}"),
            other => {
                assert!(name.starts_with("fail_"), "{name}");
                assert_eq!(got, other, "{name}");
            }
        }
    }
}
