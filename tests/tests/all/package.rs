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

    // One file to install: the packaged relay serves the share viewer built
    // into the binary, run from a directory with nothing else in it.
    let mut relay = Command::new(&amanat)
        .args(["relay", "--bind", "127.0.0.1:0", "--store"])
        .arg(scratch.path().join("store"))
        .current_dir(scratch.path())
        .env_remove("AMANAT_VIEWER_DIR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(relay.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert!(
        line.contains("share viewer at / (built into this binary)"),
        "{line}"
    );
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let page = String::from_utf8(get(&format!("{url}/"))).unwrap();
    let wasm = page
        .split(['\'', '"'])
        .find(|p| p.ends_with("_bg.wasm"))
        .unwrap_or_else(|| panic!("no wasm named in the viewer's page:\n{page}"));
    let bytes = get(&format!("{url}/{}", wasm.trim_start_matches("./")));
    assert_eq!(&bytes[..4], b"\0asm", "the viewer's wasm module is served");
    let _ = relay.kill();
    let _ = relay.wait();
}

/// The body of a GET (that must succeed).
fn get(url: &str) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::get(url).await.expect("the relay answers");
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.bytes().await.expect("a body").to_vec()
    })
}
