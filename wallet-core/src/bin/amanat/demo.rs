//! `amanat demo`: a wallet filled with a synthetic patient and her daughter,
//! to try Amanat. Built with the `demo` feature (scripts/start and the tests
//! turn it on; the installed package leaves it out).

use anyhow::Result;
use wallet_core::audit::Actor;
use wallet_core::profile::{ProfileDraft, Relationship};
use wallet_core::record::{NewRecord, Source};

use crate::Ctx;
use crate::cli::DemoArgs;
use crate::wallet::{create, now, progress, today};

pub fn demo(ctx: &Ctx, args: DemoArgs) -> Result<()> {
    let dir = ctx.vault_dir()?;
    let mut vault = if wallet_core::vault::exists(&dir) {
        ctx.open()?
    } else {
        let owner = ProfileDraft {
            name: wallet_core::demo::OWNER_NAME.into(),
            handle: Some("ayesha".into()),
            birth_date: Some(wallet_core::demo::OWNER_BIRTH_DATE.into()),
            gender: Some("female".into()),
            cnic: Some(wallet_core::demo::OWNER_CNIC.into()),
            ..ProfileDraft::default()
        }
        .build(&today(), Relationship::Owner)?;
        create(ctx, owner, args.kdf.kdf_work_factor)?
    };
    let family = wallet_core::demo::family(args.records, now(), args.seed);
    let owner = vault.profile(ctx.profile())?.id;
    let child = match vault.profile(Some("zara")) {
        Ok(p) => p.id,
        Err(_) => {
            let zara = ProfileDraft {
                name: wallet_core::demo::CHILD_NAME.into(),
                handle: Some("zara".into()),
                birth_date: Some(wallet_core::demo::CHILD_BIRTH_DATE.into()),
                gender: Some("female".into()),
                relationship: Some("child".into()),
                ..ProfileDraft::default()
            }
            .build(&today(), Relationship::Child)?;
            let id = zara.id;
            vault.add_profile(zara)?;
            id
        }
    };
    let to_records = |values: Vec<serde_json::Value>| -> Result<Vec<NewRecord>> {
        values
            .into_iter()
            .map(|v| {
                let r = wallet_core::fhir::Resource::from_value(v)?;
                let d = r.describe()?;
                Ok(NewRecord::new(r, d, Source::Demo))
            })
            .collect()
    };
    let owner_records = to_records(family.owner)?;
    let child_records = to_records(family.child)?;
    let bar = progress((owner_records.len() + child_records.len()) as u64, "records");
    let (a1, d1) = vault.import_records(owner, owner_records, Actor::Patient, "demo", |n| {
        bar.inc(n as u64)
    })?;
    let (a2, d2) = vault.import_records(child, child_records, Actor::Patient, "demo", |n| {
        bar.inc(n as u64)
    })?;
    bar.finish_and_clear();
    vault.checkpoint()?;
    println!(
        "Demo wallet ready at {}: {} new records for {}, {} for {} ({} already there).",
        vault.dir().display(),
        a1,
        vault.profile(ctx.profile())?.name,
        a2,
        wallet_core::demo::CHILD_NAME,
        d1 + d2
    );
    println!("Try: amanat summary · amanat list --search hba1c · amanat --profile zara list");
    Ok(())
}
