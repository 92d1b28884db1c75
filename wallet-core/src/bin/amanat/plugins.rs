//! `amanat plugin …`: install, list, show, run, remove; keygen and sign for publishers.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use serde_json::json;
use wallet_core::plugin::manifest::Manifest;
use wallet_core::plugin::runtime::{Limits, Runtime};
use wallet_core::plugin::trust::PublisherTrust;
use wallet_core::plugin::{self, Installed, PluginError};
use wallet_core::secret_file::KeyPurpose;
use wallet_core::vault::Vault;

use crate::cli::PluginCommand;
use crate::wallet::now;
use crate::{Ctx, keys, output, prompt};

fn shared(vault: Vault) -> Arc<Mutex<Vault>> {
    Arc::new(Mutex::new(vault))
}

fn lock(v: &Arc<Mutex<Vault>>) -> std::sync::MutexGuard<'_, Vault> {
    v.lock().unwrap_or_else(|p| p.into_inner())
}

fn describe(i: &Installed, trust: &PublisherTrust) -> Vec<(&'static str, String)> {
    let m = &i.manifest;
    vec![
        ("publisher", trust.words(&m.publisher)),
        (
            "plugin",
            format!("{} {} ({:?})", m.name, m.version, m.kind).to_lowercase(),
        ),
        ("what it does", m.description.clone()),
        ("sha-256", i.sha256.clone()),
    ]
}

/// Who vouches for each plugin's publisher, by the registries this wallet trusts.
fn trust_of(vault: &Arc<Mutex<Vault>>, i: &Installed) -> Result<PublisherTrust> {
    Ok(PublisherTrust::of(i, &lock(vault).registries()?))
}

/// A plugin's stored record with who vouches for its publisher, for `--json`.
fn with_trust(i: &Installed, trust: &PublisherTrust) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(i)?;
    value["publisher_trust"] = serde_json::to_value(trust)?;
    Ok(value)
}

/// Reads a component and a manifest, embeds the manifest with `pack` (and
/// signs, for `sign`), and writes the result to `out` (default: in place).
fn write_packed(
    file: &std::path::Path,
    manifest: &std::path::Path,
    out: Option<std::path::PathBuf>,
    pack: impl FnOnce(&[u8], &Manifest) -> Result<Vec<u8>>,
) -> Result<(Manifest, std::path::PathBuf)> {
    let m = Manifest::parse(
        &std::fs::read(manifest).with_context(|| format!("cannot read {}", manifest.display()))?,
    )?;
    m.check_interface()?;
    let component = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let packed = pack(&component, &m)?;
    let out = out.unwrap_or_else(|| file.to_path_buf());
    std::fs::write(&out, &packed).with_context(|| format!("cannot write {}", out.display()))?;
    Ok((m, out))
}

pub fn run(ctx: &Ctx, cmd: PluginCommand) -> Result<()> {
    match cmd {
        PluginCommand::Keygen { publisher, key, kdf } => {
            let k = keys::create(KeyPurpose::Publisher, &publisher, &key, &kdf)?;
            println!("Created the publisher key of {} at {}", k.name, key.display());
            return Ok(());
        }
        PluginCommand::Trust { file, key } => {
            let snapshot = crate::registry::trust_snapshot(ctx, &file, &key)?;
            if snapshot.publishers.is_empty() {
                println!(
                    "Trusted '{}', which lists no plugin publishers (only {} provider(s)).",
                    output::safe(&snapshot.registry),
                    snapshot.providers.len()
                );
            } else {
                println!(
                    "Trusted '{}' for {} plugin publisher(s): {}",
                    output::safe(&snapshot.registry),
                    snapshot.publishers.len(),
                    output::safe(
                        &snapshot
                            .publishers
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                );
            }
            return Ok(());
        }
        PluginCommand::New { name, lang, dir } => {
            let dir = dir.unwrap_or_else(|| ".".into()).join(&name);
            crate::templates::write(&dir, &name, lang)?;
            println!("Created {} ({lang} plugin {name}). Next:", dir.display());
            println!("  cd {} && ./build", dir.display());
            println!("  amanat plugin install --allow-unsigned {name}.wasm");
            println!("  amanat plugin run {name} hello");
            println!("The build needs: {}", lang.toolchain());
            return Ok(());
        }
        PluginCommand::Pack { file, manifest, out } => {
            let (m, out) = write_packed(&file, &manifest, out, |component, m| {
                Ok(plugin::signature::embed(component, m)?)
            })?;
            println!(
                "Packed {} {} (unsigned: installs only with --allow-unsigned) into {}",
                m.name,
                m.version,
                out.display()
            );
            return Ok(());
        }
        PluginCommand::SignRecord {
            file,
            key,
            registry,
            out,
        } => {
            let (resource, title) = crate::doctor::record_to_sign(&file, &registry)?;
            let k = keys::open(KeyPurpose::Publisher, &key)?;
            let text = wallet_core::provider::signed::sign_as_publisher(
                &resource,
                &k.signing,
                &k.name,
                &registry,
                crate::wallet::now(),
            );
            let out = out.unwrap_or_else(|| file.with_extension("amanat-record"));
            std::fs::write(&out, format!("{text}\n"))
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "Signed \u{201c}{}\u{201d} as publisher {} (listed by {}) into {}",
                output::safe(&title),
                k.name,
                registry.trim(),
                out.display()
            );
            return Ok(());
        }
        PluginCommand::Sign {
            file,
            key,
            manifest,
            out,
        } => {
            let k = keys::open(KeyPurpose::Publisher, &key)?;
            let (m, out) = write_packed(&file, &manifest, out, |component, m| {
                Ok(plugin::signature::sign(component, m, &k.signing)?)
            })?;
            println!(
                "Signed {} {} as {} into {}",
                m.name,
                m.version,
                k.name,
                out.display()
            );
            return Ok(());
        }
        _ => {}
    }
    let runtime = match &cmd {
        PluginCommand::Run {
            time_limit,
            memory_limit,
            ..
        } => {
            let mut limits = Limits {
                deadline: std::time::Duration::from_secs(*time_limit),
                ..Limits::default()
            };
            match memory_limit {
                Some(mib) => {
                    limits.memory = (*mib as usize) * 1024 * 1024;
                    Runtime::with_fixed_memory(limits)?
                }
                None => Runtime::new(limits)?,
            }
        }
        _ => Runtime::new(Limits::default())?,
    };
    let vault = shared(ctx.open()?);
    match cmd {
        PluginCommand::Install {
            file,
            yes,
            allow_unsigned,
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            // Compiling happens once, here; runs load the compiled code from the
            // wallet. A Python or JavaScript runtime (10-40 MB) takes a while.
            let spinner = indicatif::ProgressBar::new_spinner().with_message(format!(
                "Checking and compiling {} ({:.1} MB; once, at install)",
                file.display(),
                bytes.len() as f64 / 1e6
            ));
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            let started = std::time::Instant::now();
            let prepared = plugin::prepare(&runtime, &vault, bytes, allow_unsigned, now());
            spinner.finish_and_clear();
            let candidate = prepared?;
            eprintln!(
                "Checked and compiled in {:.1} s; runs use the compiled code kept in your wallet.",
                started.elapsed().as_secs_f64()
            );
            let i = &candidate.installed;
            let trust = trust_of(&vault, i)?;
            match &trust {
                PublisherTrust::Unsigned => eprintln!(
                    "WARNING: this plugin is NOT signed. Nobody vouches for it. Install only plugins you are developing."
                ),
                PublisherTrust::Unknown { fingerprint } => eprintln!(
                    "WARNING: unknown publisher. The plugin is signed, but by key {fingerprint}, which no registry you trust lists; its name '{}' is only what the file says. Check the key with the publisher, or trust a registry that lists it (amanat plugin trust).",
                    output::safe(&i.manifest.publisher)
                ),
                PublisherTrust::Vouched { .. } => {}
            }
            println!("Install this plugin?");
            output::fields(&describe(i, &trust))?;
            println!("It will be allowed to:");
            for line in i.approved.describe() {
                println!("  - {}", output::safe(&line));
            }
            println!("It cannot read your files, other profiles, or anything not listed here.");
            if !yes && !prompt::confirm("Approve these permissions and install?")? {
                bail!("not installed");
            }
            let name = i.manifest.name.clone();
            plugin::commit(&runtime, &mut lock(&vault), candidate)?;
            println!("Installed {name}. Run it with: amanat plugin run {name}");
            Ok(())
        }
        PluginCommand::List(a) => {
            let list = lock(&vault).plugins()?;
            let trusts = list
                .iter()
                .map(|i| trust_of(&vault, i))
                .collect::<Result<Vec<_>>>()?;
            if a.json {
                let all = list
                    .iter()
                    .zip(&trusts)
                    .map(|(i, t)| with_trust(i, t))
                    .collect::<Result<Vec<_>>>()?;
                return output::json(&all);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .zip(&trusts)
                .map(|(i, trust)| {
                    let actions: Vec<&str> = i.actions.iter().map(|a| a.name.as_str()).collect();
                    let publisher = match trust {
                        PublisherTrust::Vouched { listed_as, .. } => listed_as.clone(),
                        PublisherTrust::Unknown { .. } => format!("unknown ('{}')", i.manifest.publisher),
                        PublisherTrust::Unsigned => format!("unsigned ('{}')", i.manifest.publisher),
                    };
                    vec![
                        i.manifest.name.clone(),
                        i.manifest.version.clone(),
                        publisher,
                        actions.join(", "),
                    ]
                })
                .collect();
            output::table_or(
                "No plugins installed.",
                &["PLUGIN", "VERSION", "PUBLISHER", "ACTIONS"],
                &rows,
            )
        }
        PluginCommand::Show { name, json } => {
            let i = lock(&vault)
                .plugin(&name)?
                .ok_or(PluginError::NotInstalled(name))?;
            let trust = trust_of(&vault, &i)?;
            if json {
                return output::json(&with_trust(&i, &trust)?);
            }
            output::fields(&describe(&i, &trust))?;
            println!("Allowed to:");
            for line in i.effective().describe() {
                println!("  - {}", output::safe(&line));
            }
            println!("Actions:");
            for a in &i.actions {
                println!("  {:<12} {}", output::safe(&a.name), output::safe(&a.description));
            }
            Ok(())
        }
        PluginCommand::Remove { name } => {
            if !lock(&vault).remove_plugin(&name)? {
                return Err(PluginError::NotInstalled(name).into());
            }
            runtime.forget(&name);
            println!("Removed plugin {name}. Records it added stay in your wallet.");
            Ok(())
        }
        PluginCommand::Run {
            name,
            action,
            input,
            records,
            yes,
            accept_mismatch,
            save_document,
            json,
            ..
        } => {
            let file = match &input {
                Some(path) => {
                    let bytes =
                        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                    let file_name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    Some((file_name, bytes))
                }
                None => None,
            };
            let call = plugin::Call {
                plugin: name.clone(),
                action,
                profile: ctx.profile().map(str::to_string),
                records,
                file,
            };
            let plugin::Called { profile, outcome } = plugin::call(&runtime, &vault, call)?;
            for (level, line) in &outcome.logs {
                eprintln!("[{name}] {level}: {}", output::safe(line));
            }
            if let (Some(path), Some((_, _, bytes))) = (&save_document, &outcome.document) {
                std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
            }
            let titles: Vec<String> = outcome
                .proposals
                .iter()
                .map(|p| {
                    let signed = if p.signed.is_some() {
                        " (signed by its publisher)"
                    } else {
                        ""
                    };
                    format!(
                        "{}: {}{signed}",
                        p.read.resource.resource_type(),
                        p.read.description.title
                    )
                })
                .collect();
            if !json {
                println!("{}", output::safe_lines(&outcome.message));
                if let Some((doc_name, _, _)) = &outcome.document
                    && save_document.is_none()
                {
                    println!(
                        "(The plugin produced {}; save it with --save-document FILE.)",
                        output::safe(doc_name)
                    );
                }
                if !titles.is_empty() {
                    println!("{name} proposes {} new record(s):", titles.len());
                    for t in &titles {
                        println!("  + {}", output::safe(t));
                    }
                }
            }
            let mut saved = 0;
            if !outcome.proposals.is_empty()
                && (yes || (!json && prompt::confirm("Save them to your wallet?").unwrap_or(false)))
            {
                let result = plugin::save(&mut lock(&vault), &name, profile, outcome.proposals, accept_mismatch)
                    .map_err(|e| match e {
                        plugin::PluginError::Mismatch(m) => anyhow::anyhow!(
                            "{}: nothing was saved; run it with --profile HANDLE for that person, or --accept-mismatch if they are theirs",
                            output::safe(&m.to_string())
                        ),
                        other => other.into(),
                    })?;
                saved = result.added.len();
                if !json {
                    println!(
                        "Saved {saved} record(s) ({} already there).",
                        result.duplicates.len()
                    );
                }
            } else if !titles.is_empty() && !json {
                println!("Nothing was saved (pass --yes to save).");
            }
            if json {
                return output::json(&json!({
                    "message": outcome.message,
                    "proposed": titles,
                    "saved": saved,
                    "document": outcome.document.as_ref().map(|(n, t, b)| json!({"name": n, "media_type": t, "bytes": b.len()})),
                }));
            }
            Ok(())
        }
        PluginCommand::Keygen { .. }
        | PluginCommand::Sign { .. }
        | PluginCommand::SignRecord { .. }
        | PluginCommand::New { .. }
        | PluginCommand::Pack { .. }
        | PluginCommand::Trust { .. } => {
            unreachable!("handled above")
        }
    }
}
