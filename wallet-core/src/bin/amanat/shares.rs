//! The patient's sharing: `amanat share` (records to a QR code or a relay)
//! and `amanat grants` (uses, accesses, revoking).

use std::path::Path;

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::{Context, Result, bail};
use serde_json::json;
use wallet_core::lang::Lang;
use wallet_core::print::{self, typeset::Fonts};
use wallet_core::qr::Qr;
use wallet_core::share::Passcode;
use wallet_core::share::emergency;
use wallet_core::share::grant::{AccessMode, human_time};
use wallet_core::share::manage::{self, MAX_SHARE_SECONDS};
use wallet_core::summary::Summary;
use wallet_core::vault::{MadeShare, Query, Vault};

use crate::cli::{EmergencyCardArgs, GrantsArgs, GrantsCommand, ShareArgs, SummaryArgs};
use crate::wallet::{CLOCK, now};
use crate::{Ctx, output};

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

/// Reads `--to`: a card file, or card text / a registration number as given.
fn provider_text(text: &str) -> Result<String> {
    let path = Path::new(text);
    if path.is_file() {
        return std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()));
    }
    Ok(text.to_string())
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
    // their own in the environment (checked in manage::prepare).
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
    let request = manage::ShareRequest {
        profile: profile.id,
        selection: manage::Selection {
            ids: args.ids.clone(),
            types: args.types.clone(),
            since: crate::records::date_flag(args.since.as_deref(), false, "--since")?,
            summary: args.summary,
            details_only: false,
        },
        purpose,
        mode,
        seconds,
        to: args.to.as_deref().map(provider_text).transpose()?,
        uses: args.uses,
        passcode,
        relay: args.relay.clone(),
        viewer: args.viewer.clone(),
        shl: args.shl.then(|| manage::ShlOptions {
            long_term: args.long_term,
            direct: args.direct_file,
            label: args.label.clone(),
        }),
        answering: None,
    };
    let now = now();
    let prepared = manage::prepare(&vault, request, now)?;
    let provider = prepared.provider.clone();
    let created = publish(&mut vault, prepared, now)?;
    let qr = Qr::new(&created.link)?;
    if let Some(path) = &args.qr_png {
        output::write_png(&qr, path)?;
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
    output::show_qr(&qr);
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
    match created.link.split_once('#') {
        Some((viewer, _)) => println!("A phone's camera opens the code in the browser: {viewer}"),
        None => println!(
            "Phone cameras show this code as text: open it with `amanat receive`, or set a viewer (amanat settings --viewer URL)."
        ),
    }
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

/// Uploads a prepared share to its relay (an offline one has none) and keeps it in the wallet.
fn publish(vault: &mut Vault, prepared: manage::Prepared, now: i64) -> Result<manage::Created> {
    let relay_url = if prepared.relay().is_some() {
        crate::runtime()?.block_on(manage::upload(&prepared, CLOCK))?
    } else {
        None
    };
    Ok(manage::finish(vault, prepared, relay_url, now)?)
}

/// `summary --pdf`: the summary on paper with the QR code of a new share of
/// its records.
pub fn print_summary(ctx: &Ctx, args: &SummaryArgs, path: &Path) -> Result<()> {
    // Fonts first: a missing font must not leave a share behind.
    let fonts = Fonts::load()?;
    let seconds = parse_duration(&args.expires)?;
    let mut vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.clone();
    let metas = vault.list(&Query {
        profile: Some(profile.id),
        ..Query::default()
    })?;
    let summary = Summary::from_metas(&metas);
    let now = now();
    let prepared = manage::prepare(
        &vault,
        print::summary_share(profile.id, args.relay.clone(), seconds),
        now,
    )?;
    let created = publish(&mut vault, prepared, now)?;
    let g = &created.grant;
    let paper = print::Paper {
        profile: &profile,
        lang: Lang::from_code(&args.lang),
        today: &crate::wallet::today(),
        link: &created.link,
        expires: g.expires,
    };
    let printout = print::summary_pdf(&fonts, &paper, &summary)?;
    std::fs::write(path, &printout.pdf).with_context(|| format!("cannot write {}", path.display()))?;
    if args.json {
        return output::json(&json!({
            "pdf": path,
            "pages": printout.pages,
            "link": created.link,
            "grant_id": g.id,
            "expires_at": g.expires,
            "records": g.records,
        }));
    }
    println!(
        "Wrote {} ({} page(s), A4): the summary of {} with the QR code of {} record(s), valid until {}.",
        path.display(),
        printout.pages,
        profile.name,
        g.records,
        human_time(g.expires)
    );
    match &g.relay_url {
        Some(_) => println!("Revoke the QR code any time with: amanat grants revoke {}", g.id),
        None => println!(
            "The records are inside the QR code: it works without a network and cannot be recalled until it expires."
        ),
    }
    Ok(())
}

/// Asks the relay for uses and accesses of relay shares; new accesses go to the audit log.
/// Brings uses and accesses up to date from the relays; returns warnings.
fn refresh(vault: &mut Vault, grants: &mut [MadeShare]) -> Result<Vec<String>> {
    let (statuses, warnings) =
        crate::runtime()?.block_on(manage::relay_statuses(grants, vault.signing_key(), CLOCK))?;
    manage::record_statuses(vault, grants, &statuses)?;
    Ok(warnings)
}

/// Revokes a share at its relay (an offline one has none) and in the wallet.
fn revoke(vault: &mut Vault, g: &mut MadeShare) -> Result<()> {
    crate::runtime()?.block_on(manage::revoke_at_relay(g, vault.signing_key(), CLOCK))?;
    manage::mark_revoked(vault, g)?;
    Ok(())
}

/// `amanat emergency-card`: make or renew (`--relay`), show, or revoke the
/// profile's emergency card.
pub fn emergency_card(ctx: &Ctx, args: EmergencyCardArgs) -> Result<()> {
    // Fonts first: a missing font must not leave a new card behind.
    let fonts = args.pdf.as_ref().map(|_| Fonts::load()).transpose()?;
    let mut vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.clone();
    let now = now();
    let mut card = emergency::current(&vault, profile.id, now)?;
    if args.revoke {
        let Some(g) = card.as_mut() else {
            bail!(
                "'{}' has no emergency card in force (make one with --relay URL)",
                profile.handle
            );
        };
        revoke(&mut vault, g)?;
        println!(
            "Revoked the emergency card {}: its QR code opens nothing from now on.",
            g.id
        );
        return Ok(());
    }
    // The facts the card prints are the ones its share was made of.
    let (card, facts) = match (&args.relay, card) {
        (Some(relay), before) => {
            let contacts = (!args.contact.is_empty()).then(|| args.contact.clone());
            let (prepared, facts) =
                emergency::prepare(&vault, &profile, before.as_ref(), contacts, relay, now)?;
            let created = publish(&mut vault, prepared, now)?;
            // The new card works before the old one stops: never a moment without one.
            if let Some(mut old) = before {
                revoke(&mut vault, &mut old)?;
                if !args.json {
                    println!("Renewed: the card before ({}) no longer opens.", old.id);
                }
            }
            (created.grant, facts)
        }
        (None, Some(mut g)) => {
            refresh(&mut vault, std::slice::from_mut(&mut g))?;
            let facts = emergency::facts(&vault, &profile, g.emergency.clone().unwrap_or_default())?;
            (g, facts)
        }
        (None, None) => bail!(
            "'{}' has no emergency card yet: make one with `amanat emergency-card --relay URL --contact \"NAME (relation) PHONE\"`",
            profile.handle
        ),
    };
    let qr = Qr::new(&card.link)?;
    if let Some(path) = &args.qr_png {
        output::write_png(&qr, path)?;
    }
    if let (Some(path), Some(fonts)) = (&args.pdf, &fonts) {
        let paper = print::Paper {
            profile: &profile,
            lang: Lang::from_code(&args.lang),
            today: &crate::wallet::today(),
            link: &card.link,
            expires: card.expires,
        };
        let printout = print::emergency_pdf(fonts, &paper, &facts)?;
        std::fs::write(path, &printout.pdf).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let shown = emergency::card(&vault, &card, facts)?;
    if let Some(path) = &args.out {
        std::fs::write(path, &shown.text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        return output::json(&shown);
    }
    output::show_qr(&qr);
    for line in shown.text.lines() {
        println!("{}", output::safe(line));
    }
    match shown.opened_at.as_slice() {
        [] => println!("Not opened yet."),
        times => println!(
            "Opened {} time(s): {}",
            times.len(),
            times
                .iter()
                .map(|t| human_time(*t))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
    println!(
        "Renew with `amanat emergency-card --relay URL`; stop it with `amanat emergency-card --revoke`."
    );
    Ok(())
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
                let list: Vec<_> = grants.iter().map(|g| manage::row(g, now, false)).collect();
                return output::json(&list);
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
                        manage::status_word(g, now).into(),
                        human_time(g.expires),
                        uses,
                        g.records.to_string(),
                        g.purpose.clone(),
                        g.to.clone(),
                    ]
                })
                .collect();
            output::table_or(
                "No shares yet. Make one with `amanat share`.",
                &["GRANT", "STATUS", "EXPIRES", "USES", "RECORDS", "PURPOSE", "TO"],
                &rows,
            )
        }
        Some(GrantsCommand::Show { id }) => {
            let g = vault.share(&id)?;
            let qr = Qr::new(&g.link)?;
            output::show_qr(&qr);
            println!("{}", g.link);
            Ok(())
        }
        Some(GrantsCommand::Revoke { id }) => {
            let mut g = vault.share(&id)?;
            if g.revoked {
                println!("Share {} was already revoked.", g.id);
                return Ok(());
            }
            revoke(&mut vault, &mut g)?;
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
