//! `amanat plugin new`: a plugin project to start from, in Rust, Python or
//! JavaScript. Each gets the plugin interface (wit/), a manifest, a hello
//! action that reads through the host, and a `build` script that writes
//! NAME.wasm with the manifest embedded (unsigned: for `--allow-unsigned`).

use std::path::Path;

use anyhow::{Context, Result, bail};

/// The language of a new plugin project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust, with wit-bindgen (cargo, target wasm32-unknown-unknown; `amanat
    /// plugin pack` makes the module a component).
    Rust,
    /// Python, with componentize-py.
    Python,
    /// JavaScript, with jco (componentize-js).
    Js,
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::Js => "JavaScript",
        })
    }
}

impl Lang {
    /// What the build script runs, and how to get it.
    pub fn toolchain(self) -> &'static str {
        match self {
            Lang::Rust => "cargo with `rustup target add wasm32-unknown-unknown`",
            Lang::Python => {
                "componentize-py (`pip install componentize-py==0.25.1`; $COMPONENTIZE_PY names another)"
            }
            Lang::Js => {
                "jco (`npm install @bytecodealliance/jco@1.15.4 @bytecodealliance/componentize-js@0.19.3`; $JCO names another)"
            }
        }
    }
}

const WIT: &str = include_str!("../../../../plugin-sdk/wit/v0.1.0/plugin.wit");
const MANIFEST: &str = include_str!("templates/manifest.json");

/// Writes the project into `dir`, which must not exist yet.
pub fn write(dir: &Path, name: &str, lang: Lang) -> Result<()> {
    // A manifest's name, starting with a letter (it is also the crate's name).
    let valid = wallet_core::plugin::manifest::is_plugin_name(name)
        && name.starts_with(|c: char| c.is_ascii_lowercase());
    if !valid {
        bail!(
            "'{name}' is not a plugin name: use 1-40 lowercase letters, digits or '-', starting with a letter"
        );
    }
    if dir.exists() {
        bail!("{} already exists; choose another name or --dir", dir.display());
    }
    let files: &[(&str, &str)] = match lang {
        Lang::Rust => &[
            ("Cargo.toml", include_str!("templates/rust-Cargo.toml")),
            ("src/lib.rs", include_str!("templates/rust-lib.rs")),
            // The SDK's own allocator, as a file of the project (the SDK is not on crates.io).
            ("src/heap.rs", include_str!("../../../../plugin-sdk/src/heap.rs")),
            ("build", include_str!("templates/rust-build")),
        ],
        Lang::Python => &[
            ("app.py", include_str!("templates/python-app.py")),
            ("build", include_str!("templates/python-build")),
        ],
        Lang::Js => &[
            ("app.js", include_str!("templates/js-app.js")),
            ("build", include_str!("templates/js-build")),
        ],
    };
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
    };
    let mut all = vec![
        ("wit/plugin.wit", WIT.to_string()),
        ("amanat-plugin.json", fill(MANIFEST)),
    ];
    all.extend(files.iter().map(|(path, text)| (*path, fill(text))));
    for (path, text) in all {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("build"), std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
