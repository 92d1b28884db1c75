//! SMART Health Cards issued by an independent implementation (npm
//! kill-the-clipboard's `SHCIssuer`, fresh ES256 keys from WebCrypto), imported
//! by the real binary: refused until their issuer is trusted, then imported
//! saying who issued them; chunked QR texts join; an altered, expired or
//! forged card is refused in its own words and adds nothing.

use std::path::Path;
use std::process::Command;

use amanat_tests::browser::{WalletServer, raw_post, raw_request};
use amanat_tests::{TestVault, write_json};
use serde_json::{Value, json};

pub(crate) const EPI: &str = "https://issuer.example/punjab-epi";

/// Issues a card of `bundle` as `iss` with a new key into `dir` (jwks.json,
/// card.smart-health-card, card.qr.txt); returns the key's id.
pub(crate) fn issue(
    dir: &Path,
    bundle: &Value,
    iss: &str,
    expires: Option<i64>,
    chunk: Option<usize>,
) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("bundle.json");
    write_json(&file, bundle);
    let mut cmd = Command::new("node");
    cmd.arg(amanat_tests::kill_the_clipboard_script("shc.mjs"))
        .arg("issue")
        .arg(dir)
        .arg(&file)
        .arg(iss);
    cmd.arg(expires.map_or("-".to_string(), |e| e.to_string()));
    if let Some(c) = chunk {
        cmd.arg(c.to_string());
    }
    let out = cmd.output().expect("node runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said: Value = serde_json::from_slice(&out.stdout).unwrap();
    said["kid"].as_str().unwrap().to_string()
}

pub(crate) fn vaccination() -> Value {
    json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "resource:0", "resource": {"resourceType": "Patient",
            "name": [{"family": "Siddiqui", "given": ["Ayesha"]}], "birthDate": "1968-04-12"}},
        {"fullUrl": "resource:1", "resource": {"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "115"}],
                "text": "Tdap vaccine"},
            "patient": {"reference": "resource:0"}, "occurrenceDateTime": "2025-03-02",
            "performer": [{"actor": {"display": "Services Hospital, Lahore"}}]}}]})
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_card_imports_once_its_issuer_is_trusted_saying_who_issued_it() {
    let v = TestVault::new();
    let dir = v.scratch("epi");
    let kid = issue(&dir, &vaccination(), EPI, None, Some(250));
    let card = dir.join("card.smart-health-card");
    let qr = dir.join("card.qr.txt");
    let chunks = std::fs::read_to_string(&qr).unwrap();
    assert!(chunks.lines().count() > 1, "a chunked set: {chunks}");
    let count = |v: &TestVault| v.run(&["list", "--json"]).json().as_array().unwrap().len();

    // Not trusted yet: refused, naming the issuer and what to do.
    let run = v.run(&["import", path(&card)]);
    let said = run.stdout.clone();
    run.fails_with(1);
    assert!(
        said.contains(&format!(
            "issued by {EPI}, which is not among the issuers you trust"
        )) && said.contains("amanat issuers trust"),
        "{said}"
    );
    assert_eq!(count(&v), 0);

    v.run(&[
        "issuers",
        "trust",
        path(&dir.join("jwks.json")),
        "--iss",
        EPI,
        "--name",
        "Punjab EPI",
    ])
    .ok_saying("Trusted Punjab EPI (https://issuer.example/punjab-epi) (1 key(s))");
    let listed = v.run(&["issuers", "list", "--json"]).json();
    assert_eq!(listed[0]["iss"], EPI);
    assert_eq!(listed[0]["keys"][0]["kid"], kid);

    v.run(&["import", path(&card)]).ok_saying("2 added");
    let id = v.first_id(&["--type", "Immunization"]);
    let shown = v.run(&["show", &id]).ok();
    assert!(
        shown.contains(&format!(
            "issued by Punjab EPI ({EPI}), signature verified; from card.smart-health-card"
        )),
        "{shown}"
    );
    // The same card from its chunked QR codes, in any order: the same records.
    let mut lines: Vec<&str> = chunks.lines().collect();
    lines.reverse();
    let reversed = v.scratch("reversed.txt");
    std::fs::write(&reversed, lines.join("\n")).unwrap();
    let again = v.run(&["import", "--json", path(&reversed)]).json();
    assert_eq!(
        (again["added"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    // One chunk missing: refused in words.
    let partial = v.scratch("partial.txt");
    std::fs::write(&partial, lines[1..].join("\n")).unwrap();
    let run = v.run(&["import", path(&partial)]);
    let said = run.stdout.clone();
    run.fails_with(1);
    assert!(said.contains("the QR codes do not make one card"), "{said}");

    // The web wallet's import takes the card the same way.
    let web = v.scratch("web-card");
    let mut flu = vaccination();
    flu["entry"][1]["resource"]["vaccineCode"] = json!({"text": "Influenza vaccine"});
    flu["entry"][1]["resource"]["occurrenceDateTime"] = json!("2025-10-20");
    issue(&web, &flu, "https://issuer.example/clinic", None, None);
    v.run(&[
        "issuers",
        "trust",
        path(&web.join("jwks.json")),
        "--iss",
        "https://issuer.example/clinic",
    ])
    .ok();
    {
        let server = WalletServer::on(&v.dir, &[("AMANAT_PASSPHRASE", amanat_tests::PASSPHRASE)]);
        let host = server.base.trim_start_matches("http://").to_string();
        let file = std::fs::read_to_string(web.join("card.smart-health-card")).unwrap();
        let (code, _, answer) = raw_post(&server.base, "/api/import", &host, &server.token, &file);
        assert_eq!(code, 200, "{answer}");
        let imported: Value = serde_json::from_str(&answer).unwrap();
        // The vaccination; her Patient resource is there already.
        assert_eq!(
            (imported["added"].as_u64(), imported["duplicates"].as_u64()),
            (Some(1), Some(1)),
            "{answer}"
        );
        let (_, _, rows) = raw_request(
            &server.base,
            "GET",
            "/api/records?search=influenza",
            &host,
            Some(&server.token),
        );
        assert!(
            rows.contains("issued by https://issuer.example/clinic, signature verified"),
            "{rows}"
        );
    }

    // Shared with a doctor, the card travels beside its record: the doctor's
    // client verifies the issuer's signature and finds the record in the card.
    let (noor, noor_card) = amanat_tests::provider(&v, "Dr. Noor Fatima", "PMDC-99999-P");
    let card_file = v.scratch("noor.card");
    std::fs::write(&card_file, &noor_card).unwrap();
    let made = crate::sharing::share(&v, &[&id, "--offline", "--to", path(&card_file)]);
    let doctor = [("AMANAT_PROVIDER_PASSPHRASE", "doctor passphrase")];
    let link = made["link"].as_str().unwrap();
    let seen = amanat_tests::amanat_bare(&["receive", link, "--identity", path(&noor)], &doctor).ok();
    assert!(
        seen.contains(&format!(
            "✓ issued by Punjab EPI ({EPI}) on a SMART Health Card, signature verified (key {kid})"
        )),
        "{seen}"
    );
    let json =
        amanat_tests::amanat_bare(&["receive", "--json", link, "--identity", path(&noor)], &doctor).json();
    assert_eq!(json["issued_by"][0]["iss"], EPI);

    let audit = v.run(&["audit"]).ok();
    assert!(audit.contains("trusted health card issuer Punjab EPI"), "{audit}");
    v.run(&["issuers", "remove", EPI])
        .ok_saying("the records it issued stay");
    // No longer trusted by the patient, the issuer no longer vouches in a share.
    let made = crate::sharing::share(&v, &[&id, "--offline", "--to", path(&card_file)]);
    let seen = amanat_tests::amanat_bare(
        &[
            "receive",
            made["link"].as_str().unwrap(),
            "--identity",
            path(&noor),
        ],
        &doctor,
    )
    .ok();
    assert!(!seen.contains("issued by"), "{seen}");
    assert_eq!(count(&v), 3, "the two cards' records stay");
    let run = v.run(&["import", path(&card)]);
    run.fails_with(1);
}

#[test]
fn altered_expired_and_forged_cards_are_refused_in_their_own_words() {
    let v = TestVault::new();
    let dir = v.scratch("epi");
    issue(&dir, &vaccination(), EPI, None, None);
    v.run(&["issuers", "trust", path(&dir.join("jwks.json")), "--iss", EPI])
        .ok();
    let refused = |file: &Path, words: &str| {
        let run = v.run(&["import", path(file)]);
        let said = format!("{}{}", run.stdout, run.stderr);
        run.fails_with(1);
        assert!(said.contains(words), "{words:?} in {said}");
    };

    // The card's payload re-made with another vaccine, under the issuer's signature.
    let file: Value =
        serde_json::from_slice(&std::fs::read(dir.join("card.smart-health-card")).unwrap()).unwrap();
    let jws = file["verifiableCredential"][0].as_str().unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], forged_payload(parts[1]), parts[2]);
    let altered = v.scratch("altered.smart-health-card");
    write_json(&altered, &json!({"verifiableCredential": [swapped]}));
    refused(
        &altered,
        &format!("its signature does not match: the card was altered, or not signed by {EPI}"),
    );

    // A card that has expired (issued to last one second: issuers refuse
    // to sign one that is over already).
    let old = v.scratch("old");
    issue(&old, &vaccination(), "https://issuer.example/old", Some(1), None);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    v.run(&[
        "issuers",
        "trust",
        path(&old.join("jwks.json")),
        "--iss",
        "https://issuer.example/old",
    ])
    .ok();
    refused(&old.join("card.smart-health-card"), "it expired on");

    // Someone else's key, claiming to be the trusted issuer.
    let forger = v.scratch("forger");
    let kid = issue(&forger, &vaccination(), EPI, None, None);
    refused(
        &forger.join("card.smart-health-card"),
        &format!("signed with key {kid}, which {EPI} does not list"),
    );
    // Not a card at all.
    let junk = v.scratch("junk.txt");
    std::fs::write(&junk, "shc:/12345").unwrap();
    refused(&junk, "not a SMART Health Card");
    assert_eq!(
        v.run(&["list", "--json"]).json().as_array().unwrap().len(),
        0,
        "nothing was added"
    );
    // A key set that holds a private key is not trusted.
    let mut private: Value =
        serde_json::from_slice(&std::fs::read(forger.join("jwks.json")).unwrap()).unwrap();
    private["keys"][0]["d"] = json!("c2VjcmV0");
    let leaked = v.scratch("leaked.json");
    write_json(&leaked, &private);
    let err = v
        .run(&[
            "issuers",
            "trust",
            path(&leaked),
            "--iss",
            "https://issuer.example/x",
        ])
        .fails_with(1);
    assert!(err.contains("holds a private key"), "{err}");
}

/// The payload of a card (base64url of raw DEFLATE of JSON) with its vaccine
/// changed, compressed again.
fn forged_payload(payload: &str) -> String {
    use std::io::{Read, Write};

    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut text = String::new();
    flate2::read::DeflateDecoder::new(&b64.decode(payload).unwrap()[..])
        .read_to_string(&mut text)
        .unwrap();
    let changed = text.replace("\"115\"", "\"207\"");
    assert_ne!(changed, text);
    let mut out = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    out.write_all(changed.as_bytes()).unwrap();
    b64.encode(out.finish().unwrap())
}
