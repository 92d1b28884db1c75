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
use crate::wallet::now;
use wallet_core::clock::Clock;

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
            clock: Clock::System,
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
    let (added, _) = vault.import_records(
        owner,
        records,
        wallet_core::audit::Actor::Patient,
        "bench",
        |_| {},
    )?;
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

/// Collects figures and prints them as they come.
struct Report {
    json: bool,
    figures: Vec<serde_json::Value>,
}

impl Report {
    fn add(&mut self, name: &str, value: f64, unit: &str, target: &str) {
        if !self.json {
            println!("  {name:<62} {value:>12.3} {unit:<10} {target}");
        }
        self.figures
            .push(json!({"name": name, "value": value, "unit": unit, "target": target}));
    }

    fn heading(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }
}

pub fn run(args: BenchArgs) -> Result<()> {
    let mut report = Report {
        json: args.json,
        figures: Vec::new(),
    };
    report.heading(&format!(
        "Amanat benchmark ({} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    ));
    let only = args.only.as_deref();
    if only.is_none() || only == Some("vault") {
        vault(&args, &mut report)?;
    }
    if only.is_none() || only == Some("share") {
        share(&mut report)?;
    }
    if only.is_none() || only == Some("cards") {
        cards(&mut report)?;
        signed_records(&mut report)?;
    }
    if only.is_none() || only == Some("plugins") {
        plugins(&args.plugins, &mut report)?;
    }
    if args.json {
        output::json(&report.figures)?;
    }
    Ok(())
}

fn vault(args: &BenchArgs, report: &mut Report) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    report.heading("Vault");
    let mut report = |name: &str, value: f64, unit: &str, target: &str| report.add(name, value, unit, target);

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
    Ok(())
}

/// Sharing: make and open a 50-record share; the size of a 20-entry summary QR,
/// against the same bundle as a SMART Health Card.
/// SMART Health Cards: the specification's example card (four chunked QR
/// codes' worth), signed by its example issuer.
fn cards(report: &mut Report) -> Result<()> {
    use wallet_core::shc::{self, Issuer};

    report.heading("SMART Health Cards");
    let issuer = Issuer::from_jwks(
        "https://spec.smarthealth.cards/examples/issuer",
        None,
        include_bytes!("../../../tests/vectors/shc/issuer.jwks.json"),
    )?;
    let trusted = wallet_core::import::Trusted {
        issuers: vec![issuer],
        ..Default::default()
    };
    let qr = include_str!("../../../tests/vectors/shc/example-chunked.qr.txt");
    let jws = shc::from_qr(qr.lines().filter(|l| !l.is_empty()))?;
    let (verify, _) = time_n(501, || Ok(shc::verify(&jws, &trusted.issuers, now())?))?;
    report.add(
        "verify a card (ES256, inflate, read the claims)",
        ms(verify),
        "ms",
        "<= 1 ms",
    );
    let tmp = tempfile::tempdir()?;
    let mut vault = new_vault(&tmp.path().join("cards"), MIN_KDF_LOG_N)?;
    let me = vault.owner().id;
    let (import, _) = time_n(101, || {
        let records =
            wallet_core::import::records_from_bytes("card.txt", qr.as_bytes(), &[], &trusted, now())?;
        Ok(vault.add_records(me, records, wallet_core::audit::Actor::Patient, "card")?)
    })?;
    report.add(
        "join 4 QR chunks, verify, read the FHIR, store (4 records, deduplicated)",
        ms(import),
        "ms",
        "reported",
    );
    Ok(())
}

/// A prescription signed by a doctor a trusted registry lists: verified
/// (signature, compact bytes, FHIR, the registry's key) and stored. Each
/// sample is a different prescription, so each is a real addition.
fn signed_records(report: &mut Report) -> Result<()> {
    use wallet_core::provider::identity::ProviderIdentity;
    use wallet_core::provider::{RegistrySnapshot, signed};
    let doctor = ProviderIdentity::generate("Dr. Imran Rao", "PMDC-12345-P");
    let trusted = wallet_core::import::Trusted {
        registries: vec![RegistrySnapshot {
            v: 1,
            registry: "PMDC".into(),
            issued: 0,
            providers: vec![doctor.card.clone()],
            publishers: Vec::new(),
        }],
        ..Default::default()
    };
    const N: usize = 501;
    let texts = (0..N)
        .map(|i| {
            let rx = wallet_core::fhir::Resource::from_value(json!({
                "resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "medicationCodeableConcept": {"text": format!("Amoxicillin {} mg", 250 + i)},
                "subject": {"display": "Ayesha Khan"}, "authoredOn": "2026-11-30",
                "dosageInstruction": [{"text": "1 capsule three times a day for 5 days"}]
            }))?;
            Ok(signed::sign(&rx, &doctor.signing, &doctor.card, "PMDC", now()))
        })
        .collect::<Result<Vec<String>>>()?;
    let (verify, _) = time_n(N, || {
        Ok(signed::open(texts[0].as_bytes())?.listed(&trusted.registries)?)
    })?;
    report.add(
        "verify a signed prescription: Ed25519, compact JSON, FHIR, registry key",
        ms(verify),
        "ms",
        "reported",
    );
    let tmp = tempfile::tempdir()?;
    let mut vault = new_vault(&tmp.path().join("signed"), MIN_KDF_LOG_N)?;
    let me = vault.owner().id;
    let mut next = texts.iter();
    let (import, _) = time_n(N, || {
        let text = next
            .next()
            .ok_or_else(|| anyhow::anyhow!("out of prescriptions"))?;
        let records = wallet_core::import::records_from_bytes(
            "rx.amanat-record",
            text.as_bytes(),
            &[],
            &trusted,
            now(),
        )?;
        Ok(vault.add_records(me, records, wallet_core::audit::Actor::Patient, "rx")?)
    })?;
    report.add(
        "verify a signed prescription and store it (a new record each time)",
        ms(import),
        "ms",
        "<= 2 ms",
    );
    Ok(())
}

fn share(report: &mut Report) -> Result<()> {
    use wallet_core::share::grant::{AccessMode, Grant, Grantee, Purpose};
    use wallet_core::share::link::ShareLink;
    use wallet_core::share::{Lock, ShareInput};

    report.heading("Sharing");
    let tmp = tempfile::tempdir()?;
    let mut vault = new_vault(&tmp.path().join("share"), MIN_KDF_LOG_N)?;
    import(
        &mut vault,
        &bundle_bytes(&wallet_core::demo::family(400, now(), 3).owner),
    )?;
    let patient = vault.owner().name.clone();
    let grant = |now: i64| Grant {
        v: 1,
        jti: wallet_core::ids::RecordId::random().to_string(),
        wallet: String::new(),
        patient: patient.clone(),
        // As the demo patient's profile fills it: birth date, gender, CNIC.
        subject: Some(wallet_core::share::grant::Subject {
            birth_date: Some("1968-04-12".into()),
            gender: Some("female".into()),
            ids: vec![("cnic".into(), "35202-1234567-2".into())],
            phone: None,
        }),
        to: Grantee::Bearer,
        purpose: Purpose::CareManagement,
        mode: AccessMode::View,
        iat: now,
        nbf: now,
        exp: now + 86_400,
        uses: None,
        records: Vec::new(),
    };
    let query = Query {
        types: vec!["Observation".into()],
        limit: Some(50),
        ..Query::default()
    };
    // Select, bundle, compress, encrypt, sign, encode the link, draw the QR as PNG.
    let (create, (link_text, ciphertext)) = time_n(21, || {
        let metas = vault.list(&query)?;
        let inputs = metas
            .iter()
            .map(|m| {
                Ok(ShareInput {
                    resource_type: m.resource_type.clone(),
                    bytes: vault.get(m.id)?.bytes,
                    about: None,
                    signature: None,
                    card: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sealed = wallet_core::share::seal(&inputs, grant(now()), vault.signing_key(), Lock::Bearer)?;
        // A relay keeps a share at /v1/shares/{grant id}; the doctor's side checks that.
        let relay_url = format!("https://relay.example.org/v1/shares/{}", sealed.grant.jti);
        let text = sealed.link(Some(&relay_url), &vault.verifying_key()).encode();
        let qr = wallet_core::qr::Qr::new(&text)?;
        let (side, pixels) = qr.to_pixels(4);
        let mut png = Vec::new();
        image::GrayImage::from_raw(side as u32, side as u32, pixels)
            .ok_or_else(|| anyhow::anyhow!("QR image size"))?
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
        std::hint::black_box(png);
        Ok((text, sealed.ciphertext))
    })?;
    report.add(
        "create a 50-record share (select, bundle, encrypt, sign, QR PNG)",
        ms(create),
        "ms",
        "<= 10",
    );
    let (open, records) = time_n(21, || {
        let link = ShareLink::decode(&link_text)?;
        Ok(wallet_core::share::open(&link, &ciphertext, now(), None, None)?
            .records
            .len())
    })?;
    report.add(
        &format!("receive, verify and decrypt it ({records} records, no network)"),
        ms(open),
        "ms",
        "<= 5",
    );

    // The 20-entry patient summary as an offline QR code.
    let all = vault.list(&Query::default())?;
    let mut ids = wallet_core::summary::Summary::from_metas(&all).record_ids();
    ids.truncate(20);
    let mut inputs = Vec::new();
    for id in &ids {
        let r = vault.get(id.parse()?)?;
        inputs.push(ShareInput {
            resource_type: r.meta.resource_type.clone(),
            bytes: r.bytes,
            about: None,
            signature: None,
            card: None,
        });
    }
    let version_of = |text: &str| {
        wallet_core::qr::Qr::new(text)
            .map(|q| f64::from(q.version()))
            .unwrap_or(f64::NAN)
    };
    let json_bytes: usize = inputs.iter().map(|i| i.bytes.len()).sum();
    report.add(
        &format!("{}-entry summary: FHIR JSON", inputs.len()),
        json_bytes as f64,
        "bytes",
        "",
    );
    // age adds a random "grease" stanza (0 to 99 bytes) to every file, so the
    // link's length varies from share to share: seal it many times.
    // The URL form, as phones open it, with a viewer address of a typical length.
    const VIEWER: &str = "https://relay.amanat.example/";
    const SEALS: usize = 50;
    let mut lengths = Vec::with_capacity(SEALS);
    let mut versions = Vec::with_capacity(SEALS);
    let mut url_versions = Vec::with_capacity(SEALS);
    for _ in 0..SEALS {
        let link = wallet_core::share::seal(&inputs, grant(now()), vault.signing_key(), Lock::Bearer)?
            .link(None, &vault.verifying_key());
        let text = link.encode();
        lengths.push(text.len() as f64);
        versions.push(version_of(&text));
        url_versions.push(version_of(&link.encode_url(VIEWER)));
    }
    lengths.sort_by(f64::total_cmp);
    versions.sort_by(f64::total_cmp);
    url_versions.sort_by(f64::total_cmp);
    report.add(
        &format!("  offline link, median of {SEALS} shares"),
        lengths[SEALS / 2],
        "chars",
        "",
    );
    report.add(
        &format!("  QR version at EC M, median of {SEALS} shares"),
        versions[SEALS / 2],
        "version",
        "<= 30",
    );
    report.add(
        &format!("  QR version at EC M, largest of {SEALS} shares"),
        versions[SEALS - 1],
        "version",
        "",
    );
    report.add(
        &format!("  shares that fit version 30, of {SEALS}"),
        versions.iter().filter(|v| **v <= 30.0).count() as f64,
        "shares",
        "",
    );
    report.add(
        &format!("  as a viewer URL ({VIEWER}#AMANAT/<digits>): QR version, median"),
        url_versions[SEALS / 2],
        "version",
        "<= 30",
    );
    report.add(
        &format!("  as a viewer URL: QR version, largest of {SEALS}"),
        url_versions[SEALS - 1],
        "version",
        "",
    );
    report.add(
        &format!("  as a viewer URL: shares that fit version 30, of {SEALS}"),
        url_versions.iter().filter(|v| **v <= 30.0).count() as f64,
        "shares",
        "",
    );
    let (shc_chars, shc_version) = smart_health_card(&inputs)?;
    report.add(
        "  the same bundle as a SMART Health Card: QR text",
        shc_chars as f64,
        "chars",
        "",
    );
    report.add(
        "  the same bundle as a SMART Health Card: QR version at EC M",
        shc_version,
        "version",
        "",
    );
    for n in [8usize, 12, 16] {
        let text = wallet_core::share::seal(&inputs[..n], grant(now()), vault.signing_key(), Lock::Bearer)?
            .link(None, &vault.verifying_key())
            .encode();
        report.add(
            &format!("  first {n} entries: QR version at EC M (offline)"),
            version_of(&text),
            "version",
            "",
        );
    }
    Ok(())
}

/// The records as a SMART Health Card QR: minified as the SHC spec asks (no ids,
/// meta, narrative, CodeableConcept.text or Coding.display), raw DEFLATE, a JWS
/// with an ES256-sized signature, numeric-encoded after `shc:/`.
fn smart_health_card(inputs: &[wallet_core::share::ShareInput]) -> Result<(usize, f64)> {
    use base64::Engine;
    use std::io::Write;
    fn minify(v: &mut serde_json::Value, top: bool) {
        match v {
            serde_json::Value::Object(map) => {
                if top {
                    map.remove("id");
                    map.remove("meta");
                    map.remove("text");
                }
                if map.contains_key("coding") {
                    map.remove("text");
                }
                if map.contains_key("system") && map.contains_key("code") {
                    map.remove("display");
                }
                for (_, child) in map.iter_mut() {
                    minify(child, false);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| minify(i, false)),
            _ => {}
        }
    }
    let entries: Vec<serde_json::Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut v: serde_json::Value = serde_json::from_slice(&r.bytes).unwrap_or_default();
            minify(&mut v, true);
            json!({"fullUrl": format!("resource:{i}"), "resource": v})
        })
        .collect();
    let payload = json!({
        "iss": "https://amanat.example.org/issuer",
        "nbf": now(),
        "vc": {"type": ["https://smarthealth.cards#health-card"],
               "credentialSubject": {"fhirVersion": "4.0.1",
                                     "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": entries}}}
    });
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(&serde_json::to_vec(&payload)?)?;
    let compressed = deflate.finish()?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = r#"{"zip":"DEF","alg":"ES256","kid":"3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s"}"#;
    let jws = format!(
        "{}.{}.{}",
        b64.encode(header),
        b64.encode(&compressed),
        b64.encode([7u8; 64])
    );
    let digits: String = jws.bytes().map(|c| format!("{:02}", c - 45)).collect();
    let text = format!("shc:/{digits}");
    let version = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map(|q| match q.version() {
            qrcode::Version::Normal(v) | qrcode::Version::Micro(v) => f64::from(v),
        })
        .unwrap_or(f64::NAN);
    Ok((text.len(), version))
}

/// Plugins: first compile, load from the vault's compiled cache, warm call.
fn plugins(dir: &std::path::Path, report: &mut Report) -> Result<()> {
    use std::sync::{Arc, Mutex};
    use wallet_core::plugin::runtime::{Limits, Runtime};

    report.heading("Plugins");
    // Rust (wit-bindgen), Python (componentize-py) and JavaScript (componentize-js).
    let names = [
        "lab-import",
        "insurer-claim",
        "e-pharmacy",
        "med-reminders",
        "vitals-risk",
    ];
    if !dir.join("lab-import.wasm").exists() {
        anyhow::bail!(
            "no plugins in {}: build them with scripts/build-plugins",
            dir.display()
        );
    }
    let tmp = tempfile::tempdir()?;
    let vault = Arc::new(Mutex::new(new_vault(&tmp.path().join("plugins"), MIN_KDF_LOG_N)?));
    let owner = vault.lock().map_err(|_| anyhow::anyhow!("lock"))?.owner().id;
    for name in names {
        let Ok(bytes) = std::fs::read(dir.join(format!("{name}.wasm"))) else {
            eprintln!("({name} is not built in {}: skipped)", dir.display());
            continue;
        };
        let runtime = Runtime::new(Limits::default())?;
        // A runtime-carrying component takes seconds to compile: once is enough.
        let big = bytes.len() > 4 << 20;
        let rounds = if big { 1 } else { 3 };
        let (compile, _) = time_n(rounds, || Ok(runtime.compile(&bytes)?))?;
        report.add(
            &format!("{name}: first compile ({} KB component)", bytes.len() / 1024),
            ms(compile),
            "ms",
            "(reported)",
        );
        let candidate = wallet_core::plugin::prepare(&runtime, &vault, bytes, false, now())?;
        let installed = candidate.installed.clone();
        wallet_core::plugin::commit(
            &runtime,
            &mut *vault.lock().map_err(|_| anyhow::anyhow!("lock"))?,
            candidate,
        )?;
        // A new runtime has nothing in memory: this is a load from the vault's cache.
        let (load, _) = time_n(9, || {
            let fresh = Runtime::new(Limits::default())?;
            let start = Instant::now();
            fresh.load(&vault, &installed)?;
            Ok(start.elapsed())
        })
        .map(|(_, d)| (d, ()))?;
        report.add(
            &format!("{name}: load from the compiled cache (unseal, deserialize, link)"),
            ms(load),
            "ms",
            if big { "<= 20" } else { "<= 5" },
        );
        let loaded = runtime.load(&vault, &installed)?;
        let (call, _) = time_n(501, || {
            Ok(runtime.call_metadata(&loaded, vault.clone(), owner)?)
        })?;
        report.add(
            &format!("{name}: warm call (fresh Store, instantiate, call)"),
            call.as_secs_f64() * 1e6,
            "µs",
            if big { "<= 2000" } else { "<= 10" },
        );
    }
    Ok(())
}
