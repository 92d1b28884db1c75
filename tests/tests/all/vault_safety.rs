//! The vault at rest: encryption, wrong passphrases, tampering, concurrent use.

use amanat_tests::{TestVault, contains, fixture};

fn import_demo(v: &TestVault) {
    v.run(&["demo", "--records", "300"]).ok();
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok();
}

#[test]
fn raw_vault_files_hold_no_plaintext() {
    let v = TestVault::empty();
    import_demo(&v);
    let files = v.raw_files();
    assert!(
        files.iter().map(|(_, b)| b.len()).sum::<usize>() > 300 * 1000,
        "the records were written"
    );
    let needles: &[&str] = &[
        "Ayesha",
        "Siddiqui",
        "Zara",
        "35202",
        "3520212345672",
        "1968-04-12",
        "Hemoglobin",
        "4548-4",
        "loinc",
        "Observation",
        "Condition",
        "Penicillin",
        "penicillin",
        "Metformin",
        "mg/dL",
        "mmHg",
        "Lahore",
        "Chughtai",
        "Type 2 diabetes",
        "DiagnosticReport",
        "WellnessRecord",
        "Cobas",
        "%PDF",
        "resourceType",
        "glucometer",
        "2026-05-10",
    ];
    for (path, bytes) in &files {
        for needle in needles {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "'{needle}' found in plaintext in {}",
                path.display()
            );
        }
    }
}

#[test]
fn wrong_passphrase_is_named_and_changes_nothing_on_disk() {
    let v = TestVault::new();
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok();
    let before = v.raw_files();
    for args in [
        &["list"][..],
        &["import", fixture("observation.json").to_str().unwrap()],
        &["delete", "--yes", "abcd"],
    ] {
        let err = v
            .run_env(args, &[("AMANAT_PASSPHRASE", "not the passphrase")])
            .fails_with(3);
        assert!(err.contains("wrong passphrase for the wallet at"), "{err}");
    }
    assert_eq!(
        before,
        v.raw_files(),
        "a wrong passphrase must not touch the wallet's files"
    );
}

#[test]
fn missing_wallet_says_how_to_create_one() {
    let v = TestVault::empty();
    let err = v.run(&["list"]).fails_with(1);
    assert!(
        err.contains("no Amanat wallet at") && err.contains("amanat init"),
        "{err}"
    );
}

#[test]
fn tampered_record_reports_integrity_error_and_others_still_read() {
    let v = TestVault::new();
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok();
    let list = v.run(&["list", "--json"]).json();
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let victim = ids[2].clone();
    {
        // An attacker with the disk flips bits inside one stored record.
        let vault = v.open();
        let id: wallet_core::ids::RecordId = victim.parse().unwrap();
        let mut key = b"r/".to_vec();
        key.extend_from_slice(id.as_bytes());
        let db = vault.raw_db();
        let mut bytes = db.get(&key).unwrap().unwrap().to_vec();
        let at = bytes.len() / 3;
        bytes[at] ^= 0xFF;
        db.insert(&key, bytes).unwrap();
        db.flush().unwrap();
    }
    let err = v.run(&["show", &victim]).fails_with(4);
    assert!(
        err.contains(&format!("record {victim} fails its integrity check")),
        "{err}"
    );
    for id in ids.iter().filter(|i| **i != victim) {
        v.run(&["show", id, "--json"]).ok();
    }
    assert_eq!(
        v.run(&["list", "--json"]).json().as_array().unwrap().len(),
        ids.len()
    );
    // The damaged record can be removed, and the audit log says so.
    v.run(&["delete", "--yes", &victim]).ok();
    v.run(&["audit", "--verify"]).ok();
}

#[test]
fn a_second_process_gets_in_use() {
    let v = TestVault::new();
    let held = v.open();
    let err = v.run(&["list"]).fails_with(5);
    assert!(err.contains("in use by another Amanat process"), "{err}");
    drop(held);
    v.run(&["list"]).ok();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn bit_flips_in_the_database_file_never_yield_altered_records() {
    use wallet_core::vault::{Query, Vault, VaultError};
    let v = TestVault::empty();
    v.run(&["demo", "--records", "1500"]).ok();
    let originals: Vec<(wallet_core::ids::RecordId, Vec<u8>)> = {
        let vault = v.open();
        let all = vault.list(&Query::default()).unwrap();
        all.iter()
            .map(|m| (m.id, vault.get(m.id).unwrap().bytes))
            .collect()
    };
    let db_file = v.dir.join("db").join("db");
    let len = std::fs::metadata(&db_file).unwrap().len() as usize;
    let pass = age::secrecy::SecretString::from(amanat_tests::PASSPHRASE);
    let mut damaged_seen = 0;
    // Flip one byte at a time at spread-out offsets until several flips have hit live data.
    for k in 1..=40 {
        if damaged_seen >= 3 {
            break;
        }
        let copy = v.scratch(&format!("copy-{k}"));
        copy_dir(&v.dir, &copy);
        let target = copy.join("db").join("db");
        let mut bytes = std::fs::read(&target).unwrap();
        bytes[len * k / 41] ^= 0x5A;
        std::fs::write(&target, bytes).unwrap();
        let _cleanup = Cleanup(copy.clone());
        let vault = match Vault::open(&copy, &pass) {
            Ok(vault) => vault,
            Err(e @ (VaultError::Integrity(_) | VaultError::Storage(_))) => {
                assert!(!e.to_string().is_empty());
                damaged_seen += 1;
                continue;
            }
            Err(other) => panic!("unexpected error opening a damaged wallet: {other}"),
        };
        for (id, original) in &originals {
            match vault.get(*id) {
                Ok(record) => assert_eq!(
                    &record.bytes, original,
                    "a damaged database returned altered data"
                ),
                Err(VaultError::Integrity(what)) => {
                    assert!(what.contains(&id.to_string()), "{what}");
                    damaged_seen += 1;
                }
                Err(other) => panic!("record {id}: expected an integrity error, got {other}"),
            }
        }
    }
    // Flips in unused space change nothing; the ones that hit records must be noticed.
    assert!(damaged_seen >= 3, "only {damaged_seen} flips were detected");
}

/// Removes a directory when dropped.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
