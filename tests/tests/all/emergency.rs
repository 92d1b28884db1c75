//! The emergency card against a real relay: readable text, a QR code any
//! doctor opens, every open in the patient's activity, renewal and revocation.

use amanat_tests::{TestRelay, TestVault, amanat_bare, read_qr};

use crate::printing::{qr_on_page, read_pdf};

#[test]
fn the_emergency_card_opens_at_a_relay_is_logged_renewed_and_revoked() {
    let relay = TestRelay::start(0);
    let v = TestVault::empty();
    v.run(&["demo", "--records", "80"]).ok();
    let blood = v.scratch("blood-group.json");
    std::fs::write(
        &blood,
        r#"{"resourceType": "Observation", "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "882-1"}], "text": "ABO and Rh group"},
            "effectiveDateTime": "2020-05-01", "valueCodeableConcept": {"text": "B positive"}}"#,
    )
    .unwrap();
    v.run(&["import", blood.to_str().unwrap()]).ok();
    // Before there is a card, showing it says how to make one.
    v.run(&["emergency-card"])
        .fails_saying(1, "has no emergency card yet: make one with");

    let png = v.scratch("card.png");
    let txt = v.scratch("card.txt");
    let pdf = v.scratch("card.pdf");
    let card = v
        .run(&[
            "emergency-card",
            "--relay",
            &relay.url,
            "--contact",
            "Bilal Siddiqui (husband) +92 300 1234567",
            "--qr-png",
            png.to_str().unwrap(),
            "--out",
            txt.to_str().unwrap(),
            "--pdf",
            pdf.to_str().unwrap(),
            "--lang",
            "ur",
            "--json",
        ])
        .json();
    let link = card["link"].as_str().unwrap().to_string();
    let first = card["grant_id"].as_str().unwrap().to_string();
    // The card reads with no app.
    let text = std::fs::read_to_string(&txt).unwrap();
    for words in [
        "EMERGENCY HEALTH CARD",
        "Ayesha Siddiqui",
        "Blood group  B positive",
        "Allergy: Penicillin",
        "Type 2 diabetes mellitus",
        "Metformin",
        "Bilal Siddiqui (husband) +92 300 1234567",
        &link,
    ] {
        assert!(text.contains(words), "{words:?} missing from:\n{text}");
    }
    assert_eq!(
        read_qr(&std::fs::read(&png).unwrap()),
        link,
        "the QR code holds the link"
    );
    // On paper too: one A4 page, Urdu beside English, the same QR code.
    let (printed, pages, _) = read_pdf(&pdf);
    assert_eq!(pages, 1);
    for words in [
        "ہنگامی طبی کارڈ",
        "EMERGENCY HEALTH CARD",
        "بلڈ گروپ",
        "B positive",
        "Allergy: Penicillin",
        "Bilal Siddiqui (husband) +92 300 1234567",
    ] {
        assert!(printed.contains(words), "{words:?} missing from:\n{printed}");
    }
    assert_eq!(qr_on_page(&pdf), link, "the printed QR code holds the link");

    // A doctor with no wallet opens it: the patient's signed grant, for an emergency.
    let opened = amanat_bare(&["receive", "--json", &link], &[]).json();
    assert_eq!(opened["grant"]["purpose"], "BTG", "{opened}");
    let titles = opened["records"].to_string();
    assert!(titles.contains("Penicillin"), "{titles}");
    assert_eq!(
        opened["records"].as_array().unwrap().len(),
        card["record_ids"].as_array().unwrap().len()
    );

    // The open is in the patient's activity, with its time.
    let shown = v.run(&["emergency-card"]).ok();
    assert!(shown.contains("Opened 1 time(s): 20"), "{shown}");
    let audit = v.run(&["audit"]).ok();
    assert!(
        audit.contains(&format!("share {first}")) && audit.contains("opened (use 1)"),
        "{audit}"
    );

    // Renewing is one command: a new code, the contacts kept, the old code dead.
    let renewed = v.run(&["emergency-card", "--relay", &relay.url, "--json"]).json();
    let second = renewed["grant_id"].as_str().unwrap();
    assert_ne!(second, first);
    assert_eq!(renewed["contacts"][0], "Bilal Siddiqui (husband) +92 300 1234567");
    amanat_bare(&["receive", &link], &[]).fails_saying(6, "revoked");
    let new_link = renewed["link"].as_str().unwrap().to_string();
    amanat_bare(&["receive", &new_link], &[]).ok();

    // Revoking is one command too; the code opens nothing after it.
    v.run(&["emergency-card", "--revoke"])
        .ok_saying("its QR code opens nothing from now on");
    amanat_bare(&["receive", &new_link], &[]).fails_saying(6, "revoked");
    v.run(&["emergency-card", "--revoke"])
        .fails_saying(1, "has no emergency card in force");
}
