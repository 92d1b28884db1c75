//! Commands about the wallet itself: init, passphrase, whoami, profiles, demo, audit.

use std::io::Write;

use anyhow::{Context, Result};
use base64::Engine;
use serde_json::json;
use wallet_core::audit::{Actor, AuditEntry};
use wallet_core::clock::Clock;
use wallet_core::contract::{AuditCheck, ProfileInfo};
use wallet_core::profile::{Profile, ProfileDraft, Relationship};
use wallet_core::share::manage;
use wallet_core::vault::{CreateOptions, DEFAULT_KDF_LOG_N, Vault};

use crate::cli::{AuditArgs, InitArgs, PassphraseArgs, ProfileCommand, ProfileFields, SettingsArgs};
use crate::{Ctx, Failure, exit, output, prompt};

pub fn today() -> String {
    CLOCK.today()
}

/// The CLI's clock: the machine's. The CLI is an edge: it reads the time here
/// and passes it into every flow it runs.
pub const CLOCK: Clock = Clock::System;

pub fn now() -> i64 {
    CLOCK.now()
}

fn draft(fields: ProfileFields, default_name: &str, relationship: Option<String>) -> ProfileDraft {
    ProfileDraft {
        name: fields.name.unwrap_or_else(|| default_name.to_string()),
        handle: fields.handle,
        birth_date: fields.birth_date,
        gender: fields.gender,
        relationship,
        abha_number: fields.abha_number,
        abha_address: fields.abha_address,
        cnic: fields.cnic,
        phone: fields.phone,
    }
}

pub fn create(ctx: &Ctx, owner: Profile, kdf: Option<u8>) -> Result<Vault> {
    let dir = ctx.vault_dir()?;
    wallet_core::vault::check_new_location(&dir)?;
    let pass = prompt::new("AMANAT_PASSPHRASE", "your new wallet")?;
    let vault = Vault::create(
        &dir,
        &pass,
        CreateOptions {
            kdf_log_n: kdf.unwrap_or(DEFAULT_KDF_LOG_N),
            owner,
            clock: CLOCK,
        },
    )?;
    Ok(vault)
}

pub fn init(ctx: &Ctx, args: InitArgs) -> Result<()> {
    let owner =
        draft(args.fields, wallet_core::profile::UNNAMED, None).build(&today(), Relationship::Owner)?;
    let vault = create(ctx, owner, args.kdf.kdf_work_factor)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Created your wallet at {}", vault.dir().display())?;
    writeln!(
        out,
        "  Wallet ID: {}   (read this to a doctor to prove a share is yours)",
        vault.wallet_id()
    )?;
    writeln!(
        out,
        "  Owner:     {} (profile '{}')",
        vault.owner().name,
        vault.owner().handle
    )?;
    writeln!(
        out,
        "Next: `amanat import FILE…` to add records, `amanat profile add` for family."
    )?;
    Ok(())
}

pub fn passphrase(ctx: &Ctx, args: PassphraseArgs) -> Result<()> {
    let mut vault = ctx.open()?;
    let new = prompt::new("AMANAT_NEW_PASSPHRASE", "the wallet")?;
    if !args.rotate_keys {
        vault.change_passphrase(&new, args.kdf.kdf_work_factor)?;
        println!("Passphrase changed. Use the new one from now on.");
        return Ok(());
    }
    eprintln!("Sealing every stored value again under a new key…");
    let values = vault.rotate_keys(&new, args.kdf.kdf_work_factor)?;
    println!(
        "Passphrase changed and all {values} stored values sealed under a new key: an old copy of keyring.age opens nothing now."
    );
    Ok(())
}

fn profile_json(p: &Profile, vault: &Vault) -> ProfileInfo {
    ProfileInfo::new(p, p.id == vault.owner().id, &today())
}

fn profile_lines(p: &Profile) -> Vec<(&'static str, String)> {
    let mut lines = vec![
        ("name", p.name.clone()),
        ("handle", p.handle.clone()),
        ("relationship", p.relationship.to_string()),
    ];
    if let Some(b) = &p.birth_date {
        let age = p
            .age_on(&today())
            .map(|a| format!(" (age {a})"))
            .unwrap_or_default();
        lines.push(("born", format!("{b}{age}")));
    }
    if let Some(g) = p.gender {
        lines.push(("gender", g.to_string()));
    }
    if let Some(n) = &p.abha_number {
        lines.push(("ABHA number", n.to_string()));
    }
    if let Some(a) = &p.abha_address {
        lines.push(("ABHA address", a.to_string()));
    }
    if let Some(c) = &p.cnic {
        lines.push(("CNIC", c.to_string()));
    }
    if let Some(phone) = &p.phone {
        lines.push(("phone", phone.clone()));
    }
    lines
}

pub fn whoami(ctx: &Ctx, as_json: bool) -> Result<()> {
    let vault = ctx.open()?;
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vault.verifying_key().as_bytes());
    if as_json {
        let profiles: Vec<_> = vault.profiles().iter().map(|p| profile_json(p, &vault)).collect();
        return output::json(&json!({
            "wallet_id": vault.wallet_id().to_string(),
            "signing_key": key,
            "age_recipient": vault.age_recipient().to_string(),
            "vault": vault.dir(),
            "records": vault.record_count(),
            "owner": profile_json(vault.owner(), &vault),
            "profiles": profiles,
        }));
    }
    let handles: Vec<&str> = vault.profiles().iter().map(|p| p.handle.as_str()).collect();
    println!("Wallet ID {}", vault.wallet_id());
    output::fields(&[
        ("owner", vault.owner().name.clone()),
        ("profiles", handles.join(", ")),
        ("records", vault.record_count().to_string()),
        ("age recipient", vault.age_recipient().to_string()),
        ("wallet", vault.dir().display().to_string()),
    ])?;
    println!("Owner's profile:");
    output::fields(&profile_lines(vault.owner()))
}

pub fn settings(ctx: &Ctx, args: SettingsArgs) -> Result<()> {
    let mut vault = ctx.open()?;
    let mut settings = vault.settings()?;
    if let Some(viewer) = &args.viewer {
        settings.viewer = Some(manage::viewer_address(viewer)?);
    } else if args.no_viewer {
        settings.viewer = None;
    }
    vault.set_settings(&settings)?;
    if args.json {
        return output::json(&json!({ "viewer": settings.viewer }));
    }
    output::fields(&[(
        "viewer",
        settings
            .viewer
            .unwrap_or_else(|| "none: offline share codes hold the bare AMANAT: link".into()),
    )])
}

pub fn profile(ctx: &Ctx, cmd: ProfileCommand) -> Result<()> {
    let mut vault = ctx.open()?;
    match cmd {
        ProfileCommand::List(a) => {
            if a.json {
                let all: Vec<_> = vault.profiles().iter().map(|p| profile_json(p, &vault)).collect();
                return output::json(&all);
            }
            let rows: Vec<Vec<String>> = vault
                .profiles()
                .iter()
                .map(|p| {
                    vec![
                        p.handle.clone(),
                        p.relationship.to_string(),
                        p.birth_date.clone().unwrap_or_default(),
                        p.name.clone(),
                    ]
                })
                .collect();
            output::table(&["HANDLE", "RELATIONSHIP", "BORN", "NAME"], &rows)
        }
        ProfileCommand::Add { fields, relationship } => {
            let name = fields.name.clone().context("a new profile needs --name")?;
            let p = draft(fields, &name, Some(relationship)).build(&today(), Relationship::Child)?;
            let handle = p.handle.clone();
            vault.add_profile(p)?;
            println!("Added profile '{handle}'. Use --profile {handle} to import or list their records.");
            Ok(())
        }
        ProfileCommand::Show(a) => {
            let p = vault.profile(ctx.profile())?;
            if a.json {
                return output::json(&profile_json(p, &vault));
            }
            output::fields(&profile_lines(p))
        }
        ProfileCommand::Remove { handle } => {
            vault.remove_profile(&handle)?;
            println!("Removed profile '{handle}'.");
            Ok(())
        }
    }
}

pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} ({{eta}} left)"))
    {
        bar.set_style(style);
    }
    bar
}

fn actor_text(a: &Actor) -> String {
    match a {
        Actor::Patient => "you".into(),
        Actor::Plugin { name } => format!("plugin {name}"),
        Actor::Recipient { who } => who.clone(),
    }
}

pub fn audit(ctx: &Ctx, args: AuditArgs) -> Result<()> {
    let vault = ctx.open()?;
    if args.verify {
        let verdict = vault.verify_audit()?;
        if args.json {
            output::json(&AuditCheck::from(
                verdict.as_ref().copied().map_err(ToString::to_string),
            ))?;
        }
        return match verdict {
            Ok(n) => {
                if args.json {
                    Ok(())
                } else {
                    println!("Audit log intact: {n} entries, every link of the hash chain verified.");
                    Ok(())
                }
            }
            Err(e) => Err(Failure {
                message: format!("the audit log has been tampered with: {e}"),
                code: exit::INTEGRITY,
            }
            .into()),
        };
    }
    let entries = vault.audit_entries()?;
    let skip = args.limit.map_or(0, |l| entries.len().saturating_sub(l));
    let entries: Vec<_> = entries.into_iter().skip(skip).collect();
    if args.json {
        let list: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| match e {
                Ok(entry) => serde_json::to_value(entry).unwrap_or_default(),
                Err(err) => json!({"error": err.to_string()}),
            })
            .collect();
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| match e {
            Ok(AuditEntry { seq, time, actor, .. }) => {
                let entry = e.as_ref().map(AuditEntry::describe).unwrap_or_default();
                vec![format!("#{seq}"), output::time(*time), actor_text(actor), entry]
            }
            Err(err) => vec!["?".into(), String::new(), String::new(), err.to_string()],
        })
        .collect();
    output::table(&["#", "WHEN", "WHO", "WHAT"], &rows)
}
