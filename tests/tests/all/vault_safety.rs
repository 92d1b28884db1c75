//! The vault at rest: encryption, wrong passphrases, tampering, concurrent use.

use amanat_tests::{TestVault, built_plugin, contains, fixture, provider, signed_registry, trust_registry};

fn import_demo(v: &TestVault) {
    v.run(&["demo", "--records", "300"]).ok();
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok();
}

/// Trusts a registry that lists one provider; its thumbprint.
fn trust_a_registry(v: &TestVault) -> String {
    let (_, card) = provider(v, "Dr. Imran Rao", "PMDC-12345-P");
    let (thumbprint, snapshot) = signed_registry(v, &[&card]);
    trust_registry(v, &snapshot, &thumbprint).ok();
    thumbprint
}

#[test]
fn raw_vault_files_hold_no_plaintext() {
    let v = TestVault::empty();
    import_demo(&v);
    // Names that used to be storage keys in plain text: a plugin (which can
    // reveal a condition), a share's id (which lets a disk reader use up its
    // relay uses), a trusted registry's thumbprint, a component's SHA-256.
    let signed = built_plugin("lab-import.wasm");
    v.run(&["plugin", "install", "--yes", signed.to_str().unwrap()])
        .ok();
    let plugin = v.run(&["plugin", "list", "--json"]).json()[0].clone();
    let sha256 = plugin["sha256"].as_str().unwrap().to_string();
    let thumbprint = trust_a_registry(&v);
    let id = v.first_id(&["--type", "Condition"]);
    let grant = v
        .run(&[
            "share",
            "--json",
            &id,
            "--purpose",
            "CAREMGT",
            "--expires",
            "1d",
            "--offline",
        ])
        .json()["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    drop(v.open());
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
        "lab-import",
        "lab_import",
        &sha256[..16],
        &thumbprint,
        &grant,
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
    let v = TestVault::with("lab-bundle.json");
    let before = v.raw_files();
    for args in [
        &["list"][..],
        &["import", fixture("observation.json").to_str().unwrap()],
        &["delete", "--yes", "abcd"],
    ] {
        v.run_env(args, &[("AMANAT_PASSPHRASE", "not the passphrase")])
            .fails_saying(3, "wrong passphrase for the wallet at");
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
    let v = TestVault::with("lab-bundle.json");
    let list = v.run(&["list", "--json"]).json();
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let victim = ids[2].clone();
    // An attacker with the disk flips bits inside one stored record.
    let id: wallet_core::ids::RecordId = victim.parse().unwrap();
    let mut key = b"r/".to_vec();
    key.extend_from_slice(id.as_bytes());
    v.raw_db(|db| {
        let mut bytes = db.get(&key).unwrap().unwrap().to_vec();
        let at = bytes.len() / 3;
        bytes[at] ^= 0xFF;
        db.insert(&key, bytes).unwrap();
    });
    v.run(&["show", &victim])
        .fails_saying(4, &format!("record {victim} fails its integrity check"));
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
    v.run(&["list"])
        .fails_saying(5, "in use by another Amanat process");
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

#[test]
fn a_version_1_wallet_is_upgraded_when_first_opened_and_keeps_everything() {
    // Made by amanat before version 2 (commit 493d4f5): Ayesha's wallet with the
    // 7 records of lab-bundle.json, a trusted registry and a share to
    // PMDC-12345-P, under the test passphrase.
    let v = TestVault::empty();
    std::fs::create_dir_all(&v.dir).unwrap();
    let untar = std::process::Command::new("tar")
        .args([
            "xzf",
            fixture("vault-v1.tar.gz").to_str().unwrap(),
            "-C",
            v.dir.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(untar.success());
    let grant = "gtz6jnbwykh0t91c";
    let thumbprint = "4tOeL_tuuDigSGQcZvJgBO4ezfx3xDbwqt0faGQCE-0";
    let stored = v.raw_files();
    assert!(
        stored.iter().any(|(_, b)| contains(b, grant.as_bytes())),
        "version 1 kept share ids in plain text"
    );

    assert_eq!(v.run(&["list", "--json"]).json().as_array().unwrap().len(), 7);
    let marker = std::fs::read_to_string(v.dir.join("vault.json")).unwrap();
    assert!(marker.contains(r#""version":2"#), "{marker}");
    let grants = v.run(&["grants", "--json"]).json();
    assert_eq!(grants[0]["id"], grant, "{grants}");
    assert!(v.run(&["registry", "list"]).ok().contains("PMDC-12345-P"));
    v.run(&["audit", "--verify"]).ok_saying("intact: 4 entries");
    // The duplicate index survives: the same file adds nothing.
    v.run(&["import", fixture("lab-bundle.json").to_str().unwrap()])
        .ok_saying("0 added, 7 already");
    for (path, bytes) in v.raw_files() {
        for needle in [grant, thumbprint] {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "'{needle}' in {}",
                path.display()
            );
        }
    }
}

#[test]
fn rotating_the_keys_leaves_an_old_keyring_opening_nothing() {
    let v = TestVault::with("lab-bundle.json");
    let signed = built_plugin("lab-import.wasm");
    v.run(&["plugin", "install", "--yes", signed.to_str().unwrap()])
        .ok();
    let listed = v.run(&["list", "--json"]).json();
    let before = v.scratch("before");
    copy_dir(&v.dir, &before);

    let new_pass = "a new passphrase after the laptop was stolen";
    v.run_env(
        &["passphrase", "--rotate-keys"],
        &[("AMANAT_NEW_PASSPHRASE", new_pass)],
    )
    .ok_saying("stored values sealed under a new key");
    let with_new = |args: &[&str]| v.run_env(args, &[("AMANAT_PASSPHRASE", new_pass)]);
    assert_eq!(with_new(&["list", "--json"]).json(), listed);
    let first = listed[0]["id"].as_str().unwrap();
    with_new(&["show", first, "--json"]).ok();
    assert!(with_new(&["plugin", "list"]).ok().contains("lab-import"));
    // Its compiled code (sealed with a key of its own) was sealed again too:
    // the plugin loads from it and answers.
    with_new(&["plugin", "run", "lab-import", "export"]).fails_saying(7, "it offers: import");
    with_new(&["audit", "--verify"]).ok_saying("intact");
    assert!(
        with_new(&["audit"]).ok().contains("sealed all"),
        "the rotation is in the audit log"
    );
    let after = v.scratch("after");
    copy_dir(&v.dir, &after);

    // The old keyring with the old passphrase (what a thief with an old copy
    // of keyring.age holds) used to open the vault forever.
    std::fs::copy(before.join("keyring.age"), v.dir.join("keyring.age")).unwrap();
    v.run(&["list"])
        .fails_saying(1, "keyring.age does not open this wallet's database");

    // A rotation cut short at each step leaves the wallet wholly old or wholly
    // new; the states are built from the real files before and after.
    let state = |db: bool, db_new: bool, db_old: bool, keyring_new: bool| {
        let _ = std::fs::remove_dir_all(&v.dir);
        std::fs::create_dir_all(&v.dir).unwrap();
        for f in ["vault.json", "keyring.age"] {
            std::fs::copy(before.join(f), v.dir.join(f)).unwrap();
        }
        if db {
            copy_dir(&before.join("db"), &v.dir.join("db"));
        }
        if db_old {
            copy_dir(&before.join("db"), &v.dir.join("db.old"));
            if !db_new {
                copy_dir(&after.join("db"), &v.dir.join("db"));
            }
        }
        if db_new {
            copy_dir(&after.join("db"), &v.dir.join("db.new"));
        }
        if keyring_new {
            std::fs::copy(after.join("keyring.age"), v.dir.join("keyring.new")).unwrap();
        }
    };
    let leftovers = || {
        ["db.old", "db.new", "keyring.new"]
            .iter()
            .any(|f| v.dir.join(f).exists())
    };
    // Stopped while writing db.new and keyring.new: undone, the old passphrase opens it.
    state(true, true, false, true);
    assert_eq!(v.run(&["list", "--json"]).json(), listed);
    assert!(!leftovers());
    // Stopped between the two renames (db.old and db.new, no db): finished.
    state(false, true, true, true);
    assert_eq!(with_new(&["list", "--json"]).json(), listed);
    assert!(!leftovers());
    // Stopped after the database was swapped, before the keyring: finished.
    state(false, false, true, true);
    assert_eq!(with_new(&["list", "--json"]).json(), listed);
    assert!(!leftovers());
}
