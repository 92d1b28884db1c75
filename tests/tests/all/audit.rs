//! The hash-chained audit log.

use amanat_tests::{TestVault, fixture};

fn entries(v: &TestVault) -> Vec<serde_json::Value> {
    v.run(&["audit", "--json"]).json().as_array().unwrap().clone()
}

#[test]
fn every_change_is_logged_and_the_chain_verifies() {
    let v = TestVault::with("lab-bundle.json");
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
    v.run(&["audit", "--verify"]).ok_saying("intact: 4 entries");
    v.run(&["audit"])
        .ok_saying("imported 7 record(s) from lab-bundle.json");
}

fn audit_key(seq: u64) -> Vec<u8> {
    let mut k = b"a/".to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// A wallet with three audit entries (created, two imports), changed by `tamper`
/// through the database as an attacker with the disk could.
fn tampered(tamper: impl FnOnce(&sled::Db)) -> TestVault {
    let v = TestVault::with("lab-bundle.json");
    v.run(&["import", fixture("observation.json").to_str().unwrap()])
        .ok();
    v.raw_db(tamper);
    v
}

/// `audit --verify` after `tamper` fails (exit 4) and says `expected`.
fn verify_names(tamper: impl FnOnce(&sled::Db), expected: &str) {
    tampered(tamper)
        .run(&["audit", "--verify"])
        .fails_saying(4, expected);
}

#[test]
fn an_altered_entry_is_named() {
    let flip_last_byte = |db: &sled::Db| {
        let mut bytes = db.get(audit_key(2)).unwrap().unwrap().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        db.insert(audit_key(2), bytes).unwrap();
    };
    verify_names(flip_last_byte, "audit entry #2");
}

#[test]
fn a_removed_entry_is_named() {
    verify_names(
        |db| drop(db.remove(audit_key(2)).unwrap()),
        "audit entry #2 is missing",
    );
}

#[test]
fn entries_cut_from_the_end_are_detected() {
    verify_names(
        |db| drop(db.remove(audit_key(3)).unwrap()),
        "after #2 were removed",
    );
}

#[test]
fn a_wiped_audit_log_is_an_integrity_failure_not_an_empty_log() {
    // The attacker deletes every entry and the head (which version 1 read as
    // "no head": "intact: 0 entries"). The head is sealed with the catalog
    // directory now, so the wallet refuses to open rather than pretend.
    let v = tampered(|db| {
        for item in db.scan_prefix(b"a/") {
            db.remove(item.unwrap().0).unwrap();
        }
        db.remove(b"m/state").unwrap();
    });
    for args in [&["audit", "--verify"][..], &["list"]] {
        let err = v.run(args).fails_with(4);
        assert!(
            err.contains("the wallet's state (its catalog directory and audit head)")
                && err.contains("it is missing"),
            "{err}"
        );
    }
}

#[test]
fn a_head_put_back_to_an_older_one_is_detected() {
    let v = TestVault::with("lab-bundle.json");
    let old_seq = v.run(&["audit", "--verify", "--json"]).json()["entries"]
        .as_u64()
        .unwrap();
    let old_state = v.raw_db(|db| db.get(b"m/state").unwrap().unwrap());
    v.run(&["import", fixture("observation.json").to_str().unwrap()])
        .ok();
    v.run(&["audit", "--verify"]).ok();

    // The older sealed state alone: the entries after it remain.
    v.raw_db(|db| db.insert(b"m/state", old_state.clone()).unwrap());
    v.run(&["audit", "--verify"])
        .fails_saying(4, "goes on past its head");

    // ... and with the entries after it deleted too, so the chain itself is
    // whole: the catalog written since no longer matches the older directory.
    v.raw_db(|db| {
        for seq in old_seq + 1..=old_seq + 5 {
            db.remove(audit_key(seq)).unwrap();
        }
    });
    v.run(&["audit", "--verify"]).fails_saying(
        4,
        "the wallet's state was rolled back to an older copy: catalog page",
    );
}
