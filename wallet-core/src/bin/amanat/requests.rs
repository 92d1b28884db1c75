//! `amanat requests`: the patient's side of consent requests (the flows are
//! `wallet_core::requests`).

use anyhow::{Context, Result};
use wallet_core::contract::{RequestDetail, RequestRow};
use wallet_core::qr::Qr;
use wallet_core::requests::{self, Narrowing};
use wallet_core::share::grant::{duration_words, human_time};

use crate::cli::{ApproveArgs, RequestsArgs, RequestsCommand};
use crate::shares::parse_duration;
use crate::wallet::{CLOCK, now};
use crate::{Ctx, output};

pub fn run(ctx: &Ctx, args: RequestsArgs) -> Result<()> {
    match args.command {
        None => list(ctx, args.json),
        Some(RequestsCommand::Open { text, qr_image, json }) => {
            let text = output::scanned(
                text.as_deref(),
                qr_image.as_deref(),
                "the request's text (AMANAT-REQUEST:…)",
            )?;
            let mut vault = ctx.open()?;
            let profile = vault.profile(ctx.profile())?.id;
            let detail = requests::open(&mut vault, &text, profile, now())?;
            show(&detail, json)
        }
        Some(RequestsCommand::Show { id, json }) => {
            let vault = ctx.open()?;
            let profile = vault.profile(ctx.profile())?.id;
            show(&requests::detail(&vault, &id, profile, now())?, json)
        }
        Some(RequestsCommand::Approve(a)) => approve(ctx, a),
        Some(RequestsCommand::Deny { id }) => {
            let mut vault = ctx.open()?;
            let row = requests::deny(&mut vault, &id, now())?;
            println!(
                "Denied request {} from {}. Nothing was shared; the doctor is not sent anything.",
                row.id,
                output::safe(&row.from)
            );
            Ok(())
        }
    }
}

fn list(ctx: &Ctx, json: bool) -> Result<()> {
    let vault = ctx.open()?;
    let rows = requests::list(&vault, now())?;
    if json {
        return output::json(&rows);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                r.state.clone(),
                human_time(r.received),
                format!("{}{}", r.from, listed_words(r)),
                r.purpose.clone(),
            ]
        })
        .collect();
    output::table_or(
        "No consent requests. Open one with: amanat requests open --qr-image FILE",
        &["ID", "STATE", "RECEIVED", "FROM", "PURPOSE"],
        &table,
    )
}

fn listed_words(r: &RequestRow) -> String {
    match &r.listed_by {
        Some(registry) => format!(", listed by {registry}"),
        None => " — NOT IN ANY REGISTRY YOU TRUST".into(),
    }
}

fn show(d: &RequestDetail, json: bool) -> Result<()> {
    if json {
        return output::json(d);
    }
    let r = &d.row;
    println!("Consent request {} · {}", r.id, r.state.to_uppercase());
    println!("  from {}{}", output::safe(&r.from), listed_words(r));
    if r.listed_by.is_none() {
        println!(
            "  ! No registry you trust lists this doctor: be sure who they are before you approve (key {}).",
            d.key
        );
    }
    println!("  {}", output::safe(&r.asked));
    println!(
        "  answer by {}; the answer goes {}",
        human_time(r.expires),
        match &d.relay {
            Some(relay) => format!("to their relay {relay}"),
            None => "back as a QR code you show them".into(),
        }
    );
    println!("\n{} of your records match what is asked:", d.matching.len());
    for m in &d.matching {
        let day = m.date.as_deref().map_or("—", |d| d.get(..10).unwrap_or(d));
        println!("  {day:<10}  {:<20} {}", m.resource_type, output::safe(&m.title));
    }
    if r.state == "requested" {
        println!(
            "\nApprove as asked:  amanat requests approve {}\n  narrower: --types {} --since {} --for {}\nDeny:              amanat requests deny {}",
            r.id,
            d.types.join(","),
            d.since.as_deref().unwrap_or("YYYY-MM-DD"),
            duration_words(d.access).replace(' ', ""),
            r.id
        );
    }
    Ok(())
}

fn approve(ctx: &Ctx, a: ApproveArgs) -> Result<()> {
    let mut vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.clone();
    let narrowing = Narrowing {
        types: (!a.types.is_empty()).then(|| a.types.clone()),
        since: a.since.clone(),
        seconds: a.duration.as_deref().map(parse_duration).transpose()?,
        offline: a.offline,
    };
    let now = now();
    let prepared = requests::approve(&vault, &a.id, profile.id, &narrowing, now)?;
    let relay_url = if prepared.relay().is_some() {
        crate::runtime()?
            .block_on(wallet_core::share::manage::upload(&prepared, CLOCK))
            .context("the answer could not reach the doctor's relay; nothing was shared")?
    } else {
        None
    };
    let created = requests::finish(&mut vault, prepared, relay_url, now)?;
    let qr = Qr::new(&created.link)?;
    if let Some(path) = &a.qr_png {
        output::write_png(&qr, path)?;
    }
    let g = &created.grant;
    if a.json {
        return output::json(&created.answer(now));
    }
    println!(
        "Approved request {}: {} record(s) of {} shared with {} until {} (view only).",
        g.id,
        g.records,
        output::safe(&profile.name),
        output::safe(&g.to),
        human_time(g.expires)
    );
    match &g.relay_url {
        Some(_) => println!(
            "Sent to their relay: the doctor opens it with `amanat receive --request {}`. Revoke it any time: amanat grants revoke {}",
            g.id, g.id
        ),
        None => {
            output::show_qr(&qr);
            println!(
                "Show this code to the doctor (only their key opens it):\n\n{}",
                created.link
            );
        }
    }
    Ok(())
}
