//! A facility's side of Scan & Share: `amanat provider facility-card` (the
//! signed QR code for a registration counter) and `amanat provider inbox`
//! (the patients who registered, by token). The format is
//! `wallet_core::provider::facility`.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wallet_core::provider::facility::{self, FacilityCard, queue_day, token_id};
use wallet_core::qr::Qr;
use wallet_core::relay::RelayError;
use wallet_core::relay::client::{Client, share_url};
use wallet_core::share;
use wallet_core::share::grant::{duration_words, human_time};

use crate::cli::FacilityCardArgs;
use crate::doctor::{Outbox, identity_path, load_identity, refused};
use crate::output;
use crate::shares::parse_duration;
use crate::wallet::{CLOCK, now};

/// `amanat provider facility-card`.
pub fn card(args: FacilityCardArgs) -> Result<()> {
    let path = identity_path(&args.identity)?;
    let id = load_identity(&args.identity)?;
    let facility_id = args.facility_id.unwrap_or_else(|| id.card.registration.clone());
    if !facility_id.trim().eq_ignore_ascii_case(&id.card.registration) {
        bail!(
            "your identity is registered as {}: a registry lists the facility by that id with this key. \
             Make the facility its own identity: amanat provider init --name \"…\" --registration {} --identity FILE",
            id.card.registration,
            facility_id.trim()
        );
    }
    let now = now();
    let card = FacilityCard {
        v: facility::FACILITY_VERSION,
        // 16 random bytes, base64url: 22 characters.
        id: wallet_core::share::shl::new_grant_id().chars().take(22).collect(),
        facility: facility::Facility {
            name: args.name.trim().to_string(),
            id: id.card.registration.clone(),
            counter: args.counter.map(|c| c.trim().to_string()),
        },
        age: id.card.age.clone(),
        relay: args.relay.trim_end_matches('/').to_string(),
        access: parse_duration(&args.duration)?,
        iat: now,
        exp: now + parse_duration(&args.valid)?,
    };
    card.check_fields()?;
    let text = card.sign(&id.signing);
    let qr = Qr::new(&text)?;
    let mut outbox = Outbox::load(&path)?;
    outbox.facility_cards.push(text.clone());
    outbox.save(&path)?;
    if let Some(png) = &args.qr_png {
        output::write_png(&qr, png)?;
    }
    if args.json {
        return output::json(&json!({"id": card.id, "text": text, "card": card}));
    }
    output::show_qr(&qr);
    println!(
        "Facility card {} for {}, valid until {}.",
        card.id,
        card.place(),
        human_time(card.exp)
    );
    println!(
        "Patients scan it (amanat scan-share, or the web wallet's Requests page); you read their details for {}:",
        duration_words(card.access)
    );
    println!("  amanat provider inbox\n\n{text}");
    Ok(())
}

/// One arrival as the inbox lists it.
struct Arrival {
    token: u32,
    card: String,
    place: String,
    /// `arrived`, `withdrawn` (revoked by the patient), `expired`, or
    /// `refused` (not a registration for this key).
    state: &'static str,
    arrived: Option<i64>,
    name: String,
    details: String,
    patient: Option<serde_json::Value>,
}

/// `amanat provider inbox`: every card's queue on `day`, token by token
/// until the first token no one took.
pub fn inbox(
    day: Option<&str>,
    out: Option<&Path>,
    identity: &Option<std::path::PathBuf>,
    json: bool,
) -> Result<()> {
    let path = identity_path(identity)?;
    let outbox = Outbox::load(&path)?;
    let id = load_identity(identity)?;
    let now = now();
    let day = match day {
        Some(d) => {
            wallet_core::fhir::date::parse_bound(d, false)
                .with_context(|| format!("--day '{d}' is not a date"))?;
            d.replace('-', "")
        }
        None => queue_day(now),
    };
    if outbox.facility_cards.is_empty() {
        bail!("you have made no facility card: amanat provider facility-card --name … --relay URL");
    }
    let client = Client::new(CLOCK)?;
    let runtime = crate::runtime()?;
    let mut arrivals = Vec::new();
    for text in &outbox.facility_cards {
        let card = facility::open(text)?.card;
        for token in 1..=facility::MAX_TOKEN {
            let share_id = token_id(&card.id, &day, token);
            let url = share_url(&card.relay, &share_id);
            let mut arrival = Arrival {
                token,
                card: card.id.clone(),
                place: card.place(),
                state: "arrived",
                arrived: None,
                name: String::new(),
                details: String::new(),
                patient: None,
            };
            match runtime.block_on(client.fetch(&url, Some(&id.signing))) {
                Err(RelayError::NotFound) => break,
                Err(RelayError::Revoked) => arrival.state = "withdrawn",
                Err(RelayError::Expired) => arrival.state = "expired",
                Err(RelayError::ProviderOnly) => arrival.state = "refused",
                Err(e) => return Err(refused(e)),
                Ok(ciphertext) => {
                    match share::open_answer(
                        &ciphertext,
                        &share_id,
                        &share::ProviderKey::of(&id.age)?,
                        &id.signing.verifying_key(),
                        now,
                    ) {
                        Ok(received) if received.records.is_empty() => {
                            let grant = &received.grant;
                            arrival.arrived = Some(grant.iat);
                            arrival.name = grant.patient.clone();
                            arrival.details = grant
                                .subject
                                .as_ref()
                                .map(|s| s.describe(now))
                                .unwrap_or_default();
                            arrival.patient = serde_json::from_slice(&share::patient::resource(grant)).ok();
                        }
                        _ => arrival.state = "refused",
                    }
                }
            }
            arrivals.push(arrival);
        }
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for a in &arrivals {
            if let Some(patient) = &a.patient {
                let file = dir.join(format!("token-{}-Patient.json", a.token));
                output::write_private(&file, &serde_json::to_vec_pretty(patient)?)?;
            }
        }
    }
    if json {
        let rows: Vec<_> = arrivals
            .iter()
            .map(|a| {
                json!({"token": a.token, "card": a.card, "at": a.place, "state": a.state,
                       "arrived": a.arrived, "name": a.name, "details": a.details, "patient": a.patient})
            })
            .collect();
        return output::json(&rows);
    }
    let table: Vec<Vec<String>> = arrivals
        .iter()
        .map(|a| {
            vec![
                a.token.to_string(),
                a.arrived
                    .map(|t| human_time(t)[11..16].to_string())
                    .unwrap_or_else(|| "—".into()),
                match a.state {
                    "arrived" => output::safe(&a.name).into_owned(),
                    "withdrawn" => "(withdrawn by the patient)".into(),
                    "expired" => "(expired)".into(),
                    _ => "(not a registration for you: ignored)".into(),
                },
                output::safe(&a.details).into_owned(),
                output::safe(&a.place).into_owned(),
            ]
        })
        .collect();
    let day = format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]);
    output::table_or(
        &format!("No patient has registered on {day} yet."),
        &["TOKEN", "ARRIVED", "NAME", "DETAILS", "AT"],
        &table,
    )
}
