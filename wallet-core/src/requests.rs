//! Consent requests on the patient's side (docs/consent-requests.md): a
//! provider's request is opened (verified, kept, shown in words with the
//! records it would share), then approved as asked or narrowed (a share to
//! the provider who asked, whose grant id is the request's id) or denied.
//! Where one stands, in ABDM's words: requested, granted, denied, expired,
//! revoked. The CLI and the local server are thin edges over this.

use crate::audit::{Actor, Event};
use crate::contract::{RecordRow, RequestDetail, RequestRow};
use crate::fhir::date::parse_bound;
use crate::ids::ProfileId;
use crate::provider::RegistrySnapshot;
use crate::provider::request::{self, Listing, RequestError, Verified};
use crate::share::grant::AccessMode;
use crate::share::manage::{self, Answering, Created, Prepared, Selection, ShareRequest, SharingError};
use crate::vault::{HeldRequest, MadeShare, Query, Vault, VaultError};

/// Why a request could not be opened or answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestsError {
    /// The request itself was refused.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The wallet failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The share answering it could not be made.
    #[error(transparent)]
    Sharing(#[from] SharingError),
    /// No such request.
    #[error("no consent request '{0}' in this wallet (see `amanat requests`)")]
    NotFound(String),
    /// It was answered already, or expired.
    #[error("request {id} is {state}: only a request still waiting can be approved or denied")]
    Answered {
        /// The request's id.
        id: String,
        /// Where it stands.
        state: &'static str,
    },
    /// What the patient chose cannot be given: more than was asked, a day
    /// that is not a date, or nothing at all.
    #[error("{0}")]
    Choice(String),
    /// Another request came with the same id.
    #[error("a different request with the id {0} is already in this wallet: refused")]
    Conflict(String),
}

/// What the patient agrees to: at most what was asked, each part as asked
/// when `None`.
#[derive(Debug, Clone, Default)]
pub struct Narrowing {
    /// Record types, among those asked.
    pub types: Option<Vec<String>>,
    /// From this day on (`YYYY-MM-DD`), not before what was asked.
    pub since: Option<String>,
    /// For how long (seconds), not longer than asked.
    pub seconds: Option<i64>,
    /// Answer with a QR code shown back, even when the request names a relay.
    pub offline: bool,
}

/// A kept request, verified again (it was when it came; the registries
/// trusted may have changed since).
struct Kept {
    held: HeldRequest,
    verified: Verified,
    listing: Option<Listing>,
}

fn kept(registries: &[RegistrySnapshot], held: HeldRequest) -> Result<Kept, RequestsError> {
    let verified = request::open(&held.text)?;
    // A registry trusted since that lists the registration with another
    // key makes the request unanswerable; the list still shows it.
    let listing = verified.listing(registries).ok();
    Ok(Kept {
        held,
        verified,
        listing,
    })
}

/// Where a request stands: the share answering it says granted, revoked
/// or expired; otherwise denied, expired, or still requested.
fn state(kept: &Kept, share: Option<&MadeShare>, now: i64) -> &'static str {
    match share {
        Some(share) => match manage::status_word(share, now) {
            "active" => "granted",
            other => other,
        },
        None if kept.held.denied.is_some() => "denied",
        None if now >= kept.verified.request.exp => "expired",
        None => "requested",
    }
}

fn row(kept: &Kept, share: Option<&MadeShare>, now: i64) -> RequestRow {
    let r = &kept.verified.request;
    RequestRow {
        id: r.id.clone(),
        from: format!("{} ({})", r.from.name, r.from.registration),
        listed_by: match &kept.listing {
            Some(Listing::Yes { registry }) => Some(registry.clone()),
            _ => None,
        },
        asked: r.describe(),
        purpose: r.purpose.code().into(),
        state: state(kept, share, now).into(),
        received: kept.held.received,
        expires: r.exp,
    }
}

fn share_of<'a>(shares: &'a [MadeShare], id: &str) -> Option<&'a MadeShare> {
    shares.iter().find(|s| s.id == id)
}

/// Who asks, for the audit log: name, registration, registry or not.
fn from_words(kept: &Kept) -> String {
    let r = &kept.verified.request;
    match &kept.listing {
        Some(Listing::Yes { registry }) => {
            format!("{} ({}, listed by {registry})", r.from.name, r.from.registration)
        }
        _ => format!(
            "{} ({}, in no registry you trust)",
            r.from.name, r.from.registration
        ),
    }
}

/// Opens a request's text: verified, in force, its provider checked against
/// the registries the patient trusts, kept with an audit entry. Opening
/// the same request again shows it again.
pub fn open(
    vault: &mut Vault,
    text: &str,
    profile: ProfileId,
    now: i64,
) -> Result<RequestDetail, RequestsError> {
    let verified = request::open(text)?;
    verified.request.check_time(now)?;
    let listing = verified.listing(&vault.registry_snapshots()?)?;
    let id = verified.request.id.clone();
    match vault.request(&id)? {
        Some(held) if held.text != verified.text => return Err(RequestsError::Conflict(id)),
        Some(_) => {}
        None => {
            let held = HeldRequest {
                id: id.clone(),
                text: verified.text.clone(),
                received: now,
                denied: None,
            };
            let kept = Kept {
                held: held.clone(),
                verified,
                listing: Some(listing),
            };
            let event = Event::RequestReceived {
                request: id.clone(),
                from: from_words(&kept),
                asked: kept.verified.request.describe(),
            };
            vault.hold_request(&held, event)?;
        }
    }
    detail(vault, &id, profile, now)
}

/// Every request opened, newest first.
pub fn list(vault: &Vault, now: i64) -> Result<Vec<RequestRow>, RequestsError> {
    let shares = vault.shares()?;
    // Each trusted snapshot's signature is verified once for the whole list.
    let registries = vault.registry_snapshots()?;
    vault
        .requests()?
        .into_iter()
        .map(|held| {
            let kept = kept(&registries, held)?;
            Ok(row(&kept, share_of(&shares, &kept.held.id), now))
        })
        .collect()
}

fn find(vault: &Vault, id: &str) -> Result<Kept, RequestsError> {
    let held = vault
        .request(id.trim())?
        .ok_or_else(|| RequestsError::NotFound(id.trim().to_string()))?;
    kept(&vault.registry_snapshots()?, held)
}

/// The request `id`, if it still waits for an answer.
fn waiting(vault: &Vault, id: &str, now: i64) -> Result<Kept, RequestsError> {
    let kept = find(vault, id)?;
    let shares = vault.shares()?;
    match state(&kept, share_of(&shares, &kept.held.id), now) {
        "requested" => Ok(kept),
        state => Err(RequestsError::Answered {
            id: kept.held.id.clone(),
            state,
        }),
    }
}

/// The records that `types` and `since` (`YYYY-MM-DD`) cover.
fn covered(types: &[String], since: Option<&str>) -> Result<Selection, RequestsError> {
    Ok(Selection {
        types: types.to_vec(),
        since: since.map(bound).transpose()?,
        ..Selection::default()
    })
}

/// One request in full, with the records of `profile` it covers as asked.
pub fn detail(vault: &Vault, id: &str, profile: ProfileId, now: i64) -> Result<RequestDetail, RequestsError> {
    let kept = find(vault, id)?;
    let shares = vault.shares()?;
    let share = share_of(&shares, &kept.held.id);
    let r = &kept.verified.request;
    let selection = covered(&r.types, r.since.as_deref())?;
    let matching = vault
        .list(&Query {
            profile: Some(profile),
            types: selection.types,
            since: selection.since,
            ..Query::default()
        })?
        .iter()
        .map(RecordRow::from)
        .collect();
    Ok(RequestDetail {
        row: row(&kept, share, now),
        types: r.types.clone(),
        since: r.since.clone(),
        access: r.access,
        relay: r.relay.clone(),
        key: kept.verified.key_thumbprint(),
        matching,
        share: share.map(|s| manage::row(s, now, true)),
    })
}

/// The share answering a request as `narrowing` narrows it: checked, made
/// and sealed, not yet uploaded (the edge uploads it to the request's relay
/// and calls [`finish`]).
pub fn approve(
    vault: &Vault,
    id: &str,
    profile: ProfileId,
    narrowing: &Narrowing,
    now: i64,
) -> Result<Prepared, RequestsError> {
    let kept = waiting(vault, id, now)?;
    let r = &kept.verified.request;
    let registry = match kept.verified.listing(&vault.registry_snapshots()?)? {
        Listing::Yes { registry } => Some(registry),
        Listing::No => None,
    };
    let types = match &narrowing.types {
        Some(types) if !types.is_empty() => {
            for t in types {
                if !r.types.iter().any(|asked| asked.eq_ignore_ascii_case(t)) {
                    return Err(RequestsError::Choice(format!(
                        "{t} was not asked for: choose among {}",
                        r.types.join(", ")
                    )));
                }
            }
            types.clone()
        }
        _ => r.types.clone(),
    };
    let since = match (&narrowing.since, &r.since) {
        (Some(given), Some(asked)) if bound(given)? < bound(asked)? => {
            return Err(RequestsError::Choice(format!(
                "the request asks for records from {asked}: you can share from then or later, not from {given}"
            )));
        }
        (Some(given), _) => Some(given.clone()),
        (None, asked) => asked.clone(),
    };
    let seconds = narrowing.seconds.unwrap_or(r.access);
    if seconds > r.access {
        return Err(RequestsError::Choice(format!(
            "access is asked for {}: you can give that or less, not {}",
            crate::share::grant::duration_words(r.access),
            crate::share::grant::duration_words(seconds)
        )));
    }
    let selection = covered(&types, since.as_deref())?;
    let query = Query {
        profile: Some(profile),
        types: selection.types.clone(),
        since: selection.since,
        limit: Some(1),
        ..Query::default()
    };
    if vault.list(&query)?.is_empty() {
        return Err(RequestsError::Choice(
            "none of this profile's records are of the types and dates asked: nothing to share (deny it, or choose another profile)".into(),
        ));
    }
    let request = ShareRequest {
        profile,
        selection,
        purpose: r.purpose,
        mode: AccessMode::View,
        seconds,
        to: None,
        uses: None,
        passcode: None,
        relay: if narrowing.offline { None } else { r.relay.clone() },
        viewer: None,
        shl: None,
        answering: Some(Answering {
            request: r.id.clone(),
            card: r.card(&kept.verified.key),
            registry,
        }),
    };
    Ok(manage::prepare(vault, request, now)?)
}

fn bound(day: &str) -> Result<i64, RequestsError> {
    parse_bound(day, false).map_err(|e| RequestsError::Choice(e.to_string()))
}

/// Keeps the approved share (uploaded to `relay_url` when it has one) and
/// writes the approval in the audit log.
pub fn finish(
    vault: &mut Vault,
    prepared: Prepared,
    relay_url: Option<String>,
    now: i64,
) -> Result<Created, RequestsError> {
    let id = prepared.sealed.grant().jti.clone();
    let kept = find(vault, &id)?;
    let created = manage::finish(vault, prepared, relay_url, now)?;
    vault.audit(
        Actor::Patient,
        Event::RequestGranted {
            request: id,
            from: from_words(&kept),
            records: created.records.len() as u64,
        },
    )?;
    Ok(created)
}

/// Denies a request still waiting, with its audit entry.
pub fn deny(vault: &mut Vault, id: &str, now: i64) -> Result<RequestRow, RequestsError> {
    let mut kept = waiting(vault, id, now)?;
    kept.held.denied = Some(now);
    let event = Event::RequestDenied {
        request: kept.held.id.clone(),
        from: from_words(&kept),
    };
    vault.hold_request(&kept.held, event)?;
    Ok(row(&kept, None, now))
}
