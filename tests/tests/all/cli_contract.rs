//! The CLI's contract, as files a reviewer reads: `--help` of the main
//! commands and the `--json` a script relies on, snapshotted with insta under
//! `snapshots/`. A change to either shows up in the diff; ids, keys and times
//! that differ on every run are redacted. Update with `INSTA_UPDATE=always`
//! after reading the `.snap.new` files.

use amanat_tests::{TestVault, amanat_bare, fixture};
use serde_json::Value;

/// `amanat ARGS --help` at a fixed width, whatever the terminal.
fn help(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--help");
    amanat_bare(&all, &[("COLUMNS", "100")]).ok()
}

#[test]
fn help_of_the_main_commands() {
    for (name, args) in [
        ("amanat", &[][..]),
        ("import", &["import"][..]),
        ("share", &["share"][..]),
        ("receive", &["receive"][..]),
        ("grants", &["grants"][..]),
        ("scan-share", &["scan-share"][..]),
        ("plugin", &["plugin"][..]),
        ("plugin-run", &["plugin", "run"][..]),
        ("serve", &["serve"][..]),
        ("relay", &["relay"][..]),
    ] {
        insta::assert_snapshot!(format!("help-{name}"), help(args));
    }
}

#[test]
fn json_a_script_relies_on() {
    let v = TestVault::new();
    let imported: Value = v
        .run(&["import", "--json", fixture("lab-bundle.json").to_str().unwrap()])
        .json();
    insta::assert_json_snapshot!("import", imported, {
        ".files[].file" => "[path]",
    });
    // One type: records of the same date come in an order their random ids decide.
    let listed: Value = v.run(&["list", "--json", "--type", "Condition"]).json();
    insta::assert_json_snapshot!("list", listed, {
        "[].id" => "[id]", "[].profile" => "[id]", "[].added" => "[time]",
    });
    let profiles: Value = v.run(&["profile", "list", "--json"]).json();
    insta::assert_json_snapshot!("profile-list", profiles, { "[].age" => "[years]" });
    let shared: Value = v
        .run(&[
            "share",
            "--json",
            "--purpose",
            "CAREMGT",
            "--expires",
            "2h",
            "--offline",
            "--type",
            "Condition",
        ])
        .json();
    insta::assert_json_snapshot!("share", shared, {
        ".link" => "[link]", ".grant_id" => "[id]", ".expires" => "[time]",
        ".expires_at" => "[time]", ".qr_version" => "[version]", ".records[].id" => "[id]",
    });
    let grants: Value = v.run(&["grants", "--json"]).json();
    insta::assert_json_snapshot!("grants", grants, {
        "[].id" => "[id]", "[].record_ids[]" => "[id]", "[].created" => "[time]",
        "[].expires" => "[time]",
    });
    let verified: Value = v.run(&["audit", "--verify", "--json"]).json();
    insta::assert_json_snapshot!("audit-verify", verified);
}
