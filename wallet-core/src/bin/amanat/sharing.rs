//! Commands for sharing: share, receive, grants, relay, provider, registry.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{Context, Result, bail};
use serde_json::json;
use wallet_core::audit::Event;
use wallet_core::grant::{AccessMode, Grantee, human_time};
use wallet_core::link::{Location, ShareLink};
use wallet_core::provider::{ProviderCard, Publisher, RegistrySnapshot};
use wallet_core::qr::Qr;
use wallet_core::relay::RelayError;
use wallet_core::relay::client::Client;
use wallet_core::secret_file::{KeyPurpose, NamedKey, ProviderIdentity};
use wallet_core::share::{self, Passcode, ShareError};
use wallet_core::sharing::{self, MAX_SHARE_SECONDS};
use wallet_core::vault::{DEFAULT_KDF_LOG_N, MadeShare, Vault};

use crate::cli::{
    GrantsArgs, GrantsCommand, ProviderCommand, ReceiveArgs, RegistryCommand, RelayArgs, ShareArgs,
};
use crate::wallet::{CLOCK, now};
use crate::{Ctx, Failure, data_dir, exit, output, prompt};

/// Parses `30m`, `24h`, `7d`, `2w`, `1d12h`, `90s` into seconds.
pub fn parse_duration(text: &str) -> Result<i64> {
    let bad =
        || anyhow::anyhow!("'{text}' is not a duration: use a number and a unit, e.g. 30m, 24h, 7d, 2w");
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(bad()),
        };
        total = total
            .checked_add(n.checked_mul(unit).ok_or_else(bad)?)
            .ok_or_else(bad)?;
    }
    if !number.is_empty() || total <= 0 {
        return Err(bad());
    }
    if total > MAX_SHARE_SECONDS {
        bail!("a share can last at most a year");
    }
    Ok(total)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}

/// A share-level refusal: its own exit code, its own message.
fn refused(e: impl std::fmt::Display) -> anyhow::Error {
    Failure {
        message: format!("share refused: {e}"),
        code: exit::REFUSED,
    }
    .into()
}

/// Reads `--to`: a card file, or card text / a registration number as given.
fn provider_text(text: &str) -> Result<String> {
    let path = Path::new(text);
    if path.is_file() {
        return std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()));
    }
    Ok(text.to_string())
}

fn write_png(qr: &Qr, path: &Path) -> Result<()> {
    let (side, pixels) = qr.to_pixels(8);
    let img = image::GrayImage::from_raw(side as u32, side as u32, pixels).context("QR image size")?;
    img.save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("cannot write {}", path.display()))
}

fn show_qr(qr: &Qr) {
    if std::io::stdout().is_terminal() {
        println!("{}", qr.to_terminal());
    }
}

pub fn share(ctx: &Ctx, args: ShareArgs) -> Result<()> {
    let (purpose, mode) = (args.purpose, args.mode);
    let seconds = parse_duration(&args.expires)?;
    if args.offline && args.uses.is_some() {
        bail!("--uses needs --relay: an offline QR code cannot count how often it is opened");
    }
    if args.passcode && args.to.is_some() {
        bail!("--passcode is for bearer shares; a share --to a provider opens only with their key");
    }
    let mut vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.clone();
    // The wallet makes the passcode unless the patient set a passphrase of
    // their own in the environment (checked in sharing::prepare).
    let passcode = args
        .passcode
        .then(|| match std::env::var("AMANAT_SHARE_PASSCODE") {
            Ok(chosen) if !chosen.is_empty() => Passcode::Chosen(SecretString::from(chosen)),
            _ => Passcode::generate(),
        });
    let generated = match &passcode {
        Some(p @ Passcode::Generated(_)) => Some(p.secret().clone()),
        _ => None,
    };
    let request = sharing::ShareRequest {
        profile: profile.id,
        selection: sharing::Selection {
            ids: args.ids.clone(),
            types: args.types.clone(),
            since: crate::records::date_flag(args.since.as_deref(), false, "--since")?,
            summary: args.summary,
        },
        purpose,
        mode,
        seconds,
        to: args.to.as_deref().map(provider_text).transpose()?,
        uses: args.uses,
        passcode,
        relay: args.relay.clone(),
    };
    let now = now();
    let prepared = sharing::prepare(&vault, request, now)?;
    let relay_url = if prepared.relay().is_some() {
        runtime()?.block_on(sharing::upload(&prepared, CLOCK))?
    } else {
        None
    };
    let provider = prepared.provider.clone();
    let created = sharing::finish(&mut vault, prepared, relay_url, now)?;
    let qr = Qr::new(&created.link)?;
    if let Some(path) = &args.qr_png {
        write_png(&qr, path)?;
    }
    if let Some(path) = &args.qr_svg {
        std::fs::write(path, qr.to_svg()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let g = &created.grant;
    if args.json {
        return output::json(&json!({
            "link": created.link,
            "grant_id": g.id,
            "expires": human_time(g.expires),
            "expires_at": g.expires,
            "qr_version": created.qr_version,
            "records": created.records,
            "relay_url": g.relay_url,
            "passcode": generated.as_ref().map(|c| c.expose_secret()),
        }));
    }
    show_qr(&qr);
    let whom = match &provider {
        Some(card) => card.name.clone(),
        None => "whoever you show this code to".into(),
    };
    println!(
        "Sharing {} record(s) of {} with {whom} for {} until {} ({}).",
        g.records,
        profile.name,
        purpose.words(),
        human_time(g.expires),
        if mode == AccessMode::Store {
            "they may keep a copy"
        } else {
            "view only"
        }
    );
    println!(
        "Grant {} · QR version {} · {} characters",
        g.id,
        created.qr_version,
        created.link.len()
    );
    match &g.relay_url {
        Some(_) => println!("Revoke it any time with: amanat grants revoke {}", g.id),
        None => println!(
            "This offline code works without a network and cannot be recalled: it stays valid until it expires."
        ),
    }
    match &generated {
        Some(code) => println!(
            "Passcode: {}\nTell it to the doctor separately (not in a message with the code); the code alone does not open the records.",
            code.expose_secret()
        ),
        None if args.passcode => {
            println!("Tell the doctor the passcode separately; the code alone does not open the records.")
        }
        None => {}
    }
    println!("\n{}", created.link);
    Ok(())
}

/// Reads the link from the argument, standard input, or a QR image.
fn link_text(args: &ReceiveArgs) -> Result<String> {
    if let Some(path) = &args.qr_image {
        let img = image::open(path)
            .with_context(|| format!("cannot read the image {}", path.display()))?
            .to_luma8();
        let (w, h) = img.dimensions();
        return wallet_core::qr::read_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32)[0]
        })
        .map_err(refused);
    }
    match args.link.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Ok(text)
        }
        Some(text) => Ok(text.to_string()),
        None => bail!("give a link or --qr-image FILE"),
    }
}

fn identity_path(arg: &Option<PathBuf>) -> Result<PathBuf> {
    if let Some(p) = arg {
        return Ok(p.clone());
    }
    if let Some(p) = std::env::var_os("AMANAT_PROVIDER_IDENTITY").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    Ok(data_dir()
        .context("cannot find your data directory; pass --identity FILE")?
        .join("provider.age"))
}

fn load_identity(arg: &Option<PathBuf>) -> Result<ProviderIdentity> {
    let path = identity_path(arg)?;
    if !path.exists() {
        bail!(
            "no provider identity at {} (create one with `amanat provider init`)",
            path.display()
        );
    }
    let pass = prompt::existing(
        "AMANAT_PROVIDER_PASSPHRASE",
        &format!("Passphrase for {}: ", path.display()),
    )?;
    Ok(ProviderIdentity::load(&path, &pass)?)
}

pub fn receive(args: ReceiveArgs) -> Result<()> {
    let text = link_text(&args)?;
    let link = ShareLink::decode(&text).map_err(refused)?;
    let now = now();
    let identity = match &link.grant.to {
        Grantee::Provider {
            name, registration, ..
        } => {
            let path = identity_path(&args.identity)?;
            if !path.exists() {
                return Err(refused(ShareError::NeedsIdentity {
                    name: name.clone(),
                    registration: registration.clone(),
                }));
            }
            Some(load_identity(&args.identity)?)
        }
        Grantee::Bearer => None,
    };
    let provider_age = identity.as_ref().map(|i| i.card.age.clone());
    share::precheck(&link, now, provider_age.as_deref()).map_err(refused)?;
    let passcode = if link.passcode {
        Some(prompt::existing(
            "AMANAT_SHARE_PASSCODE",
            "The patient's passcode for this share: ",
        )?)
    } else {
        None
    };
    let ciphertext = match &link.location {
        Location::Inline(bytes) => bytes.clone(),
        Location::Relay(url) => {
            // A link that carries its record list is verified before the relay is
            // asked; a detached one (what wallets make) after, with its records.
            if !link.detached {
                share::verify_link(&link, now, provider_age.as_deref()).map_err(refused)?;
            }
            runtime()?
                .block_on(async {
                    Client::new(CLOCK)?
                        .fetch(url, identity.as_ref().map(|i| &i.signing))
                        .await
                })
                .map_err(|e: RelayError| refused(e))?
        }
    };
    let received = share::open(
        &link,
        &ciphertext,
        now,
        identity.as_ref().map(|i| &i.age),
        passcode.as_ref(),
    )
    .map_err(refused)?;
    let grant = &received.grant;
    if let Some(dir) = &args.out {
        if grant.mode != AccessMode::Store {
            return Err(refused(
                "this share is view-only: the patient did not allow storing it (--out)",
            ));
        }
        output::private_dir(dir)?;
        for r in &received.records {
            let path = dir.join(format!("{}-{}.json", r.granted.id, r.granted.resource_type));
            output::write_private(&path, &r.resource.to_bytes())?;
        }
        output::write_private(
            &dir.join("grant.jws"),
            link.signed_grant(Some(grant.records.clone()))?
                .compact()
                .as_bytes(),
        )?;
    }
    if args.json {
        let records: Vec<_> = received
            .records
            .iter()
            .map(|r| r.resource.json().clone())
            .collect();
        return output::json(&json!({
            "grant": grant,
            "jws": link.signed_grant(Some(grant.records.clone()))?.compact(),
            "wallet_id": received.wallet_id.to_string(),
            "records": records,
        }));
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "VERIFIED share from {} (wallet {})",
        output::safe(&grant.patient),
        received.wallet_id
    )?;
    writeln!(
        out,
        "  for {} ({}) · {} · valid until {}",
        grant.purpose.words(),
        grant.purpose.code(),
        if grant.mode == AccessMode::Store {
            "you may keep a copy"
        } else {
            "view only"
        },
        human_time(grant.exp)
    )?;
    let to = match &grant.to {
        Grantee::Bearer => "whoever holds the code".to_string(),
        Grantee::Provider {
            name,
            registration,
            registry,
            ..
        } => match registry {
            Some(r) => format!("you, {name} ({registration}, listed by {r})"),
            None => format!("you, {name} ({registration})"),
        },
    };
    writeln!(out, "  to {}", output::safe(&to))?;
    writeln!(
        out,
        "  {} record(s), each matching the patient's signature:\n",
        received.records.len()
    )?;
    for r in &received.records {
        let date = r
            .description
            .date
            .as_ref()
            .map(|d| d.day().to_string())
            .unwrap_or_else(|| "—".into());
        writeln!(
            out,
            "  {date:<10}  {:<20} {}",
            output::safe(&r.granted.resource_type),
            output::safe(&r.description.title)
        )?;
    }
    if args.out.is_some() {
        writeln!(
            out,
            "\nSaved to {}",
            args.out
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// Asks the relay for uses and accesses of relay shares; new accesses go to the audit log.
/// Brings uses and accesses up to date from the relays; returns warnings.
fn refresh(vault: &mut Vault, grants: &mut [MadeShare]) -> Result<Vec<String>> {
    let (statuses, warnings) =
        runtime()?.block_on(sharing::relay_statuses(grants, vault.signing_key(), CLOCK))?;
    sharing::record_statuses(vault, grants, &statuses)?;
    Ok(warnings)
}

pub fn grants(ctx: &Ctx, args: GrantsArgs) -> Result<()> {
    let mut vault = ctx.open()?;
    match args.command {
        None => {
            let mut grants = vault.shares()?;
            let warnings = refresh(&mut vault, &mut grants)?;
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            let now = now();
            if args.json {
                let list: Vec<_> = grants.iter().map(|g| sharing::row(g, now, false)).collect();
                return output::json(&list);
            }
            if grants.is_empty() {
                println!("No shares yet. Make one with `amanat share`.");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = grants
                .iter()
                .map(|g| {
                    let uses = match (&g.relay_url, g.max_uses) {
                        (None, _) => "offline".to_string(),
                        (Some(_), Some(m)) => format!("{}/{m}", g.uses),
                        (Some(_), None) => g.uses.to_string(),
                    };
                    vec![
                        g.id.clone(),
                        sharing::status_word(g, now).into(),
                        human_time(g.expires),
                        uses,
                        g.records.to_string(),
                        g.purpose.clone(),
                        g.to.clone(),
                    ]
                })
                .collect();
            output::table(
                &["GRANT", "STATUS", "EXPIRES", "USES", "RECORDS", "PURPOSE", "TO"],
                &rows,
            )
        }
        Some(GrantsCommand::Show { id }) => {
            let g = vault.share(&id)?;
            let qr = Qr::new(&g.link)?;
            show_qr(&qr);
            println!("{}", g.link);
            Ok(())
        }
        Some(GrantsCommand::Revoke { id }) => {
            let mut g = vault.share(&id)?;
            if g.revoked {
                println!("Share {} was already revoked.", g.id);
                return Ok(());
            }
            runtime()?.block_on(sharing::revoke_at_relay(&g, vault.signing_key(), CLOCK))?;
            sharing::mark_revoked(&mut vault, &mut g)?;
            match &g.relay_url {
                Some(_) => println!(
                    "Revoked share {}: the relay deleted the records; opening the link now fails.",
                    g.id
                ),
                None => println!(
                    "Marked share {} revoked. It was an offline code: whoever has it can still open it until {}.",
                    g.id,
                    human_time(g.expires)
                ),
            }
            Ok(())
        }
    }
}

pub fn relay(args: RelayArgs) -> Result<()> {
    use wallet_core::relay::server::{Config, Relay, serve};
    use wallet_core::relay::store::Quotas;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let store = args
            .store
            .open()
            .map_err(|e| anyhow::anyhow!("cannot open the store at {}: {e}", args.store))?;
        let relay = Relay::new(
            store,
            Config {
                max_bytes: args.max_bytes,
                rate_per_second: args.rate_limit,
                trusted_proxies: args.trusted_proxy,
                quotas: Quotas {
                    uploads_per_key_per_day: args.uploads_per_key,
                    bytes_per_key_per_day: args.bytes_per_key,
                    max_store_bytes: args.max_store_bytes,
                },
                clock: CLOCK,
            },
        );
        let listener = tokio::net::TcpListener::bind(args.bind)
            .await
            .with_context(|| format!("cannot listen on {}", args.bind))?;
        let addr = listener.local_addr()?;
        println!("Amanat relay listening on http://{addr} (store {})", args.store);
        std::io::stdout().flush().ok();
        serve(listener, relay, stop_requested())
            .await
            .context("the relay stopped")
    })
}

/// Ctrl-C, or SIGTERM (what systemd and container runtimes send): the relay
/// finishes the requests it is answering, then exits.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub fn provider(cmd: ProviderCommand) -> Result<()> {
    match cmd {
        ProviderCommand::Init {
            name,
            registration,
            identity,
            kdf,
        } => {
            let path = identity_path(&identity)?;
            let id = ProviderIdentity::generate(&name, &registration);
            id.card.validate()?;
            let pass = prompt::new("AMANAT_PROVIDER_PASSPHRASE", "your provider identity")?;
            id.save(&path, &pass, kdf.kdf_work_factor.unwrap_or(DEFAULT_KDF_LOG_N))?;
            println!(
                "Created the provider identity of {} ({}) at {}",
                id.card.name,
                id.card.registration,
                path.display()
            );
            println!("Give patients your card: amanat provider card");
            Ok(())
        }
        ProviderCommand::Card {
            identity,
            qr_png,
            json,
        } => {
            let id = load_identity(&identity)?;
            let text = id.card.to_text();
            if let Some(path) = &qr_png {
                write_png(&Qr::new(&text)?, path)?;
            }
            if json {
                return output::json(&id.card);
            }
            show_qr(&Qr::new(&text)?);
            println!("{} · {}", id.card.name, id.card.registration);
            println!("{text}");
            Ok(())
        }
    }
}

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
    let thumb = wallet_core::grant::thumbprint(&signer);
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
            let reg = NamedKey::generate(&name);
            let pass = prompt::new("AMANAT_REGISTRY_PASSPHRASE", "the registry key")?;
            reg.save(
                &key,
                KeyPurpose::Registry,
                &pass,
                kdf.kdf_work_factor.unwrap_or(DEFAULT_KDF_LOG_N),
            )?;
            println!("Created registry '{}' at {}", reg.name, key.display());
            println!("Key thumbprint (publish it; wallets check snapshots against it):");
            println!("{}", wallet_core::grant::thumbprint(&reg.signing.verifying_key()));
            Ok(())
        }
        RegistryCommand::Sign {
            key,
            out,
            publishers,
            cards,
        } => {
            let pass = prompt::existing(
                "AMANAT_REGISTRY_PASSPHRASE",
                &format!("Passphrase for {}: ", key.display()),
            )?;
            let reg = NamedKey::load(&key, KeyPurpose::Registry, &pass)?;
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

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m").unwrap(), 1800);
        assert_eq!(parse_duration("1d12h").unwrap(), 129_600);
        assert_eq!(parse_duration("2w").unwrap(), 1_209_600);
        for bad in ["", "24", "h", "3x", "0h", "400d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
