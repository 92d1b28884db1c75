//! Wallet creation, identity and family profiles.

use amanat_tests::TestVault;

#[test]
fn init_then_whoami_shows_wallet_id_and_profile() {
    let v = TestVault::new();
    let who = v.run(&["whoami", "--json"]).json();
    let id = who["wallet_id"].as_str().unwrap();
    assert_eq!(id.len(), 19, "{id}");
    assert_eq!(who["owner"]["name"], "Ayesha Siddiqui");
    assert_eq!(who["owner"]["cnic"], "35202-1234567-2");
    assert!(who["age_recipient"].as_str().unwrap().starts_with("age1"));
    let text = v.run(&["whoami"]).ok();
    assert!(text.contains(id) && text.contains("age 5"), "{text}");
}

#[test]
fn init_twice_is_refused() {
    let v = TestVault::new();
    v.run(&["init", "--name", "Someone"])
        .fails_saying(1, "already exists");
}

#[test]
fn init_refuses_a_directory_of_someone_elses_files_and_deletes_nothing() {
    // Regression: init used to clear any `db/` in a directory that was not
    // yet a wallet, whatever it held.
    let v = TestVault::empty();
    std::fs::create_dir_all(v.dir.join("db")).unwrap();
    std::fs::write(v.dir.join("db/thesis.tex"), "four years of work").unwrap();
    v.run(&["init", "--name", "Someone"])
        .fails_saying(1, "is not empty and holds no wallet");
    assert_eq!(
        std::fs::read_to_string(v.dir.join("db/thesis.tex")).unwrap(),
        "four years of work"
    );
    assert!(!v.dir.join("vault.json").exists());

    let other = TestVault::empty();
    std::fs::create_dir_all(&other.dir).unwrap();
    std::fs::write(other.dir.join("notes.txt"), "mine").unwrap();
    other.run(&["init"]).fails_saying(1, "is not empty");
    assert_eq!(std::fs::read_dir(&other.dir).unwrap().count(), 1);

    // What an interrupted init leaves (lock, keyring, database) is taken over.
    let interrupted = TestVault::empty();
    std::fs::create_dir_all(interrupted.dir.join("db")).unwrap();
    std::fs::write(interrupted.dir.join("lock"), "").unwrap();
    std::fs::write(interrupted.dir.join("keyring.age"), "half written").unwrap();
    interrupted.run(&["init", "--name", "Someone"]).ok();
    interrupted.run(&["whoami"]).ok();
}

#[test]
fn short_passphrase_is_refused_at_init() {
    let v = TestVault::empty();
    v.run_env(&["init"], &[("AMANAT_PASSPHRASE", "short")])
        .fails_saying(1, "at least 8 characters");
    assert!(!v.dir.join("vault.json").exists());
}

#[test]
fn national_ids_are_validated_with_clear_errors() {
    let v = TestVault::empty();
    v.run(&["init", "--name", "A", "--cnic", "9520212345671"])
        .fails_saying(1, "CNIC '9520212345671' must have 13 digits, first digit 1-7");
    v.run(&["init", "--name", "A", "--abha-number", "12-3456"])
        .fails_saying(1, "exactly 14 digits");
    v.run(&["init", "--name", "A", "--abha-address", "ab@gmail.com"])
        .fails_saying(1, "name@abdm");
    assert!(
        !v.dir.join("vault.json").exists(),
        "nothing is created on a bad profile"
    );
    v.run(&[
        "init",
        "--name",
        "राहुल शर्मा",
        "--handle",
        "rahul",
        "--abha-number",
        "91234567890123",
        "--abha-address",
        "rahul.sharma@abdm",
    ])
    .ok();
    let me = v.run(&["profile", "show", "--json"]).json();
    assert_eq!(me["abha_number"], "91-2345-6789-0123");
    assert_eq!(me["name"], "राहुल शर्मा");
}

#[test]
fn family_profiles_keep_records_apart() {
    let v = TestVault::new();
    v.run(&[
        "profile",
        "add",
        "--name",
        "زارا صدیقی",
        "--handle",
        "zara",
        "--birth-date",
        "2016-09-03",
    ])
    .ok();
    let profiles = v.run(&["profile", "list", "--json"]).json();
    assert_eq!(profiles.as_array().unwrap().len(), 2);
    assert_eq!(profiles[1]["relationship"], "child");
    let fixture = amanat_tests::fixture("observation.json");
    v.run(&["--profile", "zara", "import", fixture.to_str().unwrap()])
        .ok();
    assert_eq!(
        v.run(&["--profile", "zara", "list", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(v.run(&["list", "--json"]).json().as_array().unwrap().len(), 0);
    let all = v.run(&["list", "--all-profiles", "--json"]).json();
    assert_eq!(all[0]["profile"], "zara");
    v.run(&["profile", "remove", "zara"])
        .fails_saying(1, "still has 1 record");
    v.run(&["--profile", "nobody", "list"])
        .fails_saying(1, "no profile 'nobody'");
}

#[test]
fn passphrase_change_keeps_every_record() {
    let v = TestVault::new();
    v.run(&[
        "import",
        amanat_tests::fixture("lab-bundle.json").to_str().unwrap(),
    ])
    .ok();
    let before = v.run(&["list", "--json"]).json();
    v.run_env(
        &["passphrase"],
        &[("AMANAT_NEW_PASSPHRASE", "a brand new passphrase")],
    )
    .ok();
    v.run(&["list"]).fails_saying(3, "wrong passphrase");
    let after = v
        .run_env(
            &["list", "--json"],
            &[("AMANAT_PASSPHRASE", "a brand new passphrase")],
        )
        .json();
    assert_eq!(before, after);
}
