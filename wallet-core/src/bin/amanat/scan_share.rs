//! `amanat scan-share`: the patient registers at a facility's counter (the
//! flows are `wallet_core::scan_share`).

use anyhow::{Context, Result};
use wallet_core::contract::FacilityDetail;
use wallet_core::scan_share;
use wallet_core::share::grant::{duration_words, human_time};

use crate::cli::ScanShareArgs;
use crate::wallet::{CLOCK, now};
use crate::{Ctx, output, prompt};

pub fn run(ctx: &Ctx, args: ScanShareArgs) -> Result<()> {
    let text = output::scanned(
        args.text.as_deref(),
        args.qr_image.as_deref(),
        "the facility card's text (AMANAT-FACILITY:…)",
    )?;
    let mut vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.id;
    let now = now();
    let opened = scan_share::open(&vault, &text, now)?;
    let detail = scan_share::detail(&vault, &opened, profile, now)?;
    if !args.json || !args.yes {
        show(&detail, args.json)?;
    }
    let agreed = args.yes || (prompt::interactive() && prompt::confirm("Share these details with them?")?);
    if !agreed {
        if !args.json {
            println!(
                "Nothing was shared{}.",
                if prompt::interactive() {
                    ""
                } else {
                    " (add --yes to share them)"
                }
            );
        }
        return Ok(());
    }
    let (token, prepared, url) = crate::runtime()?
        .block_on(scan_share::deliver(
            &opened,
            now,
            |token| scan_share::prepare(&vault, &opened, profile, token, now),
            CLOCK,
        ))
        .context("your details could not reach the facility's relay; nothing was shared")?;
    let arrived = scan_share::finish(&mut vault, &opened, token, prepared, url, now)?;
    if args.json {
        return output::json(&arrived);
    }
    println!(
        "\n✓ Token {} at {} ({}). Show this number at the counter.",
        arrived.token,
        output::safe(&arrived.facility),
        arrived.day
    );
    println!(
        "  The facility can read your details until {}; revoke them any time: amanat grants revoke {}",
        human_time(arrived.share.expires),
        arrived.share.id
    );
    Ok(())
}

fn show(d: &FacilityDetail, json: bool) -> Result<()> {
    if json {
        return output::json(d);
    }
    let counter = d.counter.as_deref().map(|c| format!(", {c}")).unwrap_or_default();
    println!(
        "{}{counter} (facility {})",
        output::safe(&d.facility),
        output::safe(&d.facility_id)
    );
    match &d.listed_by {
        Some(registry) => println!("  listed by {registry}"),
        None => println!(
            "  ! NOT IN ANY REGISTRY YOU TRUST: be sure this is the facility you are at (key {}).",
            d.key
        ),
    }
    println!("\nIt would receive, for {}:", duration_words(d.access));
    println!("  {}", output::safe(&d.patient));
    if !d.details.is_empty() {
        println!("  {}", output::safe(&d.details));
    }
    println!("  and no health record.");
    Ok(())
}
