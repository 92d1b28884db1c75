//! The doctor's side: `amanat receive` (open and verify a share) and
//! `amanat provider` (an identity and the card patients share to).

use std::io::Write;
use std::path::PathBuf;

use age::secrecy::ExposeSecret;
use anyhow::{Context, Result, bail};
use serde_json::json;
use wallet_core::fhir::{Description, Resource};
use wallet_core::provider::identity::ProviderIdentity;
use wallet_core::qr::Qr;
use wallet_core::relay::RelayError;
use wallet_core::relay::client::Client;
use wallet_core::share::grant::{AccessMode, Grantee, human_time};
use wallet_core::share::link::{Location, ShareLink};
use wallet_core::share::shl::{self, ShlLink};
use wallet_core::share::{self, ShareError};
use wallet_core::vault::DEFAULT_KDF_LOG_N;

use crate::cli::{ProviderCommand, ProviderRequestArgs, ReceiveArgs};
use crate::shares::parse_duration;
use crate::wallet::{CLOCK, now};
use crate::{Failure, data_dir, exit, output, prompt};
use serde::{Deserialize, Serialize};
use wallet_core::provider::request::{self, ConsentRequest};
use wallet_core::share::grant::Purpose;

/// A share-level refusal: its own exit code, its own message.
pub(crate) fn refused(e: impl std::fmt::Display) -> anyhow::Error {
    Failure {
        message: format!("share refused: {e}"),
        code: exit::REFUSED,
    }
    .into()
}

/// Reads the link from the argument, standard input, or a QR image.
fn link_text(args: &ReceiveArgs) -> Result<String> {
    if let Some(path) = &args.qr_image {
        return output::qr_in_image(path).map_err(refused);
    }
    output::scanned(args.link.as_deref(), None, "a link")
}

/// The record in `file`, checked as a wallet would check it before it is
/// signed (one resource or one FHIR document), and its title.
pub(crate) fn record_to_sign(file: &std::path::Path, registry: &str) -> Result<(Resource, String)> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let resource = Resource::from_slice(&bytes).with_context(|| format!("{} is not FHIR", file.display()))?;
    let title = resource
        .describe()
        .with_context(|| format!("{} is not valid FHIR", file.display()))?
        .title;
    if resource.resource_type() == "Bundle" && !wallet_core::fhir::document::is_document(resource.json()) {
        bail!(
            "{} is a Bundle but not a FHIR document: sign each record in it, or a document (Bundle of type document)",
            file.display()
        );
    }
    if registry.trim().is_empty() {
        bail!("--registry names the registry that lists you, as its snapshot names it");
    }
    Ok((resource, title))
}

/// `amanat provider sign-record`: the record checked as a wallet would
/// check it, signed, written as a file and optionally a QR code.
fn sign_record(
    file: &std::path::Path,
    registry: &str,
    out: Option<PathBuf>,
    qr_png: Option<&std::path::Path>,
    identity: &Option<PathBuf>,
) -> Result<()> {
    let (resource, title) = record_to_sign(file, registry)?;
    let id = load_identity(identity)?;
    let text = wallet_core::provider::signed::sign(&resource, &id.signing, &id.card, registry, now());
    let out = out.unwrap_or_else(|| file.with_extension("amanat-record"));
    std::fs::write(&out, format!("{text}\n")).with_context(|| format!("cannot write {}", out.display()))?;
    if let Some(path) = qr_png {
        let qr = Qr::new(&text).map_err(|e| {
            anyhow::anyhow!(
                "{e}: this record is too large for one QR code; give the patient the file {}",
                out.display()
            )
        })?;
        output::write_png(&qr, path)?;
    }
    println!(
        "Signed \u{201c}{}\u{201d} as {} ({}, listed by {}) into {}",
        output::safe(&title),
        id.card.name,
        id.card.registration,
        registry.trim(),
        out.display()
    );
    println!("The patient imports it: amanat import {}", out.display());
    Ok(())
}

pub(crate) fn identity_path(arg: &Option<PathBuf>) -> Result<PathBuf> {
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

pub(crate) fn load_identity(arg: &Option<PathBuf>) -> Result<ProviderIdentity> {
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
    if let Some(id) = &args.request {
        return receive_answer(&args, id);
    }
    let text = link_text(&args)?;
    if shl::is_shl(&text) {
        return receive_shl(&args, &text);
    }
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
            crate::runtime()?
                .block_on(async {
                    Client::new(CLOCK)?
                        .fetch(url, identity.as_ref().map(|i| &i.signing))
                        .await
                })
                .map_err(|e: RelayError| refused(e))?
        }
    };
    let opening_key = identity
        .as_ref()
        .map(|i| share::ProviderKey::of(&i.age))
        .transpose()?;
    let received =
        share::open(&link, &ciphertext, now, opening_key.as_ref(), passcode.as_ref()).map_err(refused)?;
    if identity.is_some() {
        mark_answered(&args.identity, &received.grant.jti, now)?;
    }
    show_received(&args, &received, Some(&link))
}

/// A share to the provider that answers one of their requests (shown back
/// as a QR code) marks that request answered.
fn mark_answered(identity: &Option<PathBuf>, grant_id: &str, now: i64) -> Result<()> {
    let path = identity_path(identity)?;
    let mut outbox = Outbox::load(&path)?;
    if let Ok((sent, _)) = outbox.find(grant_id) {
        sent.answered.get_or_insert(now);
        outbox.save(&path)?;
    }
    Ok(())
}

/// The consent requests and facility cards a provider made, kept beside
/// their identity file (`provider.age.requests.json`): the signed texts (no
/// secret, no health data) and what the relay last said of each request.
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct Outbox {
    requests: Vec<Sent>,
    /// Facility cards (Scan & Share), as signed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) facility_cards: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Sent {
    /// The signed request.
    text: String,
    /// When its answer was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answered: Option<i64>,
    /// Whether the relay said the patient revoked the answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    revoked: bool,
}

impl Outbox {
    fn path(identity: &std::path::Path) -> PathBuf {
        PathBuf::from(format!("{}.requests.json", identity.display()))
    }

    pub(crate) fn load(identity: &std::path::Path) -> Result<Outbox> {
        let path = Outbox::path(identity);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is damaged (it lists your consent requests)", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Outbox::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub(crate) fn save(&self, identity: &std::path::Path) -> Result<()> {
        output::write_private(&Outbox::path(identity), &serde_json::to_vec_pretty(self)?)
    }

    /// The request with this id, verified again.
    fn find(&mut self, id: &str) -> Result<(&mut Sent, request::Verified)> {
        for sent in &mut self.requests {
            let verified = request::open(&sent.text)?;
            if verified.request.id == id.trim() {
                return Ok((sent, verified));
            }
        }
        bail!("no consent request '{id}' among yours (see `amanat provider requests`)")
    }
}

/// Where a request the provider made stands, as far as they know.
fn sent_state(sent: &Sent, r: &request::ConsentRequest, now: i64) -> &'static str {
    if sent.revoked {
        "revoked"
    } else if sent.answered.is_some() {
        "granted"
    } else if now >= r.exp {
        "expired"
    } else {
        "requested"
    }
}

/// `amanat provider request`.
fn make_request(args: ProviderRequestArgs) -> Result<()> {
    let purpose = Purpose::parse(&args.purpose).with_context(|| {
        format!(
            "'{}' is not a purpose: use CAREMGT, HPAYMT, PUBHLTH, DSRCH or PATRQT",
            args.purpose
        )
    })?;
    let access = parse_duration(&args.duration)?;
    let answer_within = parse_duration(&args.expires)?;
    let path = identity_path(&args.identity)?;
    let id = load_identity(&args.identity)?;
    let now = now();
    let asked = ConsentRequest {
        v: request::REQUEST_VERSION,
        id: wallet_core::ids::RecordId::random().to_string(),
        from: request::Requester {
            name: id.card.name.clone(),
            registration: id.card.registration.clone(),
            age: id.card.age.clone(),
        },
        types: args.types.iter().map(|t| t.trim().to_string()).collect(),
        since: args.since.clone(),
        purpose,
        access,
        iat: now,
        exp: now + answer_within,
        relay: args.relay.as_deref().map(|r| r.trim_end_matches('/').to_string()),
    };
    asked.check_fields()?;
    let text = asked.sign(&id.signing);
    let qr = Qr::new(&text)?;
    let mut outbox = Outbox::load(&path)?;
    outbox.requests.push(Sent {
        text: text.clone(),
        answered: None,
        revoked: false,
    });
    outbox.save(&path)?;
    if let Some(png) = &args.qr_png {
        output::write_png(&qr, png)?;
    }
    if args.json {
        return output::json(&json!({"id": asked.id, "text": text, "request": asked}));
    }
    output::show_qr(&qr);
    println!("Request {}: {}.", asked.id, asked.describe());
    println!(
        "The patient scans it (amanat requests open) and has until {} to answer.",
        human_time(asked.exp)
    );
    match &asked.relay {
        Some(_) => println!("Once they approve: amanat receive --request {}", asked.id),
        None => println!("Once they approve, they show you a QR code: amanat receive --qr-image FILE"),
    }
    println!("\n{text}");
    Ok(())
}

/// `amanat provider requests`.
fn list_requests(identity: &Option<PathBuf>, json: bool) -> Result<()> {
    let path = identity_path(identity)?;
    let outbox = Outbox::load(&path)?;
    let now = now();
    let mut rows = Vec::new();
    let mut all = Vec::new();
    for sent in &outbox.requests {
        let r = request::open(&sent.text)?.request;
        let state = sent_state(sent, &r, now);
        rows.push(vec![
            r.id.clone(),
            state.to_string(),
            human_time(r.exp),
            format!(
                "{} from {}",
                r.types.join(", "),
                r.since.as_deref().unwrap_or("any date")
            ),
        ]);
        all.push(json!({"id": r.id, "state": state, "request": r, "answered": sent.answered}));
    }
    if json {
        return output::json(&all);
    }
    output::table_or(
        "You have made no consent requests (amanat provider request --types …).",
        &["ID", "STATE", "ANSWER BY", "ASKED"],
        &rows,
    )
}

/// `amanat receive --request ID`: the answer to a request, from its relay.
fn receive_answer(args: &ReceiveArgs, id: &str) -> Result<()> {
    let path = identity_path(&args.identity)?;
    let mut outbox = Outbox::load(&path)?;
    let identity = load_identity(&args.identity)?;
    let now = now();
    let (sent, verified) = outbox.find(id)?;
    let r = &verified.request;
    let Some(relay) = &r.relay else {
        bail!(
            "request {} asked for the answer as a QR code: scan the code the patient shows you (amanat receive --qr-image FILE)",
            r.id
        );
    };
    let url = wallet_core::relay::client::share_url(relay, &r.id);
    let fetched =
        crate::runtime()?.block_on(async { Client::new(CLOCK)?.fetch(&url, Some(&identity.signing)).await });
    let ciphertext = match fetched {
        Ok(bytes) => bytes,
        Err(RelayError::NotFound) => {
            return Err(Failure {
                message: format!(
                    "no answer yet to request {}: the patient has not approved it (a denial sends nothing). It can be answered until {}.",
                    r.id,
                    human_time(r.exp)
                ),
                code: exit::REFUSED,
            }
            .into());
        }
        Err(RelayError::Revoked) => {
            sent.revoked = true;
            outbox.save(&path)?;
            return Err(refused(RelayError::Revoked));
        }
        Err(e) => return Err(refused(e)),
    };
    let received = share::open_answer(
        &ciphertext,
        &r.id,
        &share::ProviderKey::of(&identity.age)?,
        &identity.signing.verifying_key(),
        now,
    )
    .map_err(refused)?;
    sent.answered.get_or_insert(now);
    outbox.save(&path)?;
    show_received(args, &received, None)
}

/// Prints a verified share (and saves it with `--out`): an Amanat link's,
/// or a patient-signed bundle from a SMART Health Link (`link: None`).
fn show_received(args: &ReceiveArgs, received: &share::Received, link: Option<&ShareLink>) -> Result<()> {
    let grant = &received.grant;
    let jws = match link {
        Some(link) => link.signed_grant(Some(grant.records.clone()))?.compact(),
        None => String::new(),
    };
    if let Some(dir) = &args.out {
        if grant.mode != AccessMode::Store {
            return Err(refused(
                "this share is view-only: the patient did not allow storing it (--out)",
            ));
        }
        output::private_dir(dir)?;
        output::write_private(&dir.join("0-Patient.json"), &share::patient::resource(grant))?;
        for r in &received.records {
            let path = dir.join(format!("{}-{}.json", r.granted.id, r.granted.resource_type));
            output::write_private(&path, &r.resource.to_bytes())?;
        }
        // A provider's signature is kept too: evidence of who wrote it.
        for r in &received.records {
            if let Some(signature) = &r.signature {
                let path = dir.join(format!("{}-{}.signature", r.granted.id, r.granted.resource_type));
                output::write_private(&path, signature.as_bytes())?;
            }
        }
        if !jws.is_empty() {
            output::write_private(&dir.join("grant.jws"), jws.as_bytes())?;
        }
    }
    if args.json {
        let records: Vec<_> = received
            .records
            .iter()
            .map(|r| r.resource.json().clone())
            .collect();
        let signers: Vec<_> = received.records.iter().map(|r| &r.signer).collect();
        let issuers: Vec<_> = received.records.iter().map(|r| &r.issued_by).collect();
        let patient: serde_json::Value = serde_json::from_slice(&share::patient::resource(grant))?;
        return output::json(&json!({
            "grant": grant,
            "patient": patient,
            "jws": jws,
            "wallet_id": received.wallet_id.to_string(),
            "records": records,
            "signed_by": signers,
            "issued_by": issuers,
        }));
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "VERIFIED share from {} (wallet {})",
        output::safe(&grant.patient),
        received.wallet_id
    )?;
    if let Some(who) = &grant.subject {
        writeln!(out, "  patient: {}", output::safe(&who.describe(CLOCK.now())))?;
    }
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
        record_line(&mut out, &r.resource, &r.description)?;
        if let Some(about) = &r.granted.about {
            writeln!(out, "{:34}! from a file about {}", "", output::safe(about))?;
        }
        if let Some(signer) = &r.signer {
            writeln!(
                out,
                "{:34}✓ signed by {}, signature verified (key {})",
                "",
                output::safe(&signer.to_string()),
                signer.key
            )?;
        }
        if let Some(issued) = &r.issued_by {
            writeln!(
                out,
                "{:34}✓ issued by {} on a SMART Health Card, signature verified (key {})",
                "",
                output::safe(&issued.issuer),
                issued.kid
            )?;
        }
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

/// One record as `receive` lists it: date, type, title; a document's
/// entries beneath it, section by section.
fn record_line(out: &mut impl Write, resource: &Resource, description: &Description) -> Result<()> {
    let resource_type = resource.resource_type();
    let date = description
        .date
        .as_ref()
        .map(|d| d.day().to_string())
        .unwrap_or_else(|| "—".into());
    writeln!(
        out,
        "  {date:<10}  {:<20} {}",
        output::safe(resource_type),
        output::safe(&description.title)
    )?;
    for section in wallet_core::fhir::document::outline(resource)
        .into_iter()
        .flat_map(|o| o.sections)
    {
        writeln!(out, "{:34}{}", "", output::safe(&section.title))?;
        for entry in &section.entries {
            writeln!(out, "{:34}  └ {}", "", output::safe(&entry.title))?;
            for result in &entry.results {
                writeln!(out, "{:34}      {}", "", output::safe(result))?;
            }
        }
    }
    Ok(())
}

/// Opens a SMART Health Link: fetches its manifest (asking for the passcode
/// of a `P` link), decrypts its files, verifies a patient-signed bundle like
/// an Amanat share, and shows anything else as not signed by a patient wallet.
fn receive_shl(args: &ReceiveArgs, text: &str) -> Result<()> {
    let link = ShlLink::decode(text).map_err(refused)?;
    let now = now();
    link.check_time(now).map_err(refused)?;
    let passcode = if link.flags.passcode {
        Some(prompt::existing(
            "AMANAT_SHARE_PASSCODE",
            "The passcode for this SMART Health Link: ",
        )?)
    } else {
        None
    };
    let recipient = args.recipient.clone().unwrap_or_else(|| "Amanat receive".into());
    let files = crate::runtime()?
        .block_on(shl::fetch::files(
            &link,
            &recipient,
            passcode.as_ref().map(|p| p.expose_secret()),
            now,
        ))
        .map_err(refused)?;
    let opened = shl::open_files(&link, &files, now).map_err(refused)?;
    if let [received] = &opened.signed[..]
        && opened.unsigned.is_empty()
    {
        return show_received(args, received, None);
    }
    if args.out.is_some() {
        return Err(refused(
            "--out saves only a share whose patient allowed storing it; this link holds records no patient wallet signed",
        ));
    }
    if args.json {
        let signed: Vec<_> = opened
            .signed
            .iter()
            .map(|r| {
                json!({"grant": r.grant, "wallet_id": r.wallet_id.to_string(),
                "records": r.records.iter().map(|x| x.resource.json().clone()).collect::<Vec<_>>()})
            })
            .collect();
        let unsigned: Vec<_> = opened.unsigned.iter().map(|(r, _)| r.json().clone()).collect();
        return output::json(&json!({
            "label": link.label,
            "signed": signed,
            "unsigned": unsigned,
            "notes": opened.notes,
        }));
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "SMART Health Link{} — not signed by a patient wallet",
        link.label
            .as_ref()
            .map(|l| format!(" \"{}\"", output::safe(l)))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "  decrypted and valid FHIR, but no patient's consent grant says these records are theirs\n"
    )?;
    for r in &opened.signed {
        writeln!(
            out,
            "  {} record(s) signed by the wallet of {} ({})",
            r.records.len(),
            output::safe(&r.grant.patient),
            r.wallet_id
        )?;
    }
    for (resource, description) in &opened.unsigned {
        record_line(&mut out, resource, description)?;
    }
    for note in &opened.notes {
        writeln!(out, "  note: {}", output::safe(note))?;
    }
    Ok(())
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
        ProviderCommand::Request(args) => make_request(args),
        ProviderCommand::FacilityCard(args) => crate::facility::card(args),
        ProviderCommand::Inbox {
            day,
            out,
            identity,
            json,
        } => crate::facility::inbox(day.as_deref(), out.as_deref(), &identity, json),
        ProviderCommand::Requests { identity, json } => list_requests(&identity, json),
        ProviderCommand::SignRecord {
            file,
            registry,
            out,
            qr_png,
            identity,
        } => sign_record(&file, &registry, out, qr_png.as_deref(), &identity),
        ProviderCommand::Card {
            identity,
            qr_png,
            json,
        } => {
            let id = load_identity(&identity)?;
            let text = id.card.to_text();
            if let Some(path) = &qr_png {
                output::write_png(&Qr::new(&text)?, path)?;
            }
            if json {
                return output::json(&id.card);
            }
            output::show_qr(&Qr::new(&text)?);
            println!("{} · {}", id.card.name, id.card.registration);
            println!("{text}");
            Ok(())
        }
    }
}
