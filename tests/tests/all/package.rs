//! The Debian package operators install: built by `scripts/package` (cargo-deb)
//! from the binary under test, installed with `dpkg -i` into a scratch root,
//! and run from there.

use std::process::Command;

use amanat_tests::{amanat_bin, workspace_root};

#[test]
fn the_debian_package_installs_and_its_relay_runs() {
    // The package takes target/debug/amanat: make sure it is the one under test.
    let bin = amanat_bin();
    let root = workspace_root();
    let out = Command::new(root.join("scripts/package"))
        .args(["--profile", "dev"])
        .current_dir(&root)
        .output()
        .expect("scripts/package runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/package failed:\n{said}");
    let deb = said
        .lines()
        .rev()
        .find(|l| l.trim_end().ends_with(".deb"))
        .unwrap_or_else(|| panic!("no .deb named in:\n{said}"))
        .trim()
        .to_string();
    let deb = root.join(deb);

    let info = Command::new("dpkg-deb").arg("--info").arg(&deb).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Package: amanat"), "{info}");
    assert!(info.contains("Depends: libc6"), "{info}");

    // A scratch root with an empty dpkg database.
    let scratch = tempfile::tempdir().unwrap();
    let admin = scratch.path().join("var/lib/dpkg");
    std::fs::create_dir_all(admin.join("info")).unwrap();
    std::fs::create_dir_all(admin.join("updates")).unwrap();
    std::fs::write(admin.join("status"), "").unwrap();
    let installed = Command::new("dpkg")
        .arg(format!("--root={}", scratch.path().display()))
        .args(["--force-depends", "--force-not-root", "--log=/dev/null", "-i"])
        .arg(&deb)
        .output()
        .unwrap();
    assert!(
        installed.status.success(),
        "dpkg -i: {}{}",
        String::from_utf8_lossy(&installed.stdout),
        String::from_utf8_lossy(&installed.stderr)
    );

    let amanat = scratch.path().join("usr/bin/amanat");
    let version = |b: &std::path::Path| Command::new(b).arg("--version").output().unwrap().stdout;
    assert_eq!(
        version(&amanat),
        version(bin),
        "the packaged binary is the one under test"
    );
    assert!(String::from_utf8_lossy(&version(&amanat)).starts_with("amanat "));
    let help = Command::new(&amanat).args(["relay", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("redis+cluster://"), "{help}");
    assert!(help.contains("--trusted-proxy"), "{help}");

    let unit =
        std::fs::read_to_string(scratch.path().join("usr/lib/systemd/system/amanat-relay.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/bin/amanat relay $AMANAT_RELAY_OPTIONS"),
        "{unit}"
    );
    let defaults = std::fs::read_to_string(scratch.path().join("etc/default/amanat-relay")).unwrap();
    assert!(
        defaults.contains("\nAMANAT_RELAY_STORE=/var/lib/amanat-relay\n"),
        "{defaults}"
    );
    let status = std::fs::read_to_string(admin.join("status")).unwrap();
    assert!(
        status.contains("Package: amanat\nStatus: install ok installed"),
        "{status}"
    );
}
