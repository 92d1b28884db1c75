//! Embeds the built web apps, Trunk's output in `target/web` (the wallet) and
//! `target/viewer` (the share viewer), into the `amanat` binary, so `amanat
//! serve` and `amanat relay` need nothing beside it: one file to install.
//! Built before Trunk ran (or for the browser, without the `native`
//! feature), the apps are empty and the binary looks for the files on disk.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let native = std::env::var_os("CARGO_FEATURE_NATIVE").is_some();
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let target = manifest.parent().unwrap_or(&manifest).join("target");
    let mut code = String::new();
    for (name, dir) in [("WEB", "web"), ("VIEWER", "viewer")] {
        let dir = target.join(dir);
        let files = if native { files(&dir) } else { Vec::new() };
        if native {
            // A directory is watched whole; a missing one makes cargo ask again
            // on every build, until Trunk has made it.
            println!("cargo:rerun-if-changed={}", dir.display());
        }
        let _ = writeln!(
            code,
            "/// Built files of `target/{}` at compile time (name, bytes).",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or_default()
        );
        let _ = writeln!(code, "pub static {name}: &[(&str, &[u8])] = &[");
        for file in files {
            let _ = writeln!(
                code,
                "    ({:?}, include_bytes!({:?})),",
                file.0,
                file.1.display().to_string()
            );
        }
        let _ = writeln!(code, "];");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("web_apps.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

/// The files directly in `dir` (Trunk writes no subdirectories), by name,
/// when it holds a built app (`index.html`).
fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    if !dir.join("index.html").is_file() {
        return Vec::new();
    }
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    out
}
