//! `amanat bench`: the vault's speed, measured on temporary wallets.
//!
//! Figures are wall-clock on whatever machine runs it; the README records them
//! for the reference machine with the command that reproduced them.

use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use anyhow::Result;
use serde_json::json;
use wallet_core::profile::{ProfileDraft, Relationship};
use wallet_core::vault::{CreateOptions, DEFAULT_KDF_LOG_N, MIN_KDF_LOG_N, Query, Vault};

use crate::cli::BenchArgs;
use crate::output;
use crate::wallet::{add_in_chunks, now};

fn new_vault(dir: &std::path::Path, log_n: u8) -> Result<Vault> {
    let owner = ProfileDraft {
        name: "Bench Patient".into(),
        ..ProfileDraft::default()
    }
    .build("2026-01-01", Relationship::Owner)?;
    Ok(Vault::create(
        dir,
        &SecretString::from("bench passphrase"),
        CreateOptions {
            kdf_log_n: log_n,
            owner,
        },
    )?)
}

/// Demo records as the bytes of one FHIR Bundle file.
fn bundle_bytes(records: &[serde_json::Value]) -> Vec<u8> {
    let entries: Vec<(String, serde_json::Value)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("urn:uuid:{i}"), r.clone()))
        .collect();
    let stamp = wallet_core::fhir::date::FhirDateTime::from_unix(now());
    serde_json::to_vec(&wallet_core::fhir::bundle("collection", "bench", &stamp, entries)).unwrap_or_default()
}

/// Parses and imports a bundle the way `amanat import` does; returns records added.
fn import(vault: &mut Vault, bytes: &[u8]) -> Result<usize> {
    let owner = vault.owner().id;
    let records = wallet_core::import::records_from_file("bench.json", bytes, now())?;
    let (added, _) = add_in_chunks(vault, owner, records, "bench", &indicatif::ProgressBar::hidden())?;
    // As `amanat import` does after every import.
    vault.checkpoint()?;
    Ok(added)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time_n<T>(n: usize, mut f: impl FnMut() -> Result<T>) -> Result<(Duration, T)> {
    let mut samples = Vec::with_capacity(n);
    let mut last = None;
    for _ in 0..n {
        // Drop the previous result first: an open wallet holds its lock.
        drop(last.take());
        let start = Instant::now();
        last = Some(f()?);
        samples.push(start.elapsed());
    }
    Ok((
        median(samples),
        last.ok_or_else(|| anyhow::anyhow!("no samples"))?,
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub fn run(args: BenchArgs) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut figures = Vec::new();
    let mut report = |name: &str, value: f64, unit: &str, target: &str| {
        if !args.json {
            println!("  {name:<44} {value:>12.3} {unit:<10} {target}");
        }
        figures.push(json!({"name": name, "value": value, "unit": unit, "target": target}));
    };
    if !args.json {
        println!(
            "Amanat vault benchmark ({} cores)",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
    }

    // Unlock cost at the pinned scrypt work factor, on its own.
    let kdf_dir = tmp.path().join("kdf");
    drop(new_vault(&kdf_dir, DEFAULT_KDF_LOG_N)?);
    let (unlock, _) = time_n(3, || {
        Ok(Vault::open(&kdf_dir, &SecretString::from("bench passphrase"))?)
    })?;
    report(
        &format!("unlock (scrypt log2 N = {DEFAULT_KDF_LOG_N})"),
        ms(unlock),
        "ms",
        "(reported)",
    );

    // Import throughput.
    let bytes = bundle_bytes(&wallet_core::demo::family(args.import_records, now(), 1).owner);
    let mut vault = new_vault(&tmp.path().join("import"), MIN_KDF_LOG_N)?;
    let start = Instant::now();
    let added = import(&mut vault, &bytes)?;
    let took = start.elapsed();
    report(
        &format!("import {added} records (parse, validate, seal, commit)"),
        added as f64 / took.as_secs_f64(),
        "records/s",
        ">= 20000",
    );
    report(
        "  mean record size",
        bytes.len() as f64 / added.max(1) as f64,
        "bytes",
        "~1500",
    );
    drop(vault);

    // A large wallet: open, list, search, show.
    let dir = tmp.path().join("large");
    let mut vault = new_vault(&dir, MIN_KDF_LOG_N)?;
    // Built as files of at most 10,000 records, as a patient's devices would export them.
    let family = wallet_core::demo::family(args.vault_records, now(), 2).owner;
    let start = Instant::now();
    let mut added = 0;
    for part in family.chunks(10_000) {
        added += import(&mut vault, &bundle_bytes(part))?;
    }
    report(
        &format!("import {added} records into the large wallet"),
        added as f64 / start.elapsed().as_secs_f64(),
        "records/s",
        "(reported)",
    );
    drop(family);
    drop(vault);
    let pass = SecretString::from("bench passphrase");
    let (open, vault) = time_n(1, || Ok(Vault::open(&dir, &pass)?))?;
    let newest = Query {
        limit: Some(50),
        ..Query::default()
    };
    let (list, listed) = time_n(9, || Ok(vault.list(&newest)?))?;
    report(
        &format!(
            "open {}-record wallet (scrypt 2^{MIN_KDF_LOG_N}) + list newest 50",
            vault.record_count()
        ),
        ms(open + list),
        "ms",
        "<= 50",
    );
    report("  list newest 50 (wallet already open)", ms(list), "ms", "");
    let rare = Query {
        text: Some("penicillin".into()),
        ..Query::default()
    };
    let (search, found) = time_n(5, || Ok(vault.list(&rare)?))?;
    report(
        &format!("search 'penicillin' ({} hits)", found.len()),
        ms(search),
        "ms",
        "<= 200",
    );
    let common = Query {
        text: Some("blood pressure".into()),
        limit: Some(50),
        ..Query::default()
    };
    let (search2, _) = time_n(5, || Ok(vault.list(&common)?))?;
    report("search 'blood pressure', newest 50", ms(search2), "ms", "<= 200");
    let ids: Vec<_> = listed.iter().map(|m| m.id).collect();
    let (show, _) = time_n(5, || {
        for id in &ids {
            let r = vault.get(*id)?;
            std::hint::black_box(serde_json::to_vec_pretty(r.resource.json())?);
        }
        Ok(())
    })?;
    report(
        "show one record (read, verify, decrypt, render)",
        show.as_secs_f64() * 1e6 / ids.len().max(1) as f64,
        "µs",
        "<= 1000",
    );
    if args.json {
        output::json(&figures)?;
    }
    Ok(())
}
