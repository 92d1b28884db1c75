//! Commands about records: import, list, show, delete, summary, export.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use serde_json::{Value, json};
use wallet_core::audit::{Actor, Event};
use wallet_core::contract::{Entered, NewReading};
use wallet_core::ids::RecordId;
use wallet_core::import::{ImportError, Trusted, backup_needs_passphrase, records_from_bytes};
use wallet_core::matching;
use wallet_core::record::{RecordMeta, RecordSummary};
use wallet_core::summary::{Flag, Summary};
use wallet_core::vault::{DEFAULT_KDF_LOG_N, Query, Vault};

use crate::cli::{AddArgs, DeleteArgs, ExportArgs, ImportArgs, ListArgs, ShowArgs, SummaryArgs};
use crate::wallet::{now, progress};
use crate::{Ctx, Failure, exit, output, prompt};

/// One file's outcome.
struct FileReport {
    file: String,
    /// The profile it went into (another than the chosen one when the file's
    /// patient matches that one).
    profile: String,
    added: usize,
    duplicates: usize,
    error: Option<String>,
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn load_identities(paths: &[std::path::PathBuf], vault: &Vault) -> Result<Vec<Box<dyn age::Identity>>> {
    let mut ids: Vec<Box<dyn age::Identity>> = vec![Box::new(vault.age_identity().clone())];
    for p in paths {
        let file = age::IdentityFile::from_file(p.display().to_string())
            .with_context(|| format!("cannot read identity file {}", p.display()))?;
        for id in file
            .into_identities()
            .with_context(|| format!("{} holds no usable age identity", p.display()))?
        {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Reads a file into records, opening backups on the way.
fn read_file(
    path: &Path,
    identities: &mut Vec<Box<dyn age::Identity>>,
    trusted: &Trusted,
) -> Result<Vec<wallet_core::record::NewRecord>, String> {
    let name = file_name(path);
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut result = records_from_bytes(&name, &bytes, identities, trusted, now());
    if matches!(result, Err(ImportError::BackupLocked)) && backup_needs_passphrase(&bytes) {
        let pass = prompt::existing(
            "AMANAT_BACKUP_PASSPHRASE",
            &format!("Passphrase for backup {name}: "),
        )
        .map_err(|e| e.to_string())?;
        let mut id = age::scrypt::Identity::new(pass);
        id.set_max_work_factor(wallet_core::vault::MAX_KDF_LOG_N);
        identities.push(Box::new(id));
        result = records_from_bytes(&name, &bytes, identities, trusted, now());
    }
    result.map_err(|e| e.to_string())
}

pub fn import(ctx: &Ctx, args: ImportArgs) -> Result<()> {
    let mut vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.clone();
    let mut identities = load_identities(&args.identity, &vault)?;
    let trusted = vault.trusted()?;
    let total_bytes: u64 = args
        .files
        .iter()
        .filter_map(|f| fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress(args.files.len() as u64, "files");
    if args.files.len() < 2 && total_bytes < 4 << 20 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut reports = Vec::new();
    for path in &args.files {
        let name = file_name(path);
        let report = match read_file(path, &mut identities, &trusted) {
            Err(error) => FileReport {
                file: path.display().to_string(),
                profile: profile.handle.clone(),
                added: 0,
                duplicates: 0,
                error: Some(error),
            },
            Ok(records) => match matching::destination(
                vault.profiles(),
                &profile,
                ctx.profile().is_some(),
                &records,
                args.accept_mismatch,
            )
            .cloned()
            {
                Err(mismatch) => FileReport {
                    file: path.display().to_string(),
                    profile: profile.handle.clone(),
                    added: 0,
                    duplicates: 0,
                    error: Some(format!(
                        "{}: import it with --profile HANDLE for that person, or --accept-mismatch if it is theirs",
                        output::safe(&mismatch.to_string())
                    )),
                },
                Ok(into) => {
                    let (checked, findings) = pharmacy_checks(vault, &into.handle, &records)?;
                    vault = checked;
                    let hazard = findings.iter().any(|f| f.hazard);
                    bar.suspend(|| {
                        for f in &findings {
                            let mark = if f.hazard { "⚠" } else { "✓" };
                            println!(
                                "  {mark} {}: {}",
                                output::safe(&f.plugin),
                                output::safe(&f.message)
                            );
                        }
                    });
                    let save = !hazard
                        || args.accept_warnings
                        || (prompt::interactive()
                            && bar.suspend(|| prompt::confirm("Save this prescription anyway?"))?);
                    if !save {
                        let error = "a pharmacy plugin found you may be allergic to it (above): ask your doctor, or import it with --accept-warnings to save it anyway";
                        if !args.json {
                            bar.suspend(|| println!("  skipped  {}: {error}", path.display()));
                        }
                        reports.push(FileReport {
                            file: path.display().to_string(),
                            profile: into.handle.clone(),
                            added: 0,
                            duplicates: 0,
                            error: Some(error.into()),
                        });
                        bar.inc(1);
                        continue;
                    }
                    fill_blank_profile(&mut vault, &into, &records, &name, &args, &bar)?;
                    let (added, duplicates) =
                        vault.import_records(into.id, records, Actor::Patient, &name, |_| {})?;
                    FileReport {
                        file: path.display().to_string(),
                        profile: into.handle,
                        added,
                        duplicates,
                        error: None,
                    }
                }
            },
        };
        if !args.json {
            let line = match &report.error {
                None if report.profile != profile.handle => format!(
                    "  ok       {}: {} added into '{}' (whom the file is about), {} already in the wallet",
                    report.file, report.added, report.profile, report.duplicates
                ),
                None => format!(
                    "  ok       {}: {} added, {} already in the wallet",
                    report.file, report.added, report.duplicates
                ),
                Some(e) => format!("  skipped  {}: {e}", report.file),
            };
            bar.suspend(|| println!("{line}"));
        }
        bar.inc(1);
        reports.push(report);
    }
    bar.finish_and_clear();
    let added: usize = reports.iter().map(|r| r.added).sum();
    if added > 0 {
        vault.checkpoint()?;
    }
    let duplicates: usize = reports.iter().map(|r| r.duplicates).sum();
    let skipped = reports.iter().filter(|r| r.error.is_some()).count();
    if args.json {
        let files: Vec<Value> = reports
            .iter()
            .map(|r| json!({"file": r.file, "profile": r.profile, "added": r.added, "duplicates": r.duplicates, "error": r.error}))
            .collect();
        output::json(
            &json!({"profile": profile.handle, "added": added, "duplicates": duplicates, "skipped": skipped, "files": files}),
        )?;
    } else {
        println!(
            "Imported {added} new record(s) into '{}' ({duplicates} already there) from {} file(s).",
            profile.handle,
            reports.len() - skipped
        );
    }
    if skipped > 0 {
        return Err(Failure {
            message: format!("{skipped} file(s) were skipped (see above); nothing from them was added"),
            code: exit::ERROR,
        }
        .into());
    }
    Ok(())
}

/// A prescription signed by its doctor is checked by the pharmacy plugins
/// installed (an allergy, a duplicate medicine) before it is saved: what
/// they find. The wallet is lent to the plugin host and given back.
fn pharmacy_checks(
    vault: Vault,
    profile: &str,
    records: &[wallet_core::record::NewRecord],
) -> Result<(Vault, Vec<wallet_core::plugin::Finding>)> {
    use wallet_core::plugin::{self, runtime};
    let prescriptions = plugin::signed_prescriptions(records);
    if prescriptions.is_empty() || !plugin::pharmacy_checks_installed(&vault)? {
        return Ok((vault, Vec::new()));
    }
    let shared = std::sync::Arc::new(std::sync::Mutex::new(vault));
    let findings = {
        let host = runtime::Runtime::new(runtime::Limits::default())?;
        plugin::check_prescriptions(&host, &shared, Some(profile), &prescriptions)?
    };
    let vault = std::sync::Arc::try_unwrap(shared)
        .map_err(|_| anyhow::anyhow!("the plugin host still holds the wallet"))?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    Ok((vault, findings))
}

/// A profile made without a name takes the name, birth date, gender and IDs
/// of the patient a file names, when the patient says so (`--fill-profile`,
/// or yes in a terminal); otherwise a note says how.
fn fill_blank_profile(
    vault: &mut Vault,
    into: &wallet_core::profile::Profile,
    records: &[wallet_core::record::NewRecord],
    file: &str,
    args: &ImportArgs,
    bar: &indicatif::ProgressBar,
) -> Result<()> {
    let Some(patient) = matching::file_patient(records) else {
        return Ok(());
    };
    let Some(filled) = matching::filled(into, &patient, &crate::wallet::today()) else {
        return Ok(());
    };
    let details = matching::describe_profile(&filled);
    let question = format!(
        "Profile '{}' has no name yet, and {file} is about {}. Fill the profile with that?",
        into.handle,
        output::safe(&details)
    );
    let yes = args.fill_profile
        || (!args.json && prompt::interactive() && bar.suspend(|| prompt::confirm(&question))?);
    let line = if yes {
        vault.fill_profile(filled, file)?;
        format!(
            "  filled   profile '{}' from {file}: {}",
            into.handle,
            output::safe(&details)
        )
    } else {
        format!(
            "  note     {file} is about {}; `amanat import --fill-profile` makes that profile '{}'",
            output::safe(&details),
            into.handle
        )
    };
    if !args.json {
        bar.suspend(|| println!("{line}"));
    }
    Ok(())
}

/// `amanat add`: one reading, typed in.
pub fn add(ctx: &Ctx, args: AddArgs) -> Result<()> {
    let mut vault = ctx.open()?;
    let who = vault.profile(ctx.profile())?.clone();
    let reading = NewReading {
        kind: args.kind,
        value: args.value,
        unit: args.unit,
        fasting: args.fasting,
        at: args.at,
    };
    let record = wallet_core::reading::record(&reading, &who, now()).map_err(|e| Failure {
        message: format!("{e}; nothing was saved"),
        code: exit::ERROR,
    })?;
    let meta = vault.add_entered(who.id, record)?;
    vault.checkpoint()?;
    let entered = Entered::from(&meta);
    if args.json {
        return output::json(&entered);
    }
    println!(
        "Added to '{}': {} ({}), entered by you. Record {}.",
        who.handle,
        output::safe(&meta.title),
        meta.date.as_deref().unwrap_or("now"),
        meta.id
    );
    Ok(())
}

fn summary_of(m: &RecordMeta, vault: &Vault, document: Option<RecordId>) -> RecordSummary {
    RecordSummary {
        document: document.map(|d| d.to_string()),
        id: m.id.to_string(),
        resource_type: m.resource_type.clone(),
        date: m.date.clone(),
        title: m.title.clone(),
        profile: vault
            .profile_by_id(m.profile)
            .map(|p| p.handle.clone())
            .unwrap_or_default(),
        hi_type: m.hi_type,
        vouched_by: m.vouched_by(),
    }
}

pub fn list(ctx: &Ctx, args: ListArgs) -> Result<()> {
    let vault = ctx.open()?;
    let profile = if args.all_profiles {
        None
    } else {
        Some(vault.profile(ctx.profile())?.id)
    };
    let query = Query {
        profile,
        types: args.types,
        since: date_flag(args.since.as_deref(), false, "--since")?,
        until: date_flag(args.until.as_deref(), true, "--until")?,
        text: args.search,
        limit: (args.limit > 0).then_some(args.limit),
    };
    let metas = vault.list(&query)?;
    let limited = query.limit.is_some_and(|l| metas.len() == l);
    let metas = wallet_core::record::beneath_documents(metas);
    if args.json {
        let list: Vec<RecordSummary> = metas.iter().map(|(m, d)| summary_of(m, &vault, *d)).collect();
        return output::json(&list);
    }
    let mut header = vec!["ID", "DATE", "TYPE"];
    if args.all_profiles {
        header.push("PROFILE");
    }
    header.push("TITLE");
    let rows: Vec<Vec<String>> = metas
        .iter()
        .map(|(m, document)| {
            let mut row = vec![m.id.to_string(), m.day().to_string(), m.resource_type.clone()];
            if args.all_profiles {
                row.push(summary_of(m, &vault, None).profile);
            }
            // A document's entries beneath it.
            let indent = if document.is_some() { "  └ " } else { "" };
            let vouched = m.vouched_by().map(|v| format!("  ✓ {v}")).unwrap_or_default();
            row.push(format!("{indent}{}{vouched}", m.title));
            row
        })
        .collect();
    output::table_or("No records match.", &header, &rows)?;
    if limited {
        eprintln!("(showing the newest {}; use --limit 0 for all)", metas.len());
    }
    Ok(())
}

/// The resource with inline attachment data replaced by a note, for reading.
fn without_data(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("data", Value::String(s)) => (
                        k.clone(),
                        Value::String(format!(
                            "<{} of base64 data>",
                            output::size(s.len() as u64 * 3 / 4)
                        )),
                    ),
                    _ => (k.clone(), without_data(v)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_data).collect()),
        other => other.clone(),
    }
}

pub fn show(ctx: &Ctx, args: ShowArgs) -> Result<()> {
    let vault = ctx.open()?;
    let id = vault.resolve_id(&args.id)?;
    let record = vault.get(id)?;
    let value = record.resource.json();
    if let Some(path) = &args.save_attachment {
        let (data, mime, _) =
            wallet_core::fhir::first_attachment(value).context("this record has no attachment")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .context("the attachment's data is not valid base64")?;
        fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "Saved {} ({}) to {}",
            mime.unwrap_or_default(),
            output::size(bytes.len() as u64),
            path.display()
        );
        if !args.json {
            return Ok(());
        }
    }
    if args.json {
        let mut out = std::io::stdout().lock();
        out.write_all(&serde_json::to_vec_pretty(value)?)?;
        writeln!(out)?;
        return Ok(());
    }
    let m = &record.meta;
    println!("{}", m.title);
    let profile = vault
        .profile_by_id(m.profile)
        .map(|p| format!("{} ({})", p.handle, p.name))
        .unwrap_or_default();
    let mut lines = vec![
        ("id", m.id.to_string()),
        ("profile", profile),
        ("type", format!("{} · ABDM {}", m.resource_type, m.hi_type)),
        ("date", m.date.clone().unwrap_or_else(|| "—".into())),
    ];
    if let Some(s) = &m.status {
        lines.push(("status", s.clone()));
    }
    let document = vault.document_of(m)?;
    lines.push(("source", m.source_words(document.as_ref())));
    if let Some(doc) = &document {
        lines.push(("document", format!("{} ({})", doc.id, doc.title)));
    }
    lines.push(("added", output::time(m.added)));
    lines.push(("sha-256", data_encoding::HEXLOWER.encode(&m.sha256)));
    if let Some((data, mime, title)) = wallet_core::fhir::first_attachment(value) {
        lines.push((
            "attachment",
            format!(
                "{} {} ({}); save it with --save-attachment FILE",
                mime.unwrap_or_default(),
                title.unwrap_or_default(),
                output::size(data.len() as u64 * 3 / 4)
            ),
        ));
    }
    let outline = wallet_core::fhir::document::outline(&record.resource);
    if let Some(o) = &outline {
        if !o.authors.is_empty() {
            lines.push(("by", o.authors.join(", ")));
        }
        if let Some(f) = &o.facility {
            lines.push(("facility", f.clone()));
        }
        if let Some(p) = &o.patient {
            lines.push(("about", p.clone()));
        }
    }
    output::fields(&lines)?;
    println!();
    // A document reads as its sections, each entry in a line, before its FHIR.
    for section in outline.iter().flat_map(|o| &o.sections) {
        println!("{}", output::safe(&section.title));
        for entry in &section.entries {
            println!("  - {}", output::safe(&entry.title));
            for result in &entry.results {
                println!("      {}", output::safe(result));
            }
        }
    }
    if outline.is_some() {
        println!();
    }
    println!("{}", serde_json::to_string_pretty(&without_data(value))?);
    Ok(())
}

pub fn delete(ctx: &Ctx, args: DeleteArgs) -> Result<()> {
    let mut vault = ctx.open()?;
    let id = vault.resolve_id(&args.id)?;
    if !args.yes {
        let title = vault
            .list(&Query::default())?
            .into_iter()
            .find(|m| m.id == id)
            .map(|m| m.title)
            .unwrap_or_default();
        if !prompt::confirm(&format!("Delete {id} ({title})? This cannot be undone."))? {
            bail!("not deleted");
        }
    }
    let removed = vault.delete(id)?;
    println!("Deleted {id} ({}).", removed.title);
    Ok(())
}

pub fn summary(ctx: &Ctx, args: SummaryArgs) -> Result<()> {
    if let Some(path) = &args.pdf {
        return crate::shares::print_summary(ctx, &args, path);
    }
    let as_json = args.json;
    let vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.clone();
    let metas = vault.list(&Query {
        profile: Some(profile.id),
        ..Query::default()
    })?;
    let s = Summary::from_metas(&metas);
    if as_json {
        return output::json(&json!({"profile": profile.handle, "name": profile.name, "summary": s}));
    }
    let mut out = std::io::stdout().lock();
    let age = profile
        .birth_date
        .as_deref()
        .and_then(|_| profile.age_on(&crate::wallet::today()))
        .map(|a| format!(", {a} years"))
        .unwrap_or_default();
    writeln!(out, "{}{}: summary of {} records", profile.name, age, s.records)?;
    let section =
        |out: &mut std::io::StdoutLock, title: &str, items: &[wallet_core::summary::Item]| -> Result<()> {
            writeln!(out, "\n{title}")?;
            if items.is_empty() {
                writeln!(out, "  none recorded")?;
            }
            for i in items {
                let date = i.date.as_deref().map(|d| d.get(..10).unwrap_or(d)).unwrap_or("");
                writeln!(out, "  {:<10}  {}", date, i.title)?;
            }
            Ok(())
        };
    section(&mut out, "Problems", &s.problems)?;
    section(&mut out, "Allergies", &s.allergies)?;
    section(&mut out, "Medications", &s.medications)?;
    section(&mut out, "Immunizations", &s.immunizations)?;
    for (title, list) in [("Latest results", &s.results), ("Latest vitals", &s.vitals)] {
        writeln!(out, "\n{title}")?;
        if list.is_empty() {
            writeln!(out, "  none recorded")?;
        }
        for l in list {
            let date = l.date.as_deref().map(|d| d.get(..10).unwrap_or(d)).unwrap_or("");
            let flag = match l.flag {
                Some(Flag::High) => " (high)",
                Some(Flag::Low) => " (low)",
                _ => "",
            };
            let spark = sparkline(
                &l.trend
                    .iter()
                    .filter_map(|p| p.values.first().copied())
                    .collect::<Vec<_>>(),
            );
            writeln!(out, "  {:<10}  {}: {}{}  {}", date, l.label, l.value, flag, spark)?;
        }
    }
    Ok(())
}

/// A text trend: ▁▂▃▄▅▆▇█ scaled between the series' minimum and maximum.
fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.len() < 2 {
        return String::new();
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    values
        .iter()
        .map(|v| {
            let i = if hi > lo {
                ((v - lo) / (hi - lo) * 7.0).round() as usize
            } else {
                3
            };
            BARS[i.min(7)]
        })
        .collect()
}

pub fn export(ctx: &Ctx, args: ExportArgs) -> Result<()> {
    use wallet_core::export::{ExportTo, encrypt, parse_recipients, profile_bundle};
    if args.out.exists() && !args.force {
        bail!(
            "{} already exists (pass --force to replace it)",
            args.out.display()
        );
    }
    let mut vault = ctx.open()?;
    let profile = vault.profile(ctx.profile())?.clone();
    let (to, to_text) = if args.passphrase {
        let pass = prompt::new("AMANAT_EXPORT_PASSPHRASE", "this backup")?;
        (
            ExportTo::Passphrase(pass, args.kdf.kdf_work_factor.unwrap_or(DEFAULT_KDF_LOG_N)),
            "passphrase".to_string(),
        )
    } else {
        (
            ExportTo::Recipients(parse_recipients(&args.to)?),
            args.to.join(", "),
        )
    };
    let (bundle, count) = profile_bundle(&vault, profile.id, now())?;
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(&bundle)?);
    let sealed = encrypt(&plain, &to, args.armor)?;
    let tmp = args.out.with_extension("partial");
    fs::write(&tmp, &sealed).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, &args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
    vault.audit(
        Actor::Patient,
        Event::Exported {
            profile: profile.handle.clone(),
            records: count as u64,
            to: to_text,
        },
    )?;
    println!(
        "Exported {count} record(s) of '{}' to {} ({}), a FHIR Bundle encrypted with age.",
        profile.handle,
        args.out.display(),
        output::size(sealed.len() as u64)
    );
    Ok(())
}

/// A `--since`/`--until` value (a FHIR date or dateTime) as seconds: the start
/// of the period given, or with `end` its end. The error names the flag.
pub fn date_flag(value: Option<&str>, end: bool, flag: &str) -> Result<Option<i64>> {
    value
        .map(|d| wallet_core::fhir::date::parse_bound(d, end))
        .transpose()
        .context(flag.to_string())
}
