//! `amanat registry`: registries that vouch for providers' registrations
//! (create, sign a snapshot) and the wallet's trust in them.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wallet_core::audit::Event;
use wallet_core::provider::{ProviderCard, Publisher, RegistrySnapshot};
use wallet_core::secret_file::KeyPurpose;

use crate::cli::RegistryCommand;
use crate::wallet::now;
use crate::{Ctx, keys, output};

fn read_card(text: &str) -> Result<ProviderCard> {
    let path = Path::new(text);
    let content = if path.is_file() {
        std::fs::read_to_string(path)?
    } else {
        text.to_string()
    };
    Ok(ProviderCard::parse(&content)?)
}

/// The publisher of a signed plugin file, as a registry lists it.
fn publisher_of(path: &Path) -> Result<Publisher> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let inspected = wallet_core::plugin::signature::inspect(&bytes)?;
    match inspected.manifest {
        Some(m) if inspected.signed => Ok(Publisher {
            name: m.publisher,
            key: m.publisher_key,
        }),
        _ => bail!(
            "{} is not a signed plugin: only a publisher's signature names its key",
            path.display()
        ),
    }
}

/// Verifies a registry snapshot against the thumbprint the patient was given
/// and trusts it (providers and plugin publishers alike).
pub fn trust_snapshot(ctx: &Ctx, file: &Path, key: &str) -> Result<RegistrySnapshot> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (snapshot, signer) = RegistrySnapshot::verify(&text, Some(key.trim()))?;
    let mut vault = ctx.open()?;
    let thumb = wallet_core::share::grant::thumbprint(&signer);
    // A snapshot may list providers, plugin publishers or both: one entry each.
    let mut events = Vec::new();
    if !snapshot.providers.is_empty() || snapshot.publishers.is_empty() {
        events.push(Event::RegistryTrusted {
            registry: snapshot.registry.clone(),
            providers: snapshot.providers.len() as u64,
        });
    }
    if !snapshot.publishers.is_empty() {
        events.push(Event::PublishersTrusted {
            registry: snapshot.registry.clone(),
            publishers: snapshot.publishers.len() as u64,
        });
    }
    vault.trust_registry(&thumb, &text, events)?;
    Ok(snapshot)
}

pub fn registry(ctx: &Ctx, cmd: RegistryCommand) -> Result<()> {
    match cmd {
        RegistryCommand::Create { name, key, kdf } => {
            let reg = keys::create(KeyPurpose::Registry, &name, &key, &kdf)?;
            println!("Created registry '{}' at {}", reg.name, key.display());
            println!("Key thumbprint (publish it; wallets check snapshots against it):");
            println!(
                "{}",
                wallet_core::share::grant::thumbprint(&reg.signing.verifying_key())
            );
            Ok(())
        }
        RegistryCommand::Sign {
            key,
            out,
            publishers,
            cards,
        } => {
            let reg = keys::open(KeyPurpose::Registry, &key)?;
            let providers = cards.iter().map(|c| read_card(c)).collect::<Result<Vec<_>>>()?;
            let publishers = publishers
                .iter()
                .map(|p| publisher_of(p))
                .collect::<Result<Vec<_>>>()?;
            let snapshot = RegistrySnapshot {
                v: 1,
                registry: reg.name.clone(),
                issued: now(),
                providers,
                publishers,
            };
            std::fs::write(&out, snapshot.sign(&reg.signing))
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "Signed {} provider(s) and {} plugin publisher(s) into {}",
                snapshot.providers.len(),
                snapshot.publishers.len(),
                out.display()
            );
            Ok(())
        }
        RegistryCommand::Trust { file, key } => {
            let snapshot = trust_snapshot(ctx, &file, &key)?;
            println!(
                "Trusted '{}': {} provider(s). Share with one by registration: --to REGISTRATION",
                snapshot.registry,
                snapshot.providers.len()
            );
            Ok(())
        }
        RegistryCommand::List(a) => {
            let vault = ctx.open()?;
            let mut rows = Vec::new();
            let mut all = Vec::new();
            for (thumb, signed) in vault.registries()? {
                let (snapshot, _) = RegistrySnapshot::verify(&signed, Some(&thumb))?;
                for c in &snapshot.providers {
                    rows.push(vec![
                        c.registration.clone(),
                        c.name.clone(),
                        snapshot.registry.clone(),
                    ]);
                }
                all.push(
                    json!({"registry": snapshot.registry, "key": thumb, "providers": snapshot.providers}),
                );
            }
            if a.json {
                return output::json(&all);
            }
            output::table(&["REGISTRATION", "NAME", "REGISTRY"], &rows)
        }
    }
}
