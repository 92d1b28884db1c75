//! The hash-chained audit log.

use amanat_tests::{TestVault, fixture};

fn entries(v: &TestVault) -> Vec<serde_json::Value> {
    v.run(&["audit", "--json"]).json().as_array().unwrap().clone()
}

#[test]
fn every_change_is_logged_and_the_chain_verifies() {
    let v = TestVault::new();
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok();
    let id = v.run(&["list", "--json"]).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    v.run(&["delete", "--yes", &id]).ok();
    let out = v.scratch("backup.age");
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    v.run(&["export", "--out", out.to_str().unwrap(), "--to", &recipient])
        .ok();
    let events: Vec<String> = entries(&v)
        .iter()
        .map(|e| e["event"]["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["vault_created", "imported", "deleted", "exported"]);
    let ok = v.run(&["audit", "--verify"]).ok();
    assert!(ok.contains("intact: 4 entries"), "{ok}");
    let text = v.run(&["audit"]).ok();
    assert!(
        text.contains("imported 7 record(s) from lab-bundle.json"),
        "{text}"
    );
}

fn audit_key(seq: u64) -> Vec<u8> {
    let mut k = b"a/".to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// A wallet with three audit entries (created, two imports), changed by `tamper`
/// through the database as an attacker with the disk could.
fn tampered(tamper: impl FnOnce(&sled::Db)) -> TestVault {
    let v = TestVault::new();
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok();
    v.run(&["import", fixture("observation.json").to_str().unwrap()])
        .ok();
    let vault = v.open();
    tamper(vault.raw_db());
    vault.raw_db().flush().unwrap();
    drop(vault);
    v
}

#[test]
fn an_altered_entry_is_named() {
    let v = tampered(|db| {
        let mut bytes = db.get(audit_key(2)).unwrap().unwrap().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        db.insert(audit_key(2), bytes).unwrap();
    });
    let err = v.run(&["audit", "--verify"]).fails_with(4);
    assert!(err.contains("audit entry #2"), "{err}");
}

#[test]
fn a_removed_entry_is_named() {
    let v = tampered(|db| {
        db.remove(audit_key(2)).unwrap();
    });
    let err = v.run(&["audit", "--verify"]).fails_with(4);
    assert!(err.contains("audit entry #2 is missing"), "{err}");
}

#[test]
fn entries_cut_from_the_end_are_detected() {
    let v = tampered(|db| {
        db.remove(audit_key(3)).unwrap();
    });
    let err = v.run(&["audit", "--verify"]).fails_with(4);
    assert!(err.contains("after #2 were removed"), "{err}");
}
