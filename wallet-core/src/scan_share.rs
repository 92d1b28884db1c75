//! Scan & Share on the patient's side (docs/scan-share.md): a facility's
//! card is verified and shown (which facility, listed by which registry the
//! patient trusts, what would be given); on approval the profile's details
//! alone (name, birth date, gender, national IDs, phone: the grant's
//! subject, no record) are shared to the facility's key through the card's
//! relay, under the first token id free there, which is the patient's token.
//! The CLI and the local server are thin edges over this.

use crate::clock::Clock;
use crate::contract::{CheckedIn, FacilityDetail};
use crate::ids::ProfileId;
use crate::provider::Listing;
use crate::provider::facility::{self, FacilityError, MAX_TOKEN, Verified, queue_day, token_id};
use crate::relay::RelayError;
use crate::relay::client::{Client, share_url};
use crate::share::grant::{AccessMode, Purpose};
use crate::share::manage::{self, Answering, Prepared, Selection, ShareRequest, SharingError};
use crate::vault::{Vault, VaultError};

/// How many taken tokens one arrival steps over before giving up (others
/// arriving at the same moment take the ids it tries).
const RACE_STEPS: u32 = 50;

/// Why a facility card could not be opened or answered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanShareError {
    /// The card itself was refused.
    #[error(transparent)]
    Card(#[from] FacilityError),
    /// The wallet failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The share could not be made or uploaded.
    #[error(transparent)]
    Sharing(#[from] SharingError),
    /// The day's queue at this card has no free token left.
    #[error("the queue at {0} is full for today: ask at the counter")]
    QueueFull(String),
}

impl From<RelayError> for ScanShareError {
    fn from(e: RelayError) -> ScanShareError {
        ScanShareError::Sharing(SharingError::Relay(e))
    }
}

/// A card verified, in force, and its facility looked up in the registries
/// the patient trusts (a registry listing its id with another key refuses it).
pub struct Opened {
    /// The card.
    pub verified: Verified,
    /// The trusted registry that lists the facility, if any.
    pub registry: Option<String>,
}

/// Opens a card's text.
pub fn open(vault: &Vault, text: &str, now: i64) -> Result<Opened, ScanShareError> {
    let verified = facility::open(text)?;
    verified.card.check_time(now)?;
    let registry = match verified.listing(&vault.registry_snapshots()?)? {
        Listing::Yes { registry } => Some(registry),
        Listing::No => None,
    };
    Ok(Opened { verified, registry })
}

/// What the patient is shown before agreeing: the facility, and what of
/// `profile` would be given.
pub fn detail(
    vault: &Vault,
    opened: &Opened,
    profile: ProfileId,
    now: i64,
) -> Result<FacilityDetail, ScanShareError> {
    let card = &opened.verified.card;
    let profile = manage::profile_of(vault, profile)?;
    Ok(FacilityDetail {
        facility: card.facility.name.clone(),
        facility_id: card.facility.id.clone(),
        counter: card.facility.counter.clone(),
        listed_by: opened.registry.clone(),
        key: opened.verified.key_thumbprint(),
        relay: card.relay.clone(),
        access: card.access,
        expires: card.exp,
        patient: profile.name.clone(),
        // The very subject the share's grant will carry.
        details: manage::subject_of(profile, true)
            .map(|s| s.describe(now))
            .unwrap_or_default(),
    })
}

/// The share of `profile`'s details for token `token` (sealed, not uploaded).
pub fn prepare(
    vault: &Vault,
    opened: &Opened,
    profile: ProfileId,
    token: u32,
    now: i64,
) -> Result<Prepared, ScanShareError> {
    let card = &opened.verified.card;
    let request = ShareRequest {
        profile,
        selection: Selection {
            details_only: true,
            ..Selection::default()
        },
        purpose: Purpose::CareManagement,
        mode: AccessMode::View,
        seconds: card.access,
        to: None,
        uses: None,
        passcode: None,
        relay: Some(card.relay.clone()),
        viewer: None,
        shl: None,
        answering: Some(Answering {
            request: token_id(&card.id, &queue_day(now), token),
            card: card.provider(&opened.verified.key),
            registry: opened.registry.clone(),
        }),
    };
    Ok(manage::prepare(vault, request, now)?)
}

/// The first token no one took yet in `day`'s queue (`YYYYMMDD`) at the
/// card's relay: doubling past the taken ones, then halving back (tokens are
/// taken in order, so the taken ones are a prefix); a few requests for any
/// queue.
pub async fn first_free(opened: &Opened, day: &str, clock: Clock) -> Result<u32, ScanShareError> {
    let card = &opened.verified.card;
    let client = Client::new(clock)?;
    let taken = async |n: u32| {
        client
            .holds(&share_url(&card.relay, &token_id(&card.id, day, n)))
            .await
    };
    let (mut free_above, mut free) = (0, 1);
    while taken(free).await? {
        if free == MAX_TOKEN {
            return Err(ScanShareError::QueueFull(card.place()));
        }
        free_above = free;
        free = (free * 2).min(MAX_TOKEN);
    }
    // Taken at `free_above` (or nothing taken), free at `free`.
    while free - free_above > 1 {
        let mid = free_above + (free - free_above) / 2;
        if taken(mid).await? {
            free_above = mid;
        } else {
            free = mid;
        }
    }
    Ok(free)
}

/// Uploads the details under the first free token of the queue of `now`'s
/// day, stepping to the next when someone arriving at the same moment took
/// it; `prepare(token)` seals the share for a token at `now` (the caller
/// holds the vault). Returns the token, the share and its URL at the relay.
pub async fn deliver(
    opened: &Opened,
    now: i64,
    mut prepare: impl FnMut(u32) -> Result<Prepared, ScanShareError>,
    clock: Clock,
) -> Result<(u32, Prepared, String), ScanShareError> {
    let mut token = first_free(opened, &queue_day(now), clock).await?;
    for _ in 0..RACE_STEPS {
        let prepared = prepare(token)?;
        match manage::upload(&prepared, clock).await {
            Ok(url) => return Ok((token, prepared, url.unwrap_or_default())),
            Err(SharingError::Relay(RelayError::Taken)) if token < MAX_TOKEN => token += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ScanShareError::QueueFull(opened.verified.card.place()))
}

/// Keeps the share of an arrival (listed, revocable, in the audit log as a
/// share to the facility with no record) and says the token.
pub fn finish(
    vault: &mut Vault,
    opened: &Opened,
    token: u32,
    prepared: Prepared,
    url: String,
    now: i64,
) -> Result<CheckedIn, ScanShareError> {
    let created = manage::finish(vault, prepared, Some(url), now)?;
    let day = queue_day(created.grant.created);
    Ok(CheckedIn {
        token,
        day: format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]),
        facility: opened.verified.card.place(),
        share: manage::row(&created.grant, now, false),
    })
}
